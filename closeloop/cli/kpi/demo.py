"""`closeloop demo`: a local stack filled with realistic activity, so the KPIs show something.

Real CFPB complaints (../shared/data/cfpb-complaints.csv) are re-dated into the last 120
days, published to Kafka like any upstream system would, and taken through triage,
investigation, CAPA, verification and closure by Temporal Updates sent by name (the
inputs of schemas.decisions), with surveys and customer activity. A consumer who disputed
the CFPB outcome answers the survey less kindly. Deterministic for a given --seed.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

DEFAULT_CSV = Path("../shared/data/cfpb-complaints.csv")


@dataclass
class Tally:
    started: int = 0
    decisions: int = 0
    refused: int = 0


@click.command()
@click.option("--complaints", "count", type=click.IntRange(1, 1500), default=200, show_default=True)
@click.option(
    "--cfpb",
    "csv_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_CSV,
    show_default=True,
    help="The CFPB complaints CSV.",
)
@click.option("--seed", type=int, default=7, show_default=True)
def demo(count: int, csv_path: Path, seed: int) -> None:
    """Fill the local stack (`closeloop up`) with CFPB complaints and their handling."""
    from closeloop.cli.process_exit import run_then_exit

    events, disputed = _prepare(count, csv_path, seed)
    run_then_exit(lambda: asyncio.run(_run(events, disputed, seed)))


def _prepare(count: int, csv_path: Path, seed: int) -> tuple[list[Any], dict[str, bool]]:
    """The first `count` rows as events re-dated into the last 120 days, and who disputed."""
    import csv

    from closeloop.cfpb import CfpbRowError, complaint_from_row
    from closeloop.cli.kpi.errors import UsageProblem

    if not csv_path.is_file():
        raise UsageProblem(f"--cfpb {csv_path}: no such file")
    rng = random.Random(seed)  # noqa: S311 - demo data, not a secret
    now = datetime.now(UTC)
    events: list[Any] = []
    disputed: dict[str, bool] = {}
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            if len(events) == count:
                break
            try:
                event = complaint_from_row(row, reader.line_num)
            except CfpbRowError as exc:
                raise UsageProblem(f"--cfpb {csv_path}: {exc}") from None
            received = now - timedelta(days=rng.uniform(1, 120))
            events.append(event.model_copy(update={"occurred_at": received}))
            disputed[event.complaint_id] = row.get("Consumer disputed?", "") == "Yes"
    return events, disputed


async def _run(events: list[Any], disputed: dict[str, bool], seed: int) -> None:
    from base.settings import load_settings
    from base.temporal import connect
    from closeloop.cli.kpi.errors import Unreachable
    from closeloop.publisher import publish
    from schemas import topics

    settings = load_settings()
    rng = random.Random(seed + 1)  # noqa: S311 - demo data, not a secret
    try:
        publish(
            settings.kafka_bootstrap,
            topics.COMPLAINTS_RECEIVED,
            [e.model_dump(mode="json", exclude_none=True) for e in events],
        )
    except Exception as exc:
        raise Unreachable(f"cannot publish to Kafka at {settings.kafka_bootstrap}: {exc}") from None
    click.echo(f"published {len(events)} CFPB complaints to {topics.COMPLAINTS_RECEIVED}")
    try:
        client = await connect(settings, budget_s=10)
    except RuntimeError as exc:
        raise Unreachable(f"cannot reach Temporal at {settings.temporal_address}: {exc}") from None
    tally = Tally()
    lanes = asyncio.Semaphore(8)

    async def one(event: Any) -> None:
        async with lanes:
            try:
                await _handle(client, event, disputed[event.complaint_id], rng.random(), tally)
            except Exception as exc:  # one complaint's trouble must not stop the others
                tally.refused += 1
                click.echo(f"{event.complaint_id}: {type(exc).__name__}: {exc}", err=True)

    await asyncio.gather(*(one(e) for e in events))
    click.echo(
        f"{tally.decisions} decisions and facts sent, {tally.refused} refused; "
        "see `closeloop kpi show --by month`"
    )


async def _handle(client: Any, event: Any, disputed: bool, luck: float, tally: Tally) -> None:
    from closeloop.cli.kpi.demo_steps import handle_complaint

    await handle_complaint(client, event, disputed=disputed, luck=luck, tally=tally)
