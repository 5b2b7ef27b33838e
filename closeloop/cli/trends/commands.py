"""The subcommands: options here, the work in `trends.run` and `trends.records`, output in
`output`. Exit statuses as everywhere (closeloop/cli/exit_status.py): 1 no such signal,
2 bad input or plan, 3 the database or the broker did not answer."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from closeloop.cli.errors import CannotCheck, NotFound, Unreachable
from closeloop.cli.options import Day, When

SIGNAL_ID = re.compile(r"^sig-[0-9a-f]{16}$")


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _plan(path: Path | None) -> tuple[Any, str]:
    """The plan from --plan, else CLOSELOOP_MONITORING_PLAN, else the built-in one."""
    from base.settings import load_settings
    from trends.plan import PlanError, load_plan

    chosen = path or load_settings().monitoring_plan
    try:
        return load_plan(chosen), str(chosen or "built-in")
    except PlanError as exc:
        raise CannotCheck(str(exc)) from None


def _database() -> Any:
    from contextlib import contextmanager

    from sqlalchemy.exc import SQLAlchemyError

    from base.settings import load_settings
    from closeloop.cli.audit.common import database_error, open_log, redacted

    @contextmanager
    def opened() -> Any:
        settings = load_settings()
        log = open_log(settings)
        try:
            yield settings, log
        except SQLAlchemyError as exc:
            raise database_error(exc, redacted(settings.resolved_database_url)) from None
        finally:
            log.dispose()

    return opened()


@click.command()
@click.option(
    "--as-of",
    callback=_day,
    metavar="YYYY-MM-DD",
    help="Judge the complete periods before this day (default: today, UTC).",
)
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Use this plan (TOML or JSON) instead of CLOSELOOP_MONITORING_PLAN.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON lines: the run, then each signal.")
def run(as_of: date | None, plan_path: Path | None, as_json: bool) -> None:
    """Run the trend analysis now: the same computation and audit entries as the schedule.

    Runs in this process (not through the worker), on CLOSELOOP_DATABASE_URL; signals are
    published to quality.signals.v1 unless CLOSELOOP_TRENDS_PUBLISH_SIGNALS=false. New
    signals of rules with open_improvement open their improvements on Temporal
    (CLOSELOOP_TEMPORAL_ADDRESS), as the scheduled run does; with such rules Temporal must
    answer before anything is audited.
    """
    import asyncio

    from base.settings import load_settings
    from closeloop.cli.trends import opening, output
    from closeloop.logging import configure_logging
    from trends import records
    from trends.run import Publishing, analyse

    configure_logging(load_settings())  # to stderr: stdout is for the result
    chosen, source = _plan(plan_path)
    if opening.wants_improvements(chosen):
        asyncio.run(opening.reachable(load_settings()))
    with _database() as (settings, log):
        bootstrap = settings.kafka_bootstrap if settings.trends_publish_signals else None
        publishing = Publishing(bootstrap)
        receipt = analyse(
            log,
            chosen,
            plan_source=source,
            home=settings.home_dir,
            database_label=settings.resolved_database_url,
            run_id=f"cli-{uuid.uuid4().hex[:16]}",
            as_of=as_of,
            publishing=publishing,
        )
        found = {s.signal_id: (e, s) for e, s in records.signals(log)}
        shown = [found[i] for i in receipt.signals if i in found]
    if receipt.improvements:
        opened = asyncio.run(opening.open_all(settings, receipt.improvements))
        receipt.improvements_opened, receipt.improvements_existing = opened.started, opened.existing
    output.write_run(receipt, shown, as_json=as_json)
    if publishing.error:
        raise Unreachable(
            f"{len(publishing.left)} signal(s) audited but not published to "
            f"{settings.kafka_bootstrap}: {publishing.error}; the next run sends them"
        )


@click.command("list")
@click.option("--rule", help="Only signals of this rule.")
@click.option(
    "--since", type=When(Day.START), help="Detected at or after this (a bare date: its start)."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per signal and line.")
def list_command(rule: str | None, since: datetime | None, as_json: bool) -> None:
    """Every signal in the audit log, oldest first."""
    from closeloop.cli.trends import output
    from trends import records

    with _database() as (_settings, log):
        found = records.signals(log)
        sent = records.published_ids(log)
    chosen = [
        (e, s)
        for e, s in found
        if (rule is None or s.rule == rule) and (since is None or s.detected_at >= since)
    ]
    output.write_list(chosen, sent, as_json=as_json)


@click.command()
@click.argument("signal_id")
@click.option("--json", "as_json", is_flag=True, help="The signal as JSON, with its audit entry.")
def show(signal_id: str, as_json: bool) -> None:
    """One signal: its figures, the baseline, the plan in force, and where it was sent."""
    from closeloop.cli.trends import output
    from trends import records

    if not SIGNAL_ID.match(signal_id):
        raise CannotCheck(f"{signal_id!r} is not a signal id (sig- and 16 hex digits)")
    with _database() as (_settings, log):
        found = [(e, s) for e, s in records.signals(log) if s.signal_id == signal_id]
        sent = records.published_ids(log).get(signal_id)
    if not found:
        raise NotFound(f"no signal {signal_id} in the audit log (closeloop trends list)")
    entry, signal = found[0]
    output.write_signal(entry, signal, sent, as_json=as_json)


@click.command()
@click.option(
    "--check",
    "check_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Validate this plan file instead of showing the one in force.",
)
def plan(check_path: Path | None) -> None:
    """The monitoring plan in force (every default filled in) and its hash, as JSON."""
    import json

    chosen, source = _plan(check_path)
    click.echo(
        json.dumps(
            {"source": source, "plan_hash": chosen.content_hash, "plan": chosen.canonical()},
            indent=2,
        )
    )
