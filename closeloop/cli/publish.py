"""`closeloop publish`: send complaint events to Kafka as an upstream system would."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from closeloop.publisher import EventsFileError, parse_events
from closeloop.publisher import publish as publish_events
from closeloop.settings import load_settings
from schemas import topics
from schemas.contract import examples_dir


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--example", is_flag=True, help="Send one valid sample complaint.")
@click.option(
    "--cfpb",
    "cfpb_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Turn rows of a CFPB complaints CSV into complaint.received events.",
)
@click.option("--limit", type=click.IntRange(min=1), help="With --cfpb: at most this many rows.")
@click.option(
    "--topic",
    default=topics.COMPLAINTS_RECEIVED,
    show_default=True,
    help="Topic to publish to.",
)
@click.option(
    "--no-validate",
    is_flag=True,
    help="Send events as they are, even if they break the schema (to test dead-lettering).",
)
def publish(
    file: str | None,
    example: bool,
    cfpb_path: Path | None,
    limit: int | None,
    topic: str,
    no_validate: bool,
) -> None:
    """Publish complaint events to Kafka, keyed by complaint id.

    FILE holds a JSON object, a JSON array of objects, or JSON lines; `-` reads standard
    input. Events are validated against the topic's schema first, and nothing is sent if
    one is invalid. The broker is CLOSELOOP_KAFKA_BOOTSTRAP.

    \b
    Examples:
      closeloop publish --example
      closeloop publish complaints.jsonl
      closeloop publish --cfpb ../shared/data/cfpb-complaints.csv --limit 100
    """
    chosen = sum(bool(x) for x in (file, example, cfpb_path))
    if chosen != 1:
        raise click.UsageError("give exactly one of FILE, --example or --cfpb")
    if limit is not None and cfpb_path is None:
        raise click.UsageError("--limit goes with --cfpb")
    try:
        events = _load(file, example, cfpb_path, limit)
        if not no_validate and topic in (topics.COMPLAINTS_RECEIVED,):
            from closeloop.publisher import validate_events

            validate_events(topic, events)
    except EventsFileError as error:
        raise click.ClickException(str(error)) from None
    settings = load_settings()
    try:
        sent = publish_events(settings.kafka_bootstrap, topic, events)
    except Exception as error:  # kafka-python raises many types for an unreachable broker
        raise click.ClickException(
            f"could not publish to {settings.kafka_bootstrap}: {type(error).__name__}: {error}"
        ) from None
    ids = sorted({str(event.get("complaint_id")) for event in events})
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    click.echo(f"published {sent} event(s) to {topic} at {settings.kafka_bootstrap}: {shown}")


def fresh_example() -> dict[str, Any]:
    """The sample complaint under a new complaint id, so each demo opens a new case."""
    sample = examples_dir(topics.COMPLAINTS_RECEIVED) / "web-shop.json"
    event: dict[str, Any] = json.loads(sample.read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    event["event_id"] = str(uuid.uuid4())
    event["complaint_id"] = f"DEMO-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    event["occurred_at"] = now.isoformat(timespec="seconds")
    return event


def _load(
    file: str | None, example: bool, cfpb_path: Path | None, limit: int | None
) -> list[dict[str, Any]]:
    if example:
        return [fresh_example()]
    if cfpb_path is not None:
        from closeloop.cfpb import CfpbRowError, read_cfpb

        try:
            return [event.model_dump(mode="json") for event in read_cfpb(cfpb_path, limit)]
        except CfpbRowError as error:
            raise EventsFileError(str(cfpb_path), str(error)) from None
    assert file is not None
    if file == "-":
        return parse_events(sys.stdin.read(), name="standard input")
    path = Path(file)
    if not path.is_file():
        raise EventsFileError(file, "no such file")
    return parse_events(path.read_text(encoding="utf-8"), name=file)
