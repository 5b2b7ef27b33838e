"""Which Update or Signal of a complaint's workflow each follow-up event becomes.

Facts that the lifecycle may refuse (an investigation before triage, a completed action that
was never planned) are Updates: the workflow's validator answers, and a refusal comes back
with its reason, which goes to the dead letter. The Update id is the event id, so a
redelivered event returns the first outcome instead of acting twice. Customer activity is
a Signal (nothing to refuse); the workflow de-duplicates it by the event id it carries.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog
from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.service import RPCError, RPCStatusCode

from base.complaints import (
    DecisionConflictError,
    DecisionRefusedError,
    send_decision,
    workflow_id_for,
)
from base.temporal_retry import is_transient, retry_transient
from schemas import decisions
from schemas.events import (
    Actor,
    CapaActionCompleted,
    CapaActionProgressed,
    CustomerActivity,
    CustomerInformationAdded,
    InvestigationCompleted,
    MessageDelivered,
    MessageFailed,
    SurveyResponded,
    UpdateEvent,
    VerificationCompleted,
)
from streams.wording import in_event_words, text_in_event_words

log = structlog.get_logger(__name__)

ClientFactory = Callable[[], Awaitable[Client]]


class Via(StrEnum):
    UPDATE = "update"
    SIGNAL = "signal"


@dataclass(frozen=True)
class Route:
    via: Via
    name: str
    build: Callable[[Any], BaseModel]


class Delivered(StrEnum):
    APPLIED = "applied"  # the Update completed / the Signal was accepted
    REFUSED = "refused"  # the workflow (or Temporal) said no: dead-letter with `reason`
    CONFLICT = "conflict"  # the event id was already applied with other content
    UNKNOWN = "unknown"  # no workflow with that id (yet)


@dataclass(frozen=True)
class Delivery:
    status: Delivered
    reason: str = ""


def _actor(event: UpdateEvent) -> decisions.Actor:
    """The person on the event, or the upstream system itself for a relayed fact."""
    actor: Actor | None = event.actor
    if actor is None:
        return decisions.Actor(id=event.source)
    return decisions.Actor(id=actor.id, name=actor.name or "")


def _common(event: UpdateEvent) -> dict[str, Any]:
    return {
        "actor": _actor(event),
        "comment": event.comment or "",
        "event_id": str(event.event_id),
        "occurred_at": event.occurred_at,
    }


def _information(event: CustomerInformationAdded) -> BaseModel:
    return decisions.AddInformationInput(
        **_common(event),
        information=event.information,
        attachments=list(event.attachments or []),
        source=event.source,
    )


def _investigation(event: InvestigationCompleted) -> BaseModel:
    return decisions.InvestigateInput(
        **_common(event),
        method=decisions.InvestigationMethod(event.method.value),
        method_detail=event.method_detail or "",
        root_causes=list(event.root_causes),
        contributing_factors=list(event.contributing_factors or []),
        evidence=list(event.evidence or []),
        final=True if event.final is None else event.final,
        capa_needed=event.capa_needed,
    )


def _progress(event: CapaActionProgressed) -> BaseModel:
    return decisions.ActionProgressInput(
        **_common(event),
        action_id=event.action_id,
        note=event.note,
        percent_complete=event.percent_complete,
        evidence=list(event.evidence or []),
    )


def _action_completed(event: CapaActionCompleted) -> BaseModel:
    return decisions.CompleteActionInput(
        **_common(event),
        action_id=event.action_id,
        evidence=list(event.evidence),
        summary=event.summary or "",
    )


def _verification(event: VerificationCompleted) -> BaseModel:
    return decisions.VerifyInput(
        **_common(event),
        effective=event.effective,
        evidence=list(event.evidence),
        override_wait_reason=event.override_wait_reason,
    )


def _survey(event: SurveyResponded) -> BaseModel:
    return decisions.RecordSurveyInput(
        **_common(event),
        csat=event.csat,
        nps=event.nps,
        verbatim=event.verbatim or "",
        survey_id=event.survey_id,
    )


def _activity(event: CustomerActivity) -> BaseModel:
    return decisions.CustomerActivityInput(
        event_id=str(event.event_id),
        actor=_actor(event),
        activity=event.activity.value,
        occurred_at=event.occurred_at,
        comment=event.comment or "",
    )


def _delivery(event: MessageDelivered | MessageFailed) -> BaseModel:
    if isinstance(event, MessageDelivered):
        outcome: dict[str, Any] = {
            "delivered": True,
            "occurred_at": event.delivered_at or event.occurred_at,
            "provider_reference": event.provider_reference,
        }
    else:
        outcome = {
            "delivered": False,
            "occurred_at": event.occurred_at,
            "reason": event.reason,
            "permanent": event.permanent,
        }
    return decisions.MessageDeliveryInput(
        event_id=str(event.event_id), actor=_actor(event), message_id=event.message_id, **outcome
    )


ROUTES: dict[str, Route] = {
    "customer.information_added": Route(
        Via.UPDATE, decisions.Decision.ADD_INFORMATION, _information
    ),
    "investigation.completed": Route(Via.UPDATE, decisions.Decision.INVESTIGATE, _investigation),
    "capa.action_progressed": Route(
        Via.UPDATE, decisions.Decision.RECORD_ACTION_PROGRESS, _progress
    ),
    "capa.action_completed": Route(
        Via.UPDATE, decisions.Decision.COMPLETE_ACTION, _action_completed
    ),
    "verification.completed": Route(Via.UPDATE, decisions.Decision.VERIFY, _verification),
    "survey.responded": Route(Via.UPDATE, decisions.Decision.RECORD_SURVEY, _survey),
    "customer.activity": Route(Via.SIGNAL, decisions.CUSTOMER_ACTIVITY_SIGNAL, _activity),
    "message.delivered": Route(Via.SIGNAL, decisions.MESSAGE_DELIVERY_SIGNAL, _delivery),
    "message.failed": Route(Via.SIGNAL, decisions.MESSAGE_DELIVERY_SIGNAL, _delivery),
}


def build_input(event: UpdateEvent) -> tuple[Route, BaseModel]:
    """The route and the workflow input for `event`; ValueError if the input refuses it."""
    route = ROUTES[event.event_type]
    try:
        return route, route.build(event)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "input"
        message = text_in_event_words(str(first["msg"]))
        raise ValueError(f"the workflow's input refuses it: {where}: {message}") from None


class TemporalRouter:
    """Delivers follow-up events to their complaint's workflow."""

    def __init__(
        self, client_factory: ClientFactory, *, on_retry: Callable[[], None] | None = None
    ) -> None:
        self._client_factory = client_factory
        self._on_retry = on_retry

    async def deliver(self, event: UpdateEvent) -> Delivery:
        """Apply `event`; transient trouble is retried here, for as long as it lasts."""
        try:
            route, payload = build_input(event)
        except ValueError as refused:
            return Delivery(Delivered.REFUSED, str(refused))

        async def once() -> Delivery:
            client = await self._client_factory()
            handle = client.get_workflow_handle(workflow_id_for(event.complaint_id))
            try:
                if route.via is Via.UPDATE:
                    await send_decision(
                        client,
                        event.complaint_id,
                        decisions.Decision(route.name),
                        payload,
                        update_id=str(event.event_id),
                    )
                else:
                    await handle.signal(route.name, payload)
            except DecisionConflictError as conflict:
                return Delivery(Delivered.CONFLICT, in_event_words(conflict.refusal))
            except DecisionRefusedError as refused:
                reason = in_event_words(refused.refusal)
                return Delivery(Delivered.REFUSED, f"workflow refused it: {reason}")
            except WorkflowUpdateFailedError as failed:
                return Delivery(Delivered.REFUSED, f"workflow refused it: {_message(failed)}")
            except RPCError as error:
                if error.status == RPCStatusCode.NOT_FOUND:
                    return await _unknown_or_closed(handle)
                if is_transient(error):  # includes "Workflow Task in failed state"
                    raise
                return Delivery(
                    Delivered.REFUSED, f"Temporal refused it: {error.status.name}: {error.message}"
                )
            return Delivery(Delivered.APPLIED)

        return await retry_transient(
            once,
            what=f"{route.via.value} {route.name}",
            log_context={"complaint_id": event.complaint_id, "event_id": str(event.event_id)},
            on_retry=self._on_retry,
        )


async def _unknown_or_closed(handle: WorkflowHandle[Any, Any]) -> Delivery:
    try:
        description = await handle.describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return Delivery(Delivered.UNKNOWN, "no complaint with this id")
        raise
    if description.status != WorkflowExecutionStatus.RUNNING:
        state = description.status.name.lower() if description.status else "closed"
        return Delivery(
            Delivered.REFUSED, f"the complaint's workflow is {state}; it accepts no more events"
        )
    return Delivery(Delivered.UNKNOWN, "the complaint's workflow did not answer yet")


def _message(failed: WorkflowUpdateFailedError) -> str:
    cause: BaseException | None = failed.cause
    while isinstance(cause, FailureError) and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    if isinstance(cause, FailureError):
        return cause.message
    return str(cause) if cause is not None else "no reason given"
