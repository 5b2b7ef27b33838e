"""`closeloop dlq list` and `closeloop dlq replay`: the dead letters, and a way back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from base.settings import load_settings
from closeloop.cli.errors import NotFound, Unreachable
from schemas.dead_letter import DeadLetterKind

if TYPE_CHECKING:
    from closeloop.dlq import StoredLetter


@click.group()
def dlq() -> None:
    """Dead letters: events the stream processor could not accept, with the reason.

    Each dead letter keeps the original key, headers and bytes, and says where the event
    came from (topic, partition, offset). Fix the cause (the producer, or our side), then
    replay. Reads complaints.dlq.v1 on CLOSELOOP_KAFKA_BOOTSTRAP from the beginning.
    """


@dlq.command(name="list")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Show the most recent N dead letters.",
)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in DeadLetterKind]),
    help="Only this kind of dead letter.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_letters(limit: int, kind: str | None, as_json: bool) -> None:
    """Show dead letters with their reasons, most recent last.

    \b
    Columns: position on complaints.dlq.v1, when, kind, where the event came from
    (topic[partition]@offset), complaint id, event id, the failing field and the reason.
    A letter already replayed from this CLOSELOOP_HOME is marked "replayed".
    """
    from closeloop.dlq import ReplayLedger, read_dead_letters

    settings = load_settings()
    stored = _read(read_dead_letters, settings.kafka_bootstrap)
    replayed = ReplayLedger(settings.home_dir).load()
    if kind is not None:
        stored = [s for s in stored if s.letter is not None and s.letter.kind.value == kind]
    shown = stored[-limit:]
    if as_json:
        for item in shown:
            record = {"dlq_position": item.position, "replayed": item.position in replayed}
            if item.letter is not None:
                record.update(item.letter.model_dump(mode="json"))
            else:
                record["problem"] = item.problem
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    if not shown:
        click.echo(f"no dead letters on {settings.kafka_bootstrap}")
        return
    for item in shown:
        letter = item.letter
        mark = "  (replayed)" if item.position in replayed else ""
        if letter is None:
            click.echo(f"{item.position}  {item.problem}{mark}")
            continue
        click.echo(
            f"{item.position}  {letter.dead_lettered_at:%Y-%m-%d %H:%M:%S%z}  {letter.kind.value}"
            f"  from {letter.source_topic}[{letter.partition}]@{letter.offset}{mark}"
        )
        click.echo(
            f"    complaint {letter.complaint_id or '-'}  event {letter.event_id or '-'}"
            f"  {letter.value_size} bytes{' (truncated)' if letter.value_truncated else ''}"
        )
        click.echo(f"    {letter.field}: {letter.reason}")
    total = len(stored)
    click.echo(f"{len(shown)} of {total} dead letter(s) shown")


@dlq.command()
@click.option("--event-id", help="Replay only the dead letter(s) of this event.")
@click.option(
    "--position", help="Replay only this dead letter: complaints.dlq.v1/PARTITION/OFFSET."
)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in DeadLetterKind]),
    help="Replay only this kind of dead letter.",
)
@click.option("--again", is_flag=True, help="Also replay letters that were replayed before.")
@click.option("--dry-run", is_flag=True, help="Say what would be replayed; send nothing.")
def replay(
    event_id: str | None, position: str | None, kind: str | None, again: bool, dry_run: bool
) -> None:
    """Republish dead letters to the topics they came from, once the cause is fixed.

    Sends the original key, headers and bytes unchanged, plus the header
    x-closeloop-replay-of naming the dead letter. Events are not validated first (the fix
    may have been on our side); one that fails again becomes a new dead letter. Letters
    already replayed from this CLOSELOOP_HOME are skipped unless --again.

    \b
    Examples:
      closeloop dlq replay --event-id 6f1c2b9e-3f51-4a7e-9a43-0d2f7c1b8e11
      closeloop dlq replay --kind unknown_complaint --dry-run
    """
    from closeloop.dlq import ReplayLedger, plan_replay, read_dead_letters, republish

    settings = load_settings()
    stored = _read(read_dead_letters, settings.kafka_bootstrap)
    ledger = ReplayLedger(settings.home_dir)
    plan = plan_replay(
        stored, ledger.load(), event_id=event_id, position=position, kind=kind, again=again
    )
    for item, why in plan.not_replayable:
        click.echo(f"cannot replay {item.position}: {why}", err=True)
    verb = "would replay" if dry_run else "replaying"
    for item in plan.to_replay:
        assert item.letter is not None
        click.echo(
            f"{verb} {item.position} -> {item.letter.source_topic} "
            f"(complaint {item.letter.complaint_id or '-'}, event {item.letter.event_id or '-'})"
        )
    sent = 0
    if plan.to_replay and not dry_run:
        try:
            sent = republish(settings.kafka_bootstrap, plan.to_replay)
        except Exception as error:  # kafka-python raises many types for an unreachable broker
            raise Unreachable(
                f"could not republish to {settings.kafka_bootstrap}: "
                f"{type(error).__name__}: {error}"
            ) from None
        ledger.record(
            (item.position, item.letter.event_id or "")
            for item in plan.to_replay
            if item.letter is not None
        )
    click.echo(
        f"{'would replay' if dry_run else 'replayed'} {len(plan.to_replay) if dry_run else sent}, "
        f"skipped {len(plan.already_replayed)} already replayed (use --again), "
        f"{len(plan.not_replayable)} not replayable"
    )
    if (event_id or position) and not (
        plan.to_replay or plan.already_replayed or plan.not_replayable
    ):
        raise NotFound("no dead letter matches")


def _read(reader: Callable[[str], list[StoredLetter]], bootstrap: str) -> list[StoredLetter]:
    try:
        return reader(bootstrap)
    except Exception as error:  # kafka-python raises many types for an unreachable broker
        raise Unreachable(
            f"could not read complaints.dlq.v1 at {bootstrap}: {type(error).__name__}: {error}"
        ) from None
