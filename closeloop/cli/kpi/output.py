"""How `kpi show` prints: a table for people, JSON lines or CSV for programs."""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

import click

from kpi.figures import FIGURES
from kpi.service import Result


def _dimensions(result: Result) -> list[str]:
    return list(result.rows[0].group) if result.rows else []


def write_json(result: Result) -> None:
    click.echo(json.dumps({"as_of": result.as_of.to_json()}))
    for row in result.rows:
        click.echo(json.dumps({"group": row.group, "figures": _numbers(row.figures)}))


def _numbers(figures: dict[str, float | None]) -> dict[str, Any]:
    """Counts as integers; absent figures as null."""
    out: dict[str, Any] = {}
    for name, value in figures.items():
        out[name] = (
            int(value) if value is not None and value.is_integer() and _is_count(name) else value
        )
    return out


def _is_count(name: str) -> bool:
    return not name.endswith(("_pct", "_d", "_h", "_mean", "_units")) and name != "nps"


def write_csv(result: Result) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    dims = _dimensions(result)
    writer.writerow([*dims, *(f.name for f in FIGURES)])
    for row in result.rows:
        values = _numbers(row.figures)
        writer.writerow(
            [*(row.group[d] for d in dims), *("" if v is None else v for v in values.values())]
        )


def write_table(result: Result) -> None:
    as_of = result.as_of
    covered = as_of.checkpoint
    click.echo(f"as_of: tree size {as_of.tree_size}, root {as_of.root_hash}")
    if covered is None:
        click.echo("       no signed checkpoint yet")
    else:
        click.echo(
            f"       latest signed checkpoint {covered.label} (tree size {covered.tree_size})"
        )
    for row in result.rows:
        label = ", ".join(f"{k}={v}" for k, v in row.group.items()) or "all complaints"
        click.echo(f"\n{label}")
        for name, value in _numbers(row.figures).items():
            click.echo(f"  {name:<30} {'—' if value is None else value}")
