"""Errors of `closeloop kpi`, each with the exit status of closeloop/cli/exit_status.py."""

from __future__ import annotations

import click

from closeloop.cli.exit_status import ExitStatus


class UsageProblem(click.ClickException):
    exit_code = ExitStatus.USAGE


class Unreachable(click.ClickException):
    exit_code = ExitStatus.UNREACHABLE
