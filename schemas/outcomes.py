"""What a decision sends back: a small receipt when accepted, a structured refusal when not.

An Update's result is stored in the workflow's history, so an accepted decision returns a
`DecisionReceipt` of a few hundred bytes instead of the whole complaint state (which stays
available through the `current_state` query).

A refusal is an `ApplicationError` of type `REFUSED` (or `CONFLICT` for an update id that was
already used with other content) whose first detail is a `Refusal`. Its `template` names
fields and decisions with markers, `{field:override_wait_reason}` and
`{decision:record_regulatory_report}`, so that each surface words it in its own user's
vocabulary: the CLI says `--override-wait` and `complaint report`, a dead letter says the
event contract's field and `event_type`. `render` does the substitution; `plain` renders
with the internal names, for logs and as the error's message.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.decisions import Decision
from schemas.markers import decision_ref, field_ref

__all__ = [
    "CONFLICT",
    "REFUSED",
    "DecisionReceipt",
    "DueNext",
    "Refusal",
    "RefusalCode",
    "decision_ref",
    "field_ref",
    "render",
    "request_digest",
]

REFUSED = "DecisionRefused"
CONFLICT = "DecisionConflict"

_MARKER = re.compile(r"\{(field|decision):([A-Za-z0-9_.]+)\}")


class RefusalCode(StrEnum):
    NOT_ALLOWED = "not_allowed"  # the lifecycle does not allow the decision in this status
    NOT_READY = "not_ready"  # allowed in this status, but something must come first
    STATE_CHANGED = "state_changed"  # the signer reviewed a state that is no longer current
    INVALID = "invalid"  # the decision's own input breaks a rule
    CONFLICT = "conflict"  # the update id was already used for other content


class DueNext(BaseModel):
    model_config = ConfigDict(frozen=True)

    what: str
    due_at: datetime
    overdue: bool = False


class DecisionReceipt(BaseModel):
    """What an accepted decision returns: enough to show the operator what happened next."""

    model_config = ConfigDict(frozen=True)

    complaint_id: str
    decision: Decision
    update_id: str
    status: str
    state_hash: str
    audit_seq: int | None = None
    next_due: DueNext | None = None
    allowed_decisions: list[Decision] = Field(default_factory=list)
    overdue: bool = False
    what: str = ""
    request_hash: str = Field(
        default="", description="`request_digest` of the decision this receipt answers"
    )


class Refusal(BaseModel):
    """Why a decision was refused, with field and decision names left as markers."""

    model_config = ConfigDict(frozen=True)

    code: RefusalCode
    complaint_id: str
    status: str
    decision: Decision
    template: str
    allowed: list[Decision] = Field(default_factory=list)

    def render(
        self,
        field: Callable[[str], str],
        decision: Callable[[str], str],
    ) -> str:
        return render(self.template, field=field, decision=decision)

    def plain(self) -> str:
        return render(self.template, field=str, decision=str)


def render(
    template: str,
    *,
    field: Callable[[str], str],
    decision: Callable[[str], str],
) -> str:
    """Replace `{field:NAME}` and `{decision:NAME}` markers with the caller's words."""

    def word(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        return field(name) if kind == "field" else decision(name)

    return _MARKER.sub(word, template)


def request_digest(decision: str, request: BaseModel) -> str:
    """What makes two sends of one update id the same decision: the decision's name and its
    input, as canonical JSON. The workflow keeps it beside each applied update id; a client
    compares it with the receipt's `request_hash` to notice an id reused for other content."""
    document = {"decision": str(decision), "input": request.model_dump(mode="json")}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
