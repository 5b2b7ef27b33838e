"""`closeloop publish`: send complaint events to Kafka as an upstream system would."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from base.settings import load_settings
from closeloop.cli.errors import CannotCheck, Unreachable
from closeloop.publisher import EventsFileError, parse_events
from closeloop.publisher import publish as publish_events
from schemas import topics
from schemas.contract import examples_dir

# The topics Closeloop consumes: publishing anywhere else would vanish unread (issue 8.4).
INPUT_TOPICS = (topics.COMPLAINTS_RECEIVED, topics.COMPLAINTS_UPDATES)


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--example",
    is_flag=True,
    help="Send one valid sample event: a new complaint, or with --topic "
    "complaints.updates.v1 --complaint ID a survey response for that complaint.",
)
@click.option("--complaint", "complaint_id", help="With --example on the updates topic.")
@click.option(
    "--cfpb",
    "cfpb_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Turn rows of a CFPB complaints CSV into complaint.received events.",
)
@click.option("--limit", type=click.IntRange(min=1), help="With --cfpb: at most this many rows.")
@click.option(
    "--topic",
    type=click.Choice(INPUT_TOPICS),
    default=topics.COMPLAINTS_RECEIVED,
    show_default=True,
    help="Inbound topic to publish to; nothing consumes any other, so others are refused.",
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
    complaint_id: str | None,
) -> None:
    """Publish complaint events to Kafka, keyed by complaint id.

    FILE holds a JSON object, a JSON array of objects, or JSON lines; `-` reads standard
    input. Events are validated against the topic's schema first, and nothing is sent if
    one is invalid. The broker is CLOSELOOP_KAFKA_BOOTSTRAP.

    \b
    Examples:
      closeloop publish --example
      closeloop publish --example --topic complaints.updates.v1 --complaint DEMO-...
      closeloop publish complaints.jsonl
      closeloop publish --topic complaints.updates.v1 follow-ups.jsonl
      closeloop publish --cfpb ../shared/data/cfpb-complaints.csv --limit 100
    """
    chosen = sum(bool(x) for x in (file, example, cfpb_path))
    if chosen != 1:
        raise click.UsageError("give exactly one of FILE, --example or --cfpb")
    if limit is not None and cfpb_path is None:
        raise click.UsageError("--limit goes with --cfpb")
    updates = topic == topics.COMPLAINTS_UPDATES
    if example and updates and not complaint_id:
        raise click.UsageError("--example on the updates topic needs --complaint ID")
    if complaint_id and not (example and updates):
        raise click.UsageError("--complaint goes with --example --topic complaints.updates.v1")
    if cfpb_path is not None and topic != topics.COMPLAINTS_RECEIVED:
        raise click.UsageError("--cfpb makes complaint.received events: keep the default --topic")
    try:
        if example and updates:
            assert complaint_id is not None
            events = [fresh_update_example(complaint_id)]
        else:
            events = _load(file, example, cfpb_path, limit)
        if not no_validate:
            from closeloop.publisher import validate_events

            validate_events(topic, events)
    except EventsFileError as error:
        raise CannotCheck(str(error)) from None
    settings = load_settings()
    try:
        sent = publish_events(settings.kafka_bootstrap, topic, events)
    except Exception as error:  # kafka-python raises many types for an unreachable broker
        raise Unreachable(
            f"could not publish to {settings.kafka_bootstrap}: {type(error).__name__}: {error}"
        ) from None
    ids = sorted({str(event.get("complaint_id")) for event in events})
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    click.echo(f"published {sent} event(s) to {topic} at {settings.kafka_bootstrap}: {shown}")


def fresh_update_example(complaint_id: str) -> dict[str, Any]:
    """The sample survey response, as a new event for `complaint_id`."""
    sample = examples_dir(topics.COMPLAINTS_UPDATES) / "survey-responded.json"
    event: dict[str, Any] = json.loads(sample.read_text(encoding="utf-8"))
    event["event_id"] = str(uuid.uuid4())
    event["complaint_id"] = complaint_id
    event["occurred_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return event


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
            # exclude_none: the contract has no nulls; an absent optional field is left out.
            return [
                event.model_dump(mode="json", exclude_none=True)
                for event in read_cfpb(cfpb_path, limit)
            ]
        except CfpbRowError as error:
            raise EventsFileError(str(cfpb_path), str(error)) from None
    assert file is not None
    if file == "-":
        return parse_events(sys.stdin.read(), name="standard input")
    path = Path(file)
    if not path.is_file():
        raise EventsFileError(file, "no such file")
    return parse_events(path.read_text(encoding="utf-8"), name=file)
