"""Handing the configured deadline policy to workflows, which must not read the environment."""

from __future__ import annotations

from temporalio import activity

from schemas.deadlines import DeadlinePolicy


class PolicyActivities:
    """Bound to the worker's settings; run as a local activity once per complaint, at start."""

    def __init__(self, policy: DeadlinePolicy) -> None:
        self._policy = policy

    @activity.defn(name="load_deadline_policy")
    def load_deadline_policy(self) -> DeadlinePolicy:
        return self._policy
