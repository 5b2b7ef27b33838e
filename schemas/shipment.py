"""`operations.shipments.v1`: units shipped per product and month, from the ERP.

The denominator of complaints per million units. Mirrors the JSON Schema next to it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from schemas.events import EventId, Id128, Pattern, RfcDateTime, SchemaInt, _Contract

PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
SHIPMENT_ENTRY = "operations.shipment"  # the audit entry type that keeps a report
SHIPMENTS_COMPLAINT_ID = "operations"  # audit entries need a complaint id: this is none


class ShipmentReported(_Contract):
    event_id: EventId
    occurred_at: RfcDateTime
    source: Id128
    product: Id128
    period: Annotated[str, Pattern(PERIOD_PATTERN)]
    units: Annotated[SchemaInt, Field(ge=0, le=1_000_000_000_000)]

    def audit_data(self) -> dict[str, object]:
        """The data of the audit entry that keeps this report."""
        return {
            "event_id": str(self.event_id),
            "source": self.source,
            "product": self.product,
            "period": self.period,
            "units": self.units,
        }
