"""Rows of the CFPB Consumer Complaint Database as `complaint.received` events.

Real public complaints make realistic demos, tests and benchmarks. The mapping is
deterministic (the event id is derived from the CFPB complaint id), so publishing the same
rows twice is a replay that must not open a second case.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from schemas.events import Channel, ComplaintReceived, Customer, Product

SOURCE = "cfpb"
_EVENT_NAMESPACE = uuid.UUID("5b0f7f1e-8d3c-4c52-9d6f-3f1f0a2c7e41")

_CHANNELS = {
    "web": Channel.WEB,
    "phone": Channel.PHONE,
    "referral": Channel.REFERRAL,
    "postal mail": Channel.MAIL,
    "email": Channel.EMAIL,
    "fax": Channel.FAX,
}


class CfpbRowError(ValueError):
    """A row that cannot become an event: names the CSV line and the column."""


def complaint_from_row(row: dict[str, str], line: int) -> ComplaintReceived:
    cfpb_id = (row.get("Complaint ID") or "").strip()
    if not cfpb_id:
        raise CfpbRowError(f"line {line}: column 'Complaint ID' is empty")
    try:
        received = datetime.strptime(row["Date received"].strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except (KeyError, ValueError):
        raise CfpbRowError(f"line {line}: column 'Date received' is not YYYY-MM-DD") from None
    issue = " / ".join(part for part in (row.get("Issue", ""), row.get("Sub-issue", "")) if part)
    return ComplaintReceived(
        event_id=uuid.uuid5(_EVENT_NAMESPACE, cfpb_id),
        occurred_at=received,
        source=SOURCE,
        complaint_id=f"CFPB-{cfpb_id}",
        customer=Customer(id=f"CFPB-CONSUMER-{cfpb_id}"),
        product=Product(
            sku=(row.get("Product") or "unknown")[:128],
            name=(row.get("Sub-product") or None),
        ),
        channel=_CHANNELS.get((row.get("Submitted via") or "").strip().lower(), Channel.OTHER),
        summary=(issue or "Complaint without an issue classification")[:500],
        description=(row.get("Consumer complaint narrative") or "")[:20000],
    )


def read_cfpb(path: Path, limit: int | None = None) -> Iterator[ComplaintReceived]:
    """Stream events from the CSV; quoted narratives with commas and line breaks are fine."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for count, row in enumerate(reader):
            if limit is not None and count >= limit:
                return
            yield complaint_from_row(row, reader.line_num)
