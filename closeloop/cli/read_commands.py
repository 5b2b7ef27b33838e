"""How the reading commands (`complaint list|show`, `improvement list|show`) answer.

Both case kinds print a list the same way (JSON lines, a table, or a "none match" line)
and a state the same way (`--json`, or the kind's own screen), each under the exit-status
table of `run_then_exit`; only the fetching and the rendering are the kind's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click
from pydantic import BaseModel

from closeloop.cli.process_exit import run_then_exit

State = TypeVar("State", bound=BaseModel)
Rows = list[dict[str, Any]]


def limit_option(command: Callable[..., None]) -> Callable[..., None]:
    """`--limit`: at most this many rows from visibility."""
    return click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)(
        command
    )


def print_rows(
    fetch: Callable[[], Coroutine[Any, Any, Rows]],
    *,
    as_json: bool,
    table: Callable[[Rows], str],
    none_match: str,
) -> None:
    """Fetch the rows, then print them as JSON lines (`--json`), as `table`, or `none_match`."""

    def run() -> None:
        rows = asyncio.run(fetch())
        if as_json:
            for row in rows:
                click.echo(json.dumps(row, ensure_ascii=False))
        elif rows:
            click.echo(table(rows))
        else:
            click.echo(none_match)

    run_then_exit(run)


def print_state(
    fetch: Callable[[], Coroutine[Any, Any, State]],
    *,
    as_json: bool,
    screen: Callable[[State], None],
) -> None:
    """Fetch one case's state, then print it as JSON (`--json`) or by `screen`."""

    def run() -> None:
        state = asyncio.run(fetch())
        if as_json:
            click.echo(state.model_dump_json(indent=2))
        else:
            screen(state)

    run_then_exit(run)
