"""ImprovementWorkflow: one preventive action, as a Plan-Do-Check-Act cycle.

ISO 9001:2015 10.3 and ISO 13485 8.5.3 ask that what the complaint data shows is acted on
before it recurs: a trend signal (or an operator) opens an improvement with an owner, a
problem statement, the signal and the complaints behind it, and the KPI figure that shows
the problem. Then, round by round:

- Plan: what will change, and the actions (`plan`).
- Do: each action runs as a CAPA child workflow, exactly as a complaint's actions do, with
  its own due date and escalation (`complete_action` with evidence).
- Check: the same figure over the periods after the round's actions, measured from the
  audit log by an activity, against its level in the periods before (`check`).
- Act: standardise, which ends the improvement, or go round again, back to Plan.

Every decision is a Temporal Update whose validator refuses an illegal decision before
anything is written; each is signed (the signer, what the signature means, the hash of the
state signed) and audited before the state moves, exactly once (`{improvement_id}:{update
id}`). Each stage has a durable deadline; a missed one is audited and marked overdue.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    import schemas.capa_action
    import schemas.complaint_state
    import schemas.decisions
    import schemas.improvement
    import schemas.markers
    import schemas.outcomes
    import schemas.search_attributes  # noqa: F401  (passed through, used by the modules below)
    from schemas.capa_action import CapaActionOverdue
    from schemas.decisions import DecisionInput
    from schemas.improvement import (
        IMPROVEMENT_STATE_QUERY,
        IMPROVEMENT_WORKFLOW,
        LOAD_POLICY_ACTIVITY,
        MEASURE_ACTIVITY,
        FigureMeasured,
        ImprovementDecision,
        ImprovementPolicy,
        ImprovementReceipt,
        ImprovementStage,
        ImprovementState,
        ImprovementStatus,
        MeasureFigure,
        OpenImprovement,
        Signed,
    )
    from schemas.outcomes import request_digest

from workflows import improvement_deadlines as deadlines
from workflows import improvement_view as view
from workflows.capa import OVERDUE_SIGNAL
from workflows.capa_children import CapaChildren
from workflows.improvement_file import ImprovementFile, decision_entry, opened_entry
from workflows.improvement_judgment import conflict_error, judge, refusal_error
from workflows.improvement_spec import SPECS, ImprovementSpec
from workflows.retries import POLICY_ACTIVITY_TIMEOUT
from workflows.rules import Refused
from workflows.rules.improvement import open_stage, periods_to_measure

T = TypeVar("T")

APPLIED_UPDATES_KEPT = 256
# Figures over a large log take a while; a figure that cannot be computed is refused.
MEASURE_TIMEOUT = timedelta(minutes=10)
MEASURE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1), maximum_attempts=5
)


def decision_updates(cls: type[T]) -> type[T]:
    """One Update per decision spec, named after it, typed by its input, validator beside it."""
    for spec in SPECS:
        setattr(cls, spec.decision.value, _update_for(spec))
    return cls


def _update_for(spec: ImprovementSpec) -> object:
    name = spec.decision.value

    async def handler(self: ImprovementWorkflow, request: DecisionInput) -> ImprovementReceipt:
        return await self._decide(spec, request)

    def validator(self: ImprovementWorkflow, request: DecisionInput) -> None:
        self._validate(spec.decision, request)

    handler.__name__ = handler.__qualname__ = name
    validator.__name__ = validator.__qualname__ = f"validate_{name}"
    handler.__annotations__ = {"request": spec.input_type, "return": ImprovementReceipt}
    validator.__annotations__ = {"request": spec.input_type, "return": None}
    update = workflow.update(name=name)(handler)
    update.validator(validator)
    return update


@workflow.defn(name=IMPROVEMENT_WORKFLOW)
@decision_updates
class ImprovementWorkflow:
    """The Plan-Do-Check-Act cycle of one improvement, from opening to standardisation."""

    @workflow.init
    def __init__(self, opened: OpenImprovement) -> None:
        self._file = ImprovementFile(
            ImprovementState(
                improvement_id=opened.improvement_id,
                status=ImprovementStatus.PLANNING,
                opened=opened,
                opened_at=workflow.now(),
            )
        )
        self._actions = CapaChildren()
        self._ready = False  # the opening is audited
        self._applied: dict[str, ImprovementReceipt] = {}

    @workflow.run
    async def run(self, opened: OpenImprovement) -> ImprovementState:
        await self._open()
        self._ready = True
        await deadlines.keep_deadlines(self._file)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._actions.finished()
        return self.state

    async def _open(self) -> None:
        """Take the deadlines (given, or the worker's), audit the opening, start the clock
        to plan."""
        candidate = self._file.draft()
        candidate.policy = candidate.opened.policy or await workflow.execute_local_activity(
            LOAD_POLICY_ACTIVITY,
            result_type=ImprovementPolicy,
            start_to_close_timeout=POLICY_ACTIVITY_TIMEOUT,
        )
        now = workflow.now()
        open_stage(candidate, ImprovementStage.PLAN, now, now + candidate.policy.plan)
        await self._file.commit(candidate, opened_entry(candidate), now)

    @property
    def state(self) -> ImprovementState:
        return self._file.state

    @workflow.query(name=IMPROVEMENT_STATE_QUERY)
    def improvement_state(self) -> ImprovementState:
        """Everything at once: the cycle so far, who decided, what is due next and by when."""
        return view.snapshot(self.state, workflow.now())

    @workflow.signal(name=OVERDUE_SIGNAL)
    async def capa_action_overdue(self, notice: CapaActionOverdue) -> None:
        """From a CAPA child: its due date passed (it already wrote the audit entry)."""
        await workflow.wait_condition(lambda: self._ready)
        async with self._file.lock:
            await deadlines.mark_action_overdue(self._file, notice)

    # -- how a decision is taken -----------------------------------------------------------

    def _validate(self, decision: ImprovementDecision, request: DecisionInput) -> None:
        """Refuse an illegal decision before anything is written to history."""
        earlier = self._applied.get(_update_id())
        if earlier is not None:
            self._same_as(earlier, decision, request)
            return  # a retry of a decision already taken: answer it again
        self._judge(decision, request)

    def _judge(self, decision: ImprovementDecision, request: DecisionInput) -> None:
        now = workflow.now()
        try:
            judge(self.state, decision, request, now)
        except Refused as refused:
            raise refusal_error(self.state, decision, refused, now) from None

    def _same_as(
        self, earlier: ImprovementReceipt, decision: ImprovementDecision, request: DecisionInput
    ) -> None:
        if earlier.request_hash != request_digest(decision, request):
            raise conflict_error(self.state, decision, _update_id(), earlier)

    async def _decide(self, spec: ImprovementSpec, request: DecisionInput) -> ImprovementReceipt:
        """Judge again under the lock, measure if the decision needs it, sign, audit, apply;
        then tell the CAPA children."""
        decision, update_id = spec.decision, _update_id()
        await workflow.wait_condition(lambda: self._ready)
        async with self._file.lock:
            earlier = self._applied.get(update_id)
            if earlier is not None:
                self._same_as(earlier, decision, request)
                return earlier
            self._judge(decision, request)  # another decision may have come first
            measured = await self._measure(decision) if spec.measures else None
            now = workflow.now()
            before, candidate = self.state, self._file.draft()
            signed = Signed(
                by=request.actor, at=now, round=candidate.round, comment=request.comment
            )
            what = spec.logic.apply(candidate, request, signed, measured)
            entry = decision_entry(
                decision,
                request,
                entry_type=spec.entry_type,
                meaning=spec.meaning,
                update_id=update_id,
                before=before,
                after=candidate,
                what=what,
                now=now,
                data={"check": candidate.checks[-1].model_dump(mode="json")} if measured else None,
            )
            audit_seq = await self._file.commit(candidate, entry, now)
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
                await spec.after(self._actions, self.state, request)
        return answer

    async def _measure(self, decision: ImprovementDecision) -> FigureMeasured:
        """The figure per period, computed from the audit log by `closeloop kpi`'s code."""
        periods = periods_to_measure(self.state, workflow.now())
        try:
            return await workflow.execute_activity(
                MEASURE_ACTIVITY,
                MeasureFigure(measure=self.state.opened.measure, periods=periods),
                result_type=FigureMeasured,
                start_to_close_timeout=MEASURE_TIMEOUT,
                retry_policy=MEASURE_RETRY,
                summary=f"{self.state.opened.measure.figure} over {len(periods)} periods",
            )
        except ActivityError as failed:
            reason = getattr(failed.cause, "message", None) or str(failed.cause or failed)
            refused = Refused(f"the figure could not be measured: {reason}")
            raise refusal_error(self.state, decision, refused, workflow.now()) from None

    def _remember(self, update_id: str, answer: ImprovementReceipt) -> None:
        self._applied[update_id] = answer
        while len(self._applied) > APPLIED_UPDATES_KEPT:
            del self._applied[next(iter(self._applied))]


def _update_id() -> str:
    info = workflow.current_update_info()
    return info.id if info is not None else str(workflow.uuid4())
