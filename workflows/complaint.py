"""ComplaintWorkflow: one durable workflow carries one customer complaint to closure.

ISO 10002 asks that every complaint is recorded, acknowledged promptly and tracked to the
end; ISO 9001:2015 10.2 asks that the nonconformity behind it is investigated, corrected and
the correction verified; 21 CFR 820.198 expects a complaint file that shows all of it. The
workflow id is the complaint id, so a complaint can never have two cases.

People make the judgment calls, as Temporal Updates (one per `Decision`, each with a
validator that refuses an illegal decision before anything is written); durable timers
enforce every deadline. Each decision is defined once, in `workflows/decision_spec.py` (its
input, where the lifecycle allows it, its rules, what follows it); the Updates are made from
those specs, the rules of each decision live in `workflows/rules/`.

Every decision is written to the audit log before the state moves, exactly once: the
idempotency key is `{complaint_id}:{update_id}`, and callers relaying an event use the event
id as the Update id. Each Update returns a small `DecisionReceipt` (its result is stored in
history); the full state is the `current_state` query. A long-lived case stays small: the
state keeps the latest history entries only, and the run continues as new when Temporal
suggests it or past `CONTINUE_AFTER_EVENTS`, carrying the state, the de-duplication
memories and its running CAPA children (started with ParentClosePolicy ABANDON).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TypeVar

from temporalio import workflow

# Every data contract and activity this workflow's code uses comes from the host, once, here:
# the sandbox then re-imports (and polices) only our own workflow modules below, and they
# share the host's classes (an enum member is the same object on both sides).
with workflow.unsafe.imports_passed_through():
    import schemas.capa_action
    import schemas.complaint_state
    import schemas.deadlines
    import schemas.decisions
    import schemas.events
    import schemas.markers
    import schemas.outcomes
    import schemas.reporting_rules
    import schemas.search_attributes
    import schemas.status_event  # noqa: F401  (passed through, used by the modules below)
    from activities.policy import PolicyActivities
    from schemas.capa_action import CapaActionOverdue
    from schemas.complaint_state import CarriedOver, ComplaintState, ComplaintStatus, Signed
    from schemas.decisions import (
        COMPLAINT_WORKFLOW,
        CUSTOMER_ACTIVITY_SIGNAL,
        MESSAGE_DELIVERY_SIGNAL,
        STATE_QUERY,
        CustomerActivityInput,
        Decision,
        DecisionInput,
        MessageDeliveryInput,
    )
    from schemas.events import ComplaintReceived
    from schemas.outcomes import DecisionReceipt, request_digest

from workflows import correspondence, escalation, facts, receipt, reporting_version, similar, view
from workflows.capa import OVERDUE_SIGNAL
from workflows.capa_children import CapaChildren
from workflows.case_file import BOUNDED_HISTORY, CaseFile, decision_entry
from workflows.decision_spec import SPECS, DecisionSpec
from workflows.judgment import judge
from workflows.refusals import conflict_error, refusal_error
from workflows.retries import LOCAL_ACTIVITIES, POLICY_ACTIVITY_TIMEOUT
from workflows.rules import Refused
from workflows.signature import state_hash

T = TypeVar("T")

# Bounded memories of what was already applied: Update ids with their receipts (belt and
# braces behind the server's own de-duplication, which answers a reused id with the first
# receipt: clients compare its `request_hash`) and signal event ids (signals are not
# de-duplicated durably).
APPLIED_UPDATES_KEPT = 256
# Moving a due date earlier needs `allow_earlier` (bug 8.9); runs that took such a decision
# before the rule existed replay as they ran.
EARLIER_NEEDS_FLAG = "extend-earlier-needs-flag"
# A long-lived case (90 days open for surveys after closure, chatty upstream systems) hands
# its state to a fresh run when Temporal suggests it or past this many history events, far
# below Temporal's warnings (10,240 events, 10 MB).
CONTINUE_AFTER_EVENTS = 1000
CONTINUE_AS_NEW = "continue-as-new"
SEEN_EVENTS_KEPT = 1000


def decision_updates(cls: type[T]) -> type[T]:
    """Give the class one Update per decision spec, named after the decision, typed by its
    input (the SDK decodes the input by the annotation) and with its validator beside it."""
    for spec in SPECS:
        setattr(cls, spec.decision.value, _update_for(spec))
    return cls


def _update_for(spec: DecisionSpec) -> object:
    name = spec.decision.value

    async def handler(self: ComplaintWorkflow, request: DecisionInput) -> DecisionReceipt:
        return await self._decide(spec, request)

    def validator(self: ComplaintWorkflow, request: DecisionInput) -> None:
        self._validate(spec.decision, request)

    handler.__name__ = handler.__qualname__ = name
    validator.__name__ = validator.__qualname__ = f"validate_{name}"
    handler.__annotations__ = {"request": spec.input_type, "return": DecisionReceipt}
    validator.__annotations__ = {"request": spec.input_type, "return": None}
    update = workflow.update(name=name)(handler)
    update.validator(validator)
    return update


@workflow.defn(name=COMPLAINT_WORKFLOW)
@decision_updates
class ComplaintWorkflow:
    """The lifecycle of one complaint, from receipt to closure."""

    @workflow.init
    def __init__(self, start: ComplaintReceived | CarriedOver) -> None:
        """`start`: the complaint as received, or what the previous run of its case carried
        over when it continued as new (one argument, so saved histories decode as before)."""
        carried = start if isinstance(start, CarriedOver) else None
        complaint = carried.state.complaint if carried is not None else start
        assert isinstance(complaint, ComplaintReceived)
        self._case = CaseFile(
            carried.state
            if carried is not None
            else ComplaintState(
                complaint_id=complaint.complaint_id,
                status=ComplaintStatus.RECEIVED,
                complaint=complaint,
                received_at=workflow.now(),
            )
        )
        self._capa = CapaChildren(
            carried.running_actions if carried else None, complaint.complaint_id
        )
        self._correspondent = correspondence.Correspondent(self._case)
        self._ready = False  # receipt (and automatic acknowledgment) recorded
        self._may_continue_as_new = False
        # While handing over to the next run, customer activity is carried, not recorded, so
        # a steady stream of signals cannot keep this run from finishing.
        self._handing_over = False
        self._pending_activity: list[CustomerActivityInput] = []
        # update id -> the receipt it got (with the digest of its request), oldest first
        self._applied: dict[str, DecisionReceipt] = {
            r.update_id: r for r in (carried.applied if carried else [])
        }
        self._seen_events: deque[str] = deque(
            carried.seen_events if carried else [], maxlen=SEEN_EVENTS_KEPT
        )

    @workflow.run
    async def run(self, start: ComplaintReceived | CarriedOver) -> ComplaintState:
        # Decided once, at the start of the run: runs started before these changes replay
        # (and go on) as they were; new runs record the markers in their first task.
        self._case.local_activities = workflow.patched(LOCAL_ACTIVITIES)
        self._case.bounded_history = workflow.patched(BOUNDED_HISTORY)
        self._may_continue_as_new = workflow.patched(CONTINUE_AS_NEW)
        tell_complainant = workflow.patched(correspondence.CUSTOMER_MESSAGES)
        look_up_similar = workflow.patched(similar.SIMILAR_COMPLAINTS)
        publisher = asyncio.create_task(self._case.publish_in_order())
        if not isinstance(start, CarriedOver):
            self.state.reporting_rules = reporting_version.version_for_new_case()
            self.state.policy = await workflow.execute_local_activity_method(
                PolicyActivities.load_deadline_policy,
                start_to_close_timeout=POLICY_ACTIVITY_TIMEOUT,
            )
            if tell_complainant:
                self.state.message_policy = await correspondence.load_policy()
            found = await similar.look_up(self._case) if look_up_similar else None
            await receipt.receive(self._case, found)
            if self.state.policy.auto_acknowledge:
                await receipt.acknowledge_on_receipt(self._case)
        else:
            self._case.show(workflow.now())  # this run's search attributes and details
        self._ready = True
        correspondent = asyncio.create_task(self._correspondent.correspond())
        carried_activity = start.pending_activity if isinstance(start, CarriedOver) else []
        for activity in carried_activity:  # signalled while the previous run handed over
            async with self._case.lock:
                await facts.record_customer_activity(self._case, activity)
        go_on = await escalation.keep_deadlines(self._case, self._should_continue_as_new)
        self._handing_over = go_on
        await workflow.wait_condition(workflow.all_handlers_finished)
        if not go_on:
            await self._capa.finished()
        self._correspondent.close()
        await correspondent
        self._case.close_outbox()
        await publisher
        if go_on:
            workflow.continue_as_new(self._carried_over())
        return self._case.snapshot()

    def _should_continue_as_new(self) -> bool:
        """When Temporal suggests it, or past our own bound on history events; never while a
        CAPA child would be terminated with this run (children of runs from before)."""
        info = workflow.info()
        long = info.get_current_history_length() >= CONTINUE_AFTER_EVENTS
        if not (long or info.is_continue_as_new_suggested()):
            return False
        return self._may_continue_as_new and self._capa.may_continue_as_new()

    def _carried_over(self) -> CarriedOver:
        return CarriedOver(
            state=self.state,
            applied=list(self._applied.values()),
            seen_events=list(self._seen_events),
            running_actions=self._capa.still_running(self.state),
            pending_activity=list(self._pending_activity),
        )

    @property
    def state(self) -> ComplaintState:
        return self._case.state

    # -- queries -------------------------------------------------------------------------

    @workflow.query(name=STATE_QUERY)
    def current_state(self) -> ComplaintState:
        """Everything at once: what happened, who decided, what is due next and by when."""
        return self._case.snapshot()

    # -- decisions: one Update each, from the decision specs (see `decision_updates`) ------

    # -- facts by signal -------------------------------------------------------------------

    @workflow.signal(name=CUSTOMER_ACTIVITY_SIGNAL)
    async def record_customer_activity(self, activity: CustomerActivityInput) -> None:
        """Customer activity for retention KPIs. A signal, so it never waits for a worker;
        de-duplicated here by event id because Temporal does not do so durably."""
        if activity.event_id in self._seen_events:
            return
        self._seen_events.append(activity.event_id)
        await workflow.wait_condition(lambda: self._ready)
        if self._handing_over:  # recorded by the next run: lets this one finish now
            self._pending_activity.append(activity)
            return
        async with self._case.lock:
            if self._handing_over:
                self._pending_activity.append(activity)
                return
            await facts.record_customer_activity(self._case, activity)

    @workflow.signal(name=MESSAGE_DELIVERY_SIGNAL)
    async def record_message_delivery(self, report: MessageDeliveryInput) -> None:
        """From the deliverer of a message to the complainant; de-duplicated by event id."""
        if report.event_id in self._seen_events:
            return
        self._seen_events.append(report.event_id)
        await workflow.wait_condition(lambda: self._ready)
        async with self._case.lock:
            await correspondence.record_delivery(self._case, report)

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

    async def _decide(self, spec: DecisionSpec, request: DecisionInput) -> DecisionReceipt:
        """Judge again under the lock, sign, audit, apply; then tell the CAPA children."""
        decision, update_id = spec.decision, _update_id()
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
            what = spec.logic.apply(candidate, request, signed)
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
            if spec.after is not None:
                await spec.after(self._capa, self.state, request)
        return answer

    def _remember(self, update_id: str, answer: DecisionReceipt) -> None:
        self._applied[update_id] = answer
        while len(self._applied) > APPLIED_UPDATES_KEPT:
            del self._applied[next(iter(self._applied))]


def _update_id() -> str:
    info = workflow.current_update_info()
    return info.id if info is not None else str(workflow.uuid4())
