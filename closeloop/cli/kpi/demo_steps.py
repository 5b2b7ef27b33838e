"""One demo complaint's handling: which decisions, in which order, with which inputs."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError

from base.complaints import workflow_id_for
from schemas.decisions import (
    CUSTOMER_ACTIVITY_SIGNAL,
    STATE_QUERY,
    Actor,
    CapaActionPlan,
    CapaKind,
    CloseInput,
    CompleteActionInput,
    CustomerActivityInput,
    Decision,
    InvestigateInput,
    InvestigationMethod,
    PlanCapaInput,
    RecordSurveyInput,
    RejectInput,
    RejectReason,
    Severity,
    TriageInput,
    VerifyInput,
)

QE = Actor(id="qe.demo", name="Demo Quality Engineer")
QM = Actor(id="qm.demo", name="Demo Quality Manager")
CRM = Actor(id="crm", name="CRM")
START_BUDGET_S = 120.0


async def handle_complaint(
    client: Client, event: Any, *, disputed: bool, luck: float, tally: Any
) -> None:
    handle = client.get_workflow_handle(workflow_id_for(event.complaint_id))

    async def send(decision: Decision, request: BaseModel) -> bool:
        deadline = time.monotonic() + START_BUDGET_S
        update_id = str(uuid.uuid4())  # the same id on a retry: applied once
        while True:
            try:
                await handle.execute_update(decision.value, request, id=update_id)
                tally.decisions += 1
                return True
            except WorkflowUpdateFailedError as exc:
                tally.refused += 1
                reason = str(exc.cause or exc)
                click.echo(f"{event.complaint_id}: {decision.value} refused: {reason}", err=True)
                return False
            except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError):
                if time.monotonic() > deadline:  # not started (yet), or a busy server
                    tally.refused += 1
                    click.echo(
                        f"{event.complaint_id}: {decision.value} not sent: Temporal did not "
                        f"take it within {START_BUDGET_S:.0f} s",
                        err=True,
                    )
                    return False
                await asyncio.sleep(0.5)

    async def acknowledged() -> bool:
        """Wait (with a budget) until the automatic acknowledgment is recorded."""
        deadline = time.monotonic() + START_BUDGET_S
        while time.monotonic() < deadline:
            try:
                state = await handle.query(STATE_QUERY)
                if isinstance(state, dict) and state.get("status") != "received":
                    return True
            except (RPCError, WorkflowQueryFailedError):
                pass  # not started yet, or the query raced the start
            await asyncio.sleep(0.3)
        return False

    if not await acknowledged():
        tally.refused += 1
        click.echo(
            f"{event.complaint_id}: not acknowledged within {START_BUDGET_S:.0f} s; skipped",
            err=True,
        )
        return
    category = (event.summary.split(" / ")[0] or "other")[:128]
    if luck < 0.08:
        await send(
            Decision.REJECT,
            RejectInput(
                actor=QM,
                reason=RejectReason.NOT_A_COMPLAINT,
                explanation="A question, not a complaint",
            ),
        )
        return
    severity = Severity.HIGH if luck > 0.85 else Severity.MEDIUM if luck > 0.5 else Severity.LOW
    if not await send(
        Decision.TRIAGE,
        TriageInput(
            actor=QE,
            severity=severity,
            category=category,
            risk_rationale="demo triage",
            assignee=QE.id,
            reportable=False,
            reportable_justification="no regulator involved",
        ),
    ):
        return
    if luck < 0.15:
        return  # still being investigated
    needs_capa = luck > 0.6
    await send(
        Decision.INVESTIGATE,
        InvestigateInput(
            actor=QE,
            method=InvestigationMethod.FIVE_WHYS,
            root_causes=["process gap"],
            capa_needed=needs_capa,
        ),
    )
    if needs_capa:
        due = datetime.now(UTC) + timedelta(days=14)
        await send(
            Decision.PLAN_CAPA,
            PlanCapaInput(
                actor=QM,
                actions=[
                    CapaActionPlan(
                        id="A1",
                        description="Fix the process",
                        kind=CapaKind.CORRECTIVE,
                        owner=QE.id,
                        due_at=due,
                    )
                ],
            ),
        )
        await send(
            Decision.COMPLETE_ACTION,
            CompleteActionInput(actor=QE, action_id="A1", evidence=["qms://demo"]),
        )
        effective = luck < 0.92
        await send(
            Decision.VERIFY,
            VerifyInput(
                actor=QM,
                effective=effective,
                evidence=["qms://demo-check"],
                override_wait_reason="demo: verified without waiting",
            ),
        )
        if not effective:  # the workflow reopens the case itself: investigate again
            await send(
                Decision.INVESTIGATE,
                InvestigateInput(
                    actor=QE,
                    method=InvestigationMethod.FISHBONE,
                    root_causes=["second cause"],
                    capa_needed=False,
                ),
            )
    await send(Decision.CLOSE, CloseInput(actor=QM, customer_response="We fixed it"))
    low = disputed or luck > 0.8
    await send(
        Decision.RECORD_SURVEY,
        RecordSurveyInput(
            actor=CRM,
            csat=2 if low else 4 + int(luck * 10) % 2,
            nps=4 if low else 7 + int(luck * 100) % 4,
        ),
    )
    if not low:
        await handle.signal(
            CUSTOMER_ACTIVITY_SIGNAL,
            CustomerActivityInput(
                event_id=f"demo-{event.complaint_id}",
                actor=CRM,
                activity="purchase",
                occurred_at=datetime.now(UTC),
            ),
        )
        tally.decisions += 1
