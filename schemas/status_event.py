"""`complaints.status.v1`: what downstream systems learn about a complaint, as it happens.

Mirrors `complaints.status.v1.schema.json`. One event per status change
(`complaint.status_changed`) and one per missed deadline (`complaint.escalated`). Message
key: the complaint id. `event_id` is derived from the complaint id and `sequence`, so a
re-sent event keeps its id and consumers de-duplicate on it; `sequence` orders a
complaint's events.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID, uuid5

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

from schemas.complaint_state import ComplaintStatus
from schemas.decisions import Severity
from schemas.events import EventId, RfcDateTime, SchemaInt, is_contract_input

# Namespace for the deterministic event ids: uuid5(STATUS_EVENT_NAMESPACE, "C-1:7").
STATUS_EVENT_NAMESPACE = UUID("8a0f7c52-51c5-4b9f-9a0e-2f1c6c3e9d41")

ComplaintId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


class StatusEventType(StrEnum):
    STATUS_CHANGED = "complaint.status_changed"
    ESCALATED = "complaint.escalated"


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventActor(_Contract):
    id: str
    name: str = ""


class EventNextDue(_Contract):
    what: str
    due_at: RfcDateTime
    overdue: StrictBool


class Escalation(_Contract):
    """The deadline that passed: a stage of the complaint, or one CAPA action."""

    stage: Literal[
        "acknowledge",
        "triage",
        "investigation",
        "verification",
        "closure",
        "regulator_report",
        "capa_action",
        "acknowledgment_delivery",
    ] = Field(description="a deadline stage, or 'capa_action'")
    due_at: RfcDateTime
    action_id: str | None = None
    description: str


class EventSimilar(_Contract):
    """An earlier complaint the lookup at intake found similar: a suggestion, not a merge."""

    complaint_id: ComplaintId
    score: float = Field(ge=0, le=1)
    text_score: float = Field(ge=0, le=1)
    same_customer_product_lot: StrictBool
    method: str
    method_version: str


class ComplaintStatusEvent(_Contract):
    event_id: EventId
    event_type: StatusEventType
    occurred_at: RfcDateTime
    source: Literal["closeloop"] = "closeloop"
    complaint_id: ComplaintId
    # Strict numbers and booleans: "3" is not 3 and "false" is not false, as in the schema.
    sequence: SchemaInt = Field(ge=1)
    status: ComplaintStatus
    previous_status: ComplaintStatus | None = None
    decision: str | None = None
    actor: EventActor | None = None
    comment: str = ""
    severity: Severity | None = None
    category: str | None = None
    assignee: str | None = None
    customer_id: str
    product_sku: str
    overdue: StrictBool
    reportable: StrictBool
    reopen_count: SchemaInt = Field(ge=0)
    next_due: EventNextDue | None = None
    escalation: Escalation | None = None
    audit_seq: SchemaInt | None = None
    # Added within v1 (optional): absent or null when no lookup was made.
    similar_complaints: list[EventSimilar] | None = None

    @model_validator(mode="before")
    @classmethod
    def _source_is_required_on_the_wire(cls, data: Any, info: ValidationInfo) -> Any:
        """The schema requires `source`; our own code may rely on the default."""
        if is_contract_input(info) and isinstance(data, dict) and "source" not in data:
            raise ValueError("source is required")
        return data


def status_event_id(complaint_id: str, sequence: int) -> UUID:
    return uuid5(STATUS_EVENT_NAMESPACE, f"{complaint_id}:{sequence}")
