"""Errors a command shows instead of a traceback, each with its place in the exit-status table.

click already maps its own usage errors to 2; these cover the rest of `ExitStatus`, so that
every command group says "no" (1), "cannot check" (2) and "service unreachable" (3) alike.
"""

from __future__ import annotations

import click

from closeloop.cli.exit_status import ExitStatus


class Refused(click.ClickException):
    """The answer is no: a decision refused, a thing that does not exist or is closed."""

    exit_code = ExitStatus.REFUSED

    def __init__(self, message: str, *, prefix: str = "refused: ") -> None:
        super().__init__(message)
        self.prefix = prefix

    def format_message(self) -> str:
        return f"{self.prefix}{self.message}"


class NotFound(Refused):
    """No such complaint (or dead letter): the same "no" as a refusal, worded plainly."""

    def __init__(self, message: str) -> None:
        super().__init__(message, prefix="")


class CannotCheck(click.ClickException):
    """The input or the thing to check cannot be read at all (a usage-class error)."""

    exit_code = ExitStatus.USAGE


class Unreachable(click.ClickException):
    """Temporal, Kafka or the database did not answer: look at the services, not the input."""

    exit_code = ExitStatus.UNREACHABLE
