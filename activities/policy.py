"""Handing the configured deadline policies to workflows, which must not read the environment."""

from __future__ import annotations

from temporalio import activity

from schemas.deadlines import DeadlinePolicy, ImprovementPolicy


class PolicyActivities:
    """Bound to the worker's settings; run as a local activity once per complaint (or
    improvement), at start."""

    def __init__(
        self, policy: DeadlinePolicy, improvement: ImprovementPolicy | None = None
    ) -> None:
        self._policy = policy
        self._improvement = improvement or ImprovementPolicy()

    @activity.defn(name="load_deadline_policy")
    def load_deadline_policy(self) -> DeadlinePolicy:
        return self._policy

    @activity.defn(name="load_improvement_policy")
    def load_improvement_policy(self) -> ImprovementPolicy:
        return self._improvement
