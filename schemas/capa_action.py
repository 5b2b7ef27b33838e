"""Payloads between a complaint's workflow and its CAPA action child workflows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from schemas.complaint_state import ActionProgress, CapaAction, DueDateChange, Signed


class CapaActionInput(BaseModel):
    complaint_id: str
    parent_workflow_id: str
    action: CapaAction


class ActionCompleted(BaseModel):
    completed: Signed
    evidence: list[str] = Field(min_length=1)
    summary: str = ""


class ActionProgressed(BaseModel):
    progress: ActionProgress


class ActionDueMoved(BaseModel):
    change: DueDateChange


class CapaActionOverdue(BaseModel):
    """From the child to its complaint: the action's due date passed unmet."""

    action_id: str
    due_at: datetime
    escalated_at: datetime
    audit_seq: int
