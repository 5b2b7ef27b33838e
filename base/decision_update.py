"""Sending one decision to a case's workflow as a Temporal Update, whichever kind of case.

Complaints and improvements answer a decision alike: a receipt, or an ApplicationError of
type REFUSED/CONFLICT whose details are the structured refusal, and a reused update id is
noticed by comparing the receipt's `request_hash` with this request's digest. Only the
receipt and refusal models and the error classes differ: a `DecisionKind` names them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from schemas.markers import decision_ref, field_ref
from schemas.outcomes import CONFLICT, REFUSED, RefusalCode, request_digest


class _Receipt(Protocol):
    @property
    def request_hash(self) -> str: ...
    @property
    def status(self) -> Any: ...
    @property
    def decision(self) -> Any: ...
    @property
    def audit_seq(self) -> int | None: ...


ReceiptT = TypeVar("ReceiptT", bound=_Receipt)
RefusalT = TypeVar("RefusalT", bound=BaseModel)


class RefusedError(Exception, Generic[RefusalT]):
    """What every kind's refusal error is, so that a caller can catch either kind alike;
    `refusal` says why, with markers."""

    refusal: RefusalT


@dataclass(frozen=True)
class DecisionKind(Generic[ReceiptT, RefusalT]):
    """What differs between the kinds of case: the models, and the errors to raise."""

    receipt: type[ReceiptT]
    refusal: type[RefusalT]
    id_field: str  # the refusal's field for the case id ("complaint_id", "improvement_id")
    refused: Callable[[RefusalT], Exception]
    conflict: Callable[[RefusalT], Exception]


async def execute_decision(
    client: Client,
    kind: DecisionKind[ReceiptT, RefusalT],
    workflow_id: str,
    case_id: str,
    decision: StrEnum,
    request: BaseModel,
    *,
    update_id: str,
) -> ReceiptT:
    """Send `decision` (by its Update name) and return the receipt; raise `kind.refused` or
    `kind.conflict` with the refusal. Other Temporal errors are left to the caller."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        receipt = await handle.execute_update(
            decision.value, request, id=update_id, result_type=kind.receipt
        )
    except WorkflowUpdateFailedError as failed:
        raise _refusal_error(kind, failed) from None
    if receipt.request_hash and receipt.request_hash != request_digest(decision, request):
        raise kind.conflict(
            kind.refusal(
                code=RefusalCode.CONFLICT,
                **{kind.id_field: case_id},
                status=receipt.status,
                decision=decision,
                template=(
                    f"update id {update_id} ({field_ref('update_id')}) was already used for a "
                    f"{decision_ref(receipt.decision)} with other content "
                    f"(audit #{receipt.audit_seq}); nothing was changed: send new content "
                    "with a new update id"
                ),
            )
        )
    return receipt


def _refusal_error(
    kind: DecisionKind[Any, RefusalT], failed: WorkflowUpdateFailedError
) -> Exception:
    cause = failed.cause
    if isinstance(cause, ApplicationError) and cause.type in (REFUSED, CONFLICT) and cause.details:
        refusal = kind.refusal.model_validate(cause.details[0])
        return (kind.conflict if cause.type == CONFLICT else kind.refused)(refusal)
    return failed
