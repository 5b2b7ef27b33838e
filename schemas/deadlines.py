"""How long each stage of a complaint may take: the documented defaults, configurable.

Set `CLOSELOOP_DEADLINES` to a JSON object overriding any field, durations as ISO 8601
(`"P2D"`, `"PT36H"`) or seconds, e.g.

    CLOSELOOP_DEADLINES='{"investigation": {"high": "P10D"}, "auto_acknowledge": false}'

A complaint's workflow reads the policy once, when it starts, and keeps it in its state: a
later change of configuration applies to new complaints only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.decisions import Severity

DAY = timedelta(days=1)


class PerSeverity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    low: timedelta
    medium: timedelta
    high: timedelta
    critical: timedelta

    def for_severity(self, severity: Severity) -> timedelta:
        value: timedelta = getattr(self, severity.value)
        return value


class DeadlinePolicy(BaseModel):
    """Defaults follow common practice for ISO 10002 / 21 CFR 820.198 complaint handling."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    auto_acknowledge: bool = Field(
        default=True, description="acknowledge on receipt; False: a person acknowledges"
    )
    acknowledge: timedelta = Field(default=1 * DAY, description="from receipt")
    triage: timedelta = Field(default=2 * DAY, description="from receipt")
    investigation: PerSeverity = Field(
        default=PerSeverity(low=30 * DAY, medium=20 * DAY, high=15 * DAY, critical=5 * DAY),
        description="from triage (or reopening) to a concluded investigation",
    )
    verification_wait: timedelta = Field(
        default=30 * DAY, description="after the last CAPA action, before verifying"
    )
    verification: timedelta = Field(
        default=30 * DAY, description="to verify, once the verification wait has passed"
    )
    closure: PerSeverity = Field(
        default=PerSeverity(low=30 * DAY, medium=30 * DAY, high=60 * DAY, critical=60 * DAY),
        description="from receipt (or reopening) to closure; high and critical complaints "
        "usually need CAPA and its verification, hence longer",
    )
    regulator_report: PerSeverity = Field(
        default=PerSeverity(low=30 * DAY, medium=15 * DAY, high=10 * DAY, critical=2 * DAY),
        description="from the date the company became aware to the report to the regulator",
    )
    retention_after_close: timedelta = Field(
        default=90 * DAY,
        description="how long a closed or rejected case keeps accepting surveys, customer "
        "activity and reopening before its workflow completes",
    )

    @model_validator(mode="before")
    @classmethod
    def _merge_partial_severities(cls, data: Any) -> Any:
        """`{"investigation": {"high": "P10D"}}` overrides one severity, keeps the others."""
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, info in cls.model_fields.items():
            value = merged.get(name)
            if isinstance(value, dict) and isinstance(info.default, PerSeverity):
                merged[name] = {**info.default.model_dump(), **value}
        return merged


class ImprovementPolicy(BaseModel):
    """How long each stage of an improvement may take before it is escalated
    (`CLOSELOOP_IMPROVEMENT_DEADLINES`, e.g. `{"plan": "P7D"}`); read by the improvement's
    workflow once, when it opens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plan: timedelta = Field(
        default=14 * DAY, description="from opening, or going round again, to a plan"
    )
    check: timedelta = Field(
        default=14 * DAY, description="to check, once the periods after the actions have passed"
    )
    act: timedelta = Field(default=7 * DAY, description="from the check to standardise or go again")
