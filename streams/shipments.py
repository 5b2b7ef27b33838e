"""operations.shipments.v1 -> one `operations.shipment` entry in the audit log per report.

The audit log is where the KPIs read from, so a report kept there is kept durably and goes
into every export: complaints per million units can be recomputed later by anyone. The
append is idempotent (key: the event id) and committed before it returns, so the offset is
acked only after the report is durably recorded (invariant 2), and a redelivered report is
recorded once. Bad input is dead-lettered with the reason; database trouble is retried,
never dead-lettered.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Protocol

import structlog
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from audit.models import NewEntry
from audit.store import AuditLog
from schemas import topics
from schemas.contract import CONTRACT
from schemas.dead_letter import DeadLetterKind
from schemas.decoding import InvalidEvent, check_schema, parse_json_object
from schemas.shipment import SHIPMENT_ENTRY, SHIPMENTS_COMPLAINT_ID, ShipmentReported
from streams.dead_letters import DeadLetterSink
from streams.intake import dead_letter_internal
from streams.messages import Outcome, SourceMessage

log = structlog.get_logger(__name__)
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)  # then every 5 s, for as long as it takes


class ShipmentTarget(Protocol):
    """Records a report durably; True if it was new, False if already recorded."""

    async def record(self, report: ShipmentReported) -> bool: ...


class AuditShipments:
    """Appends reports to the audit log at `url` (opened on first use, in a thread)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._log: AuditLog | None = None

    def _append(self, report: ShipmentReported) -> bool:
        if self._log is None:
            self._log = AuditLog.from_url(self._url)
        now = datetime.now(UTC)
        entry = self._log.append(
            NewEntry(
                complaint_id=SHIPMENTS_COMPLAINT_ID,
                entry_type=SHIPMENT_ENTRY,
                actor=report.source,
                occurred_at=report.occurred_at,
                reason=f"{report.units} units of {report.product} shipped in {report.period}",
                data=report.audit_data(),
                idempotency_key=f"shipment:{report.event_id}",
            ),
            now=now,
        )
        return entry.recorded_at == now

    async def record(self, report: ShipmentReported) -> bool:
        attempt = 0
        while True:
            try:
                return await asyncio.to_thread(self._append, report)
            except SQLAlchemyError as exc:
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                attempt += 1
                log.warning(
                    "audit log unavailable; retrying shipment",
                    error=type(exc).__name__,
                    attempt=attempt,
                    event_id=str(report.event_id),
                )
                await asyncio.sleep(delay)


def decode_shipment(raw: bytes) -> ShipmentReported:
    document = parse_json_object(raw)
    check_schema(topics.OPERATIONS_SHIPMENTS, document)
    try:
        return ShipmentReported.model_validate(document, context=CONTRACT)
    except ValidationError as exc:  # the schema accepted it: only our stricter checks left
        first = exc.errors()[0]
        path = "$" + "".join(f".{part}" for part in first["loc"])
        raise InvalidEvent(path, first["msg"]) from None


async def handle_shipment(
    message: SourceMessage, target: ShipmentTarget, dead_letters: DeadLetterSink
) -> Outcome:
    """Record one report, or dead-letter it; never raises."""
    try:
        try:
            report = decode_shipment(message.value or b"")
        except InvalidEvent as invalid:
            await dead_letters.write(message, invalid, DeadLetterKind.INVALID)
            return Outcome.DEAD_LETTERED
        new = await target.record(report)
        log.info(
            "shipment recorded" if new else "duplicate shipment",
            event_id=str(report.event_id),
            product=report.product,
            period=report.period,
        )
        return Outcome.APPLIED if new else Outcome.DUPLICATE
    except Exception as exc:
        return await dead_letter_internal(message, exc, dead_letters)
