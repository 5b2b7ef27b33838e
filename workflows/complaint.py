"""ComplaintWorkflow: one durable workflow carries one customer complaint to closure.

ISO 10002 asks that every complaint is recorded, acknowledged promptly and tracked to the
end; ISO 9001:2015 10.2 asks that the nonconformity behind it is investigated, corrected and
the correction verified; 21 CFR 820.198 expects a complaint file that shows all of it. The
workflow id is the complaint id, so a complaint can never have two cases.

People make the judgment calls, as Temporal Updates (one per `Decision`, each with a
validator that refuses an illegal decision before anything is written); durable timers
enforce every deadline. The order of steps lives in `workflows/lifecycle.py`, the rules of
each decision in `workflows/rules/`.

Every decision is written to the audit log before the state moves, exactly once: the
idempotency key is `{complaint_id}:{update_id}`, and callers relaying an event use the event
id as the Update id. Continue-as-new is not needed: a complaint's history stays small (tens
of decisions and timers over weeks), far below Temporal's history limits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.policy import PolicyActivities
    from schemas.capa_action import CapaActionOverdue
    from schemas.complaint_state import ComplaintState, ComplaintStatus, Signed
    from schemas.decisions import (
        COMPLAINT_WORKFLOW,
        CUSTOMER_ACTIVITY_SIGNAL,
        STATE_QUERY,
        AcknowledgeInput,
        ActionProgressInput,
        AddInformationInput,
        CloseInput,
        CompleteActionInput,
        CustomerActivityInput,
        Decision,
        DecisionInput,
        DeclineInvestigationInput,
        ExtendInput,
        InvestigateInput,
        PlanCapaInput,
        RecordSurveyInput,
        RegulatoryReportInput,
        RejectInput,
        ReopenInput,
        TriageInput,
        VerifyInput,
    )
    from schemas.events import ComplaintReceived
    from schemas.outcomes import DecisionReceipt, request_digest
    from workflows import escalation, facts, receipt, view
    from workflows.capa import OVERDUE_SIGNAL
    from workflows.capa_children import CapaChildren
    from workflows.case_file import CaseFile, decision_entry
    from workflows.refusals import conflict_error, refusal_error
    from workflows.retries import POLICY_ACTIVITY_TIMEOUT
    from workflows.rules import Refused
    from workflows.rules.registry import LOGIC, judge
    from workflows.signature import state_hash

# Bounded memories of what was already applied: Update ids with their receipts (belt and
# braces behind the server's own de-duplication, which answers a reused id with the first
# receipt: clients compare its `request_hash`) and signal event ids (signals are not
# de-duplicated durably).
APPLIED_UPDATES_KEPT = 256
# Moving a due date earlier needs `allow_earlier` (bug 8.9); runs that took such a decision
# before the rule existed replay as they ran.
EARLIER_NEEDS_FLAG = "extend-earlier-needs-flag"
SEEN_EVENTS_KEPT = 1000


@workflow.defn(name=COMPLAINT_WORKFLOW)
class ComplaintWorkflow:
    """The lifecycle of one complaint, from receipt to closure."""

    @workflow.init
    def __init__(self, complaint: ComplaintReceived) -> None:
        self._case = CaseFile(
            ComplaintState(
                complaint_id=complaint.complaint_id,
                status=ComplaintStatus.RECEIVED,
                complaint=complaint,
                received_at=workflow.now(),
            )
        )
        self._capa = CapaChildren()
        self._ready = False  # receipt (and automatic acknowledgment) recorded
        # update id -> the receipt it got (with the digest of its request), oldest first
        self._applied: dict[str, DecisionReceipt] = {}
        self._seen_events: deque[str] = deque(maxlen=SEEN_EVENTS_KEPT)

    @workflow.run
    async def run(self, complaint: ComplaintReceived) -> ComplaintState:
        publisher = asyncio.create_task(self._case.publish_in_order())
        self.state.policy = await workflow.execute_local_activity_method(
            PolicyActivities.load_deadline_policy, start_to_close_timeout=POLICY_ACTIVITY_TIMEOUT
        )
        await receipt.receive(self._case)
        if self.state.policy.auto_acknowledge:
            await receipt.acknowledge_on_receipt(self._case)
        self._ready = True
        await escalation.keep_deadlines(self._case)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._capa.finished()
        self._case.close_outbox()
        await publisher
        return self._case.snapshot()

    @property
    def state(self) -> ComplaintState:
        return self._case.state

    # -- queries -------------------------------------------------------------------------

    @workflow.query(name=STATE_QUERY)
    def current_state(self) -> ComplaintState:
        """Everything at once: what happened, who decided, what is due next and by when."""
        return self._case.snapshot()

    # -- decisions: one Update each, its validator beside it --------------------------------

    @workflow.update
    async def acknowledge(self, request: AcknowledgeInput) -> DecisionReceipt:
        return await self._decide(Decision.ACKNOWLEDGE, request)

    @acknowledge.validator
    def _validate_acknowledge(self, request: AcknowledgeInput) -> None:
        self._validate(Decision.ACKNOWLEDGE, request)

    @workflow.update
    async def triage(self, request: TriageInput) -> DecisionReceipt:
        return await self._decide(Decision.TRIAGE, request)

    @triage.validator
    def _validate_triage(self, request: TriageInput) -> None:
        self._validate(Decision.TRIAGE, request)

    @workflow.update
    async def investigate(self, request: InvestigateInput) -> DecisionReceipt:
        return await self._decide(Decision.INVESTIGATE, request)

    @investigate.validator
    def _validate_investigate(self, request: InvestigateInput) -> None:
        self._validate(Decision.INVESTIGATE, request)

    @workflow.update
    async def decline_investigation(self, request: DeclineInvestigationInput) -> DecisionReceipt:
        return await self._decide(Decision.DECLINE_INVESTIGATION, request)

    @decline_investigation.validator
    def _validate_decline_investigation(self, request: DeclineInvestigationInput) -> None:
        self._validate(Decision.DECLINE_INVESTIGATION, request)

    @workflow.update
    async def plan_capa(self, request: PlanCapaInput) -> DecisionReceipt:
        return await self._decide(Decision.PLAN_CAPA, request, then=self._capa.start)

    @plan_capa.validator
    def _validate_plan_capa(self, request: PlanCapaInput) -> None:
        self._validate(Decision.PLAN_CAPA, request)

    @workflow.update
    async def record_action_progress(self, request: ActionProgressInput) -> DecisionReceipt:
        return await self._decide(
            Decision.RECORD_ACTION_PROGRESS, request, then=self._capa.progressed
        )

    @record_action_progress.validator
    def _validate_record_action_progress(self, request: ActionProgressInput) -> None:
        self._validate(Decision.RECORD_ACTION_PROGRESS, request)

    @workflow.update
    async def complete_action(self, request: CompleteActionInput) -> DecisionReceipt:
        return await self._decide(Decision.COMPLETE_ACTION, request, then=self._capa.completed)

    @complete_action.validator
    def _validate_complete_action(self, request: CompleteActionInput) -> None:
        self._validate(Decision.COMPLETE_ACTION, request)

    @workflow.update
    async def extend(self, request: ExtendInput) -> DecisionReceipt:
        return await self._decide(Decision.EXTEND, request, then=self._capa.due_moved)

    @extend.validator
    def _validate_extend(self, request: ExtendInput) -> None:
        self._validate(Decision.EXTEND, request)

    @workflow.update
    async def verify(self, request: VerifyInput) -> DecisionReceipt:
        return await self._decide(Decision.VERIFY, request)

    @verify.validator
    def _validate_verify(self, request: VerifyInput) -> None:
        self._validate(Decision.VERIFY, request)

    @workflow.update
    async def close(self, request: CloseInput) -> DecisionReceipt:
        return await self._decide(Decision.CLOSE, request)

    @close.validator
    def _validate_close(self, request: CloseInput) -> None:
        self._validate(Decision.CLOSE, request)

    @workflow.update
    async def reject(self, request: RejectInput) -> DecisionReceipt:
        return await self._decide(Decision.REJECT, request)

    @reject.validator
    def _validate_reject(self, request: RejectInput) -> None:
        self._validate(Decision.REJECT, request)

    @workflow.update
    async def reopen(self, request: ReopenInput) -> DecisionReceipt:
        return await self._decide(Decision.REOPEN, request)

    @reopen.validator
    def _validate_reopen(self, request: ReopenInput) -> None:
        self._validate(Decision.REOPEN, request)

    @workflow.update
    async def add_information(self, request: AddInformationInput) -> DecisionReceipt:
        return await self._decide(Decision.ADD_INFORMATION, request)

    @add_information.validator
    def _validate_add_information(self, request: AddInformationInput) -> None:
        self._validate(Decision.ADD_INFORMATION, request)

    @workflow.update
    async def record_survey(self, request: RecordSurveyInput) -> DecisionReceipt:
        return await self._decide(Decision.RECORD_SURVEY, request)

    @record_survey.validator
    def _validate_record_survey(self, request: RecordSurveyInput) -> None:
        self._validate(Decision.RECORD_SURVEY, request)

    @workflow.update
    async def record_regulatory_report(self, request: RegulatoryReportInput) -> DecisionReceipt:
        return await self._decide(Decision.RECORD_REGULATORY_REPORT, request)

    @record_regulatory_report.validator
    def _validate_record_regulatory_report(self, request: RegulatoryReportInput) -> None:
        self._validate(Decision.RECORD_REGULATORY_REPORT, request)

    # -- facts by signal -------------------------------------------------------------------

    @workflow.signal(name=CUSTOMER_ACTIVITY_SIGNAL)
    async def record_customer_activity(self, activity: CustomerActivityInput) -> None:
        """Customer activity for retention KPIs. A signal, so it never waits for a worker;
        de-duplicated here by event id because Temporal does not do so durably."""
        if activity.event_id in self._seen_events:
            return
        self._seen_events.append(activity.event_id)
        await workflow.wait_condition(lambda: self._ready)
        async with self._case.lock:
            await facts.record_customer_activity(self._case, activity)

    @workflow.signal(name=OVERDUE_SIGNAL)
    async def capa_action_overdue(self, notice: CapaActionOverdue) -> None:
        """From a CAPA child: its due date passed (it already wrote the audit entry)."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._case.lock:
            await escalation.mark_action_overdue(self._case, notice)

    # -- how a decision is taken -------------------------------------------------------------

    def _validate(self, decision: Decision, request: DecisionInput) -> None:
        """Refuse an illegal decision before anything is written to history."""
        update_id = _update_id()
        earlier = self._applied.get(update_id)
        if earlier is not None:
            self._same_as(earlier, decision, request, update_id)
            return  # a retry of a decision already taken: answer it again
        self._judge(decision, request)

    def _judge(self, decision: Decision, request: DecisionInput) -> None:
        now = workflow.now()
        try:
            judge(self.state, decision, request, now)
        except Refused as refused:
            raise refusal_error(self.state, decision, refused, now) from None

    def _same_as(
        self, earlier: DecisionReceipt, decision: Decision, request: DecisionInput, update_id: str
    ) -> None:
        """The same update id with other content is a conflict, never a silent no-op."""
        if earlier.request_hash != request_digest(decision, request):
            raise conflict_error(self.state, decision, update_id, earlier)

    async def _decide(
        self,
        decision: Decision,
        request: DecisionInput,
        *,
        then: Callable[[ComplaintState, Any], Awaitable[None]] | None = None,
    ) -> DecisionReceipt:
        """Judge again under the lock, sign, audit, apply; then tell the CAPA children."""
        update_id = _update_id()
        await workflow.wait_condition(lambda: self._ready)
        async with self._case.lock:
            earlier = self._applied.get(update_id)
            if earlier is not None:
                self._same_as(earlier, decision, request, update_id)
                return earlier
            if decision is Decision.EXTEND and not workflow.patched(EARLIER_NEEDS_FLAG):
                # replaying a run from before the rule: it moved due dates earlier freely
                request = request.model_copy(update={"allow_earlier": True})
            # another decision may have been taken since this one was validated
            self._judge(decision, request)
            now = workflow.now()
            before, signed_hash = self.state, state_hash(self.state)
            candidate = self._case.draft()
            signed = Signed(by=request.actor, at=now, loop=candidate.loop, comment=request.comment)
            what = LOGIC[decision].apply(candidate, request, signed)
            entry = decision_entry(
                decision,
                request,
                update_id=update_id,
                before=before,
                after=candidate,
                what=what,
                signed_hash=signed_hash,
                now=now,
            )
            audit_seq = await self._case.commit(candidate, entry, now)
            answer = view.receipt(
                self.state,
                decision=decision,
                update_id=update_id,
                audit_seq=audit_seq,
                what=what,
                request_hash=request_digest(decision, request),
                now=now,
            )
            self._remember(update_id, answer)
            if then is not None:
                await then(self.state, request)
        return answer

    def _remember(self, update_id: str, answer: DecisionReceipt) -> None:
        self._applied[update_id] = answer
        while len(self._applied) > APPLIED_UPDATES_KEPT:
            del self._applied[next(iter(self._applied))]


def _update_id() -> str:
    info = workflow.current_update_info()
    return info.id if info is not None else str(workflow.uuid4())
