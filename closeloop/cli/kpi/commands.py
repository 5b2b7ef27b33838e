"""The subcommands: options here, the work in `kpi.service`, output in `output`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from closeloop.cli.kpi.computing import compute, problems
from closeloop.cli.kpi.errors import UsageProblem

DIMENSIONS = (
    "product",
    "category",
    "channel",
    "severity",
    "source",
    "reportable",
    "month",
    "quarter",
)


def _day(option: str) -> Any:
    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise UsageProblem(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None

    return convert


def _source_options(command: Any) -> Any:
    command = click.option(
        "--bundle",
        type=click.Path(path_type=Path, file_okay=False),
        help="Recompute from an export bundle (closeloop audit export) instead of the log.",
    )(command)
    return click.option(
        "--retention-days",
        type=click.IntRange(1, 3650),
        default=90,
        show_default=True,
        help="Window after closure in which customer activity counts as retained.",
    )(command)


def _range_options(command: Any) -> Any:
    for option in reversed(
        [
            click.option("--from", "start", callback=_day("--from"), help="First day (UTC)."),
            click.option("--to", "end", callback=_day("--to"), help="Last day, included."),
            click.option(
                "--by",
                "by",
                multiple=True,
                metavar="|".join(DIMENSIONS),
                help="Group by a dimension; repeat for several.",
            ),
        ]
    ):
        command = option(command)
    return command


@click.command()
@_range_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line: as_of, groups.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: one row per group.")
@_source_options
def show(
    start: date | None,
    end: date | None,
    by: tuple[str, ...],
    as_json: bool,
    as_csv: bool,
    bundle: Path | None,
    retention_days: int,
) -> None:
    """One row per group with every figure; absent (empty) where a denominator is empty."""
    if as_json and as_csv:
        raise UsageProblem("--json and --csv: choose one output format")
    from closeloop.cli.kpi import output

    result = compute(bundle, retention_days, start=start, end=end, by=list(by))
    if as_json:
        output.write_json(result)
    elif as_csv:
        output.write_csv(result)
    else:
        output.write_table(result)


@click.command()
@click.argument("name")
@_range_options
@click.option(
    "--group",
    "group",
    multiple=True,
    metavar="DIMENSION=VALUE",
    help="Only the group with this value (with --by); repeat for several dimensions.",
)
@_source_options
def explain(
    name: str,
    start: date | None,
    end: date | None,
    by: tuple[str, ...],
    group: tuple[str, ...],
    bundle: Path | None,
    retention_days: int,
) -> None:
    """The numerator, the denominator and the audit entries (seqs) behind figure NAME."""
    import json

    from kpi import service

    wanted: dict[str, str] = {}
    for item in group:
        dimension, sep, value = item.partition("=")
        if not sep or not dimension:
            raise UsageProblem(f"--group {item!r} is not DIMENSION=VALUE (e.g. product=mixer)")
        wanted[dimension] = value
    by_all = list(dict.fromkeys([*by, *wanted]))
    result = compute(bundle, retention_days, start=start, end=end, by=by_all, evidence=True)
    with problems():
        explained = service.explain(result, name, wanted)
    click.echo(json.dumps({"as_of": result.as_of.to_json()}))
    for found in explained:
        click.echo(json.dumps(found))


@click.command()
@click.option("--period", required=True, help="The review period: 2026-Q3, 2026-07 or 2026.")
@click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Folder."
)
@click.option("--pdf", is_flag=True, help="Also print the report to PDF (headless Chromium).")
@_source_options
def report(period: str, out: Path, pdf: bool, bundle: Path | None, retention_days: int) -> None:
    """The management-review pack: one self-contained HTML file (and a PDF with --pdf)."""
    from closeloop.cli.kpi import pack

    with problems():
        written = pack.write(period, out, pdf=pdf, bundle=bundle, retention_days=retention_days)
    for path in written:
        click.echo(str(path))
