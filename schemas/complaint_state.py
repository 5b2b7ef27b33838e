"""Workflow payload types: the state of one complaint as its workflow holds it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.events import ComplaintReceived


class ComplaintStatus(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    TRIAGED = "triaged"
    INVESTIGATING = "investigating"
    CAPA_PLANNED = "capa_planned"
    CAPA_IN_PROGRESS = "capa_in_progress"
    VERIFYING = "verifying"
    CLOSED = "closed"
    REJECTED = "rejected"
    REOPENED = "reopened"


class HistoryItem(BaseModel):
    """One thing that happened to the complaint, as the query shows it to operators."""

    at: datetime
    status: ComplaintStatus
    what: str
    actor: str
    audit_seq: int | None = None


class ComplaintState(BaseModel):
    """What the `state` query returns: everything an operator needs on one screen."""

    complaint_id: str
    status: ComplaintStatus
    complaint: ComplaintReceived
    received_at: datetime
    acknowledged_at: datetime | None = None
    history: list[HistoryItem] = Field(default_factory=list)
