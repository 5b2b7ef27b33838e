"""Every command in the command table answers --help, and bad arguments never end in a
traceback: each is a usage error (exit 2) that names the option.

The commands are found by walking `closeloop.cli.COMMANDS` and every group below it, so a
command added later is covered without touching this test.
"""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from closeloop.cli import COMMANDS, main
from closeloop.cli.exit_status import ExitStatus


def walk(
    command: click.Command, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{' '.join(path)} lists {name} but cannot load it"
            yield from walk(sub, (*path, name))


def every_command() -> list[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(main)
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert command is not None, name
        found.extend(walk(command, (name,)))
    return found


EVERY = every_command()
IDS = [" ".join(path) for path, _ in EVERY]


def invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(
        main, list(args), prog_name="closeloop", env={"CLOSELOOP_HOME": "/nonexistent/closeloop"}
    )


def assert_no_traceback(result: click.testing.Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


@pytest.mark.parametrize(("path", "command"), EVERY, ids=IDS)
def test_help(path, command):
    for flag in ("--help", "-h"):
        result = invoke(*path, flag)
        assert result.exit_code == ExitStatus.OK, result.output
        assert result.output.startswith(f"Usage: closeloop {' '.join(path)}")
        assert_no_traceback(result)


@pytest.mark.parametrize(("path", "command"), EVERY, ids=IDS)
def test_an_unknown_option_is_a_usage_error(path, command):
    result = invoke(*path, "--no-such-option")
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert "No such option: --no-such-option" in result.output
    assert_no_traceback(result)


def typed_options() -> list[tuple[tuple[str, ...], str]]:
    """(command path, option) for every option whose value is checked (not free text)."""
    found: list[tuple[tuple[str, ...], str]] = []
    for path, command in EVERY:
        for param in command.params:
            if (
                isinstance(param, click.Option)
                and not param.is_flag
                and param.nargs == 1
                and param.type not in (click.STRING, click.UNPROCESSED)
                and not isinstance(param.type, click.Path)
            ):
                found.append((path, param.opts[0]))
    return found


TYPED = typed_options()


def test_there_are_typed_options_to_check():
    assert len(TYPED) >= 15


@pytest.mark.parametrize(("path", "option"), TYPED, ids=[f"{' '.join(p)} {o}" for p, o in TYPED])
def test_a_bad_value_names_its_option(path, option):
    result = invoke(*path, option, "not-a-valid-value")
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert option in result.output or "Missing" in result.output, result.output
    assert_no_traceback(result)
