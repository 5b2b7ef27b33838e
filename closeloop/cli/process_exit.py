"""Ending a command that used a Temporal client without the interpreter's teardown.

The client's Rust core keeps threads of its own; when the interpreter finalizes while they
run, the process can abort with SIGABRT (temporalio/sdk-python#300), turning a success into
exit status -6 (134 in a shell). Still seen with temporalio 1.x here, so a command run as
`closeloop …` flushes its output and leaves with `os._exit` and the status it chose.
In-process callers (tests with click's CliRunner) get ordinary click behaviour.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from closeloop.cli.exit_status import ExitStatus


def run_then_exit(run: Callable[[], None]) -> None:
    if not is_cli_process():
        run()
        return
    code: int = ExitStatus.OK
    try:
        run()
    except click.ClickException as error:
        error.show()
        code = error.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        code = ExitStatus.INTERRUPTED
    except click.exceptions.Exit as done:
        code = done.exit_code
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a closed pipe (`| head`): nothing left to say
            stream.flush()
    os._exit(code)


def is_cli_process() -> bool:
    """True in a `closeloop …` process, false when the CLI is imported (tests, CliRunner)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return getattr(spec, "name", None) == "closeloop.__main__" or (
        Path(sys.argv[0]).name == "closeloop"
    )
