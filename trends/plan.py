"""The monitoring plan: what is watched, and by which method, fixed before the data is seen.

A plan is a TOML or JSON file (CLOSELOOP_MONITORING_PLAN); without one the built-in
`DEFAULT_PLAN` applies (README, "Trend signals"). Every rule names its method and all of its
parameters, with defaults filled in, so the plan's hash identifies the method in force; the
run records a new audit entry whenever that hash changes.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from kpi.figures import BY_NAME, SHIPMENT_FIGURE
from schemas.decisions import Severity
from trends.charts import Direction, RunRule

# Figures whose value per period is a count of events: what a c-chart or a Poisson test reads.
COUNT_METRICS = (
    "complaints_received",
    "complaints_closed",
    "complaints_rejected",
    "csat_responses",
    "nps_responses",
    "promoters",
    "detractors",
)


class PlanError(ValueError):
    """A plan that cannot be used, said with the rule and field at fault."""


class Dimension(StrEnum):
    """Complaint attributes a rule may split or filter by (there is no site field: channel and
    source stand for where a complaint came from)."""

    PRODUCT = "product"
    CATEGORY = "category"
    CHANNEL = "channel"
    SOURCE = "source"
    SEVERITY = "severity"
    REPORTABLE = "reportable"


Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
Owner = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
# Dimensions with a closed set of values: a typo would silently match nothing.
KNOWN_VALUES: dict[Dimension, tuple[str, ...]] = {
    Dimension.SEVERITY: tuple(s.value for s in Severity),
    Dimension.REPORTABLE: ("yes", "no"),
}


class OpenImprovementSetting(BaseModel):
    """A new signal of the rule opens an improvement (preventive action) owned by `owner`.

    Off unless given: which trends deserve an improvement of their own is the quality
    lead's call, made in advance like the method (README, "Trend signals")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    owner: Owner = Field(description="who owns the improvement (a user id)")
    periods: int = Field(
        default=3, ge=1, le=24, description="periods before and after that the check compares"
    )


# Not part of a rule's method: changing the owner does not re-issue its signals.
NOT_METHOD = frozenset({"open_improvement"})


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    description: str = ""
    metric: str = "complaints_received"
    by: Dimension | None = None
    where: dict[Dimension, list[str]] = Field(default_factory=dict)
    baseline_periods: int = Field(default=12, ge=2, le=120)
    monitor_periods: int = Field(default=9, ge=1, le=60)
    direction: Direction = Direction.UP
    open_improvement: OpenImprovementSetting | None = None

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in BY_NAME:
            raise ValueError(f"{value!r} is not a KPI figure; choose from {', '.join(BY_NAME)}")
        return value

    @field_validator("where")
    @classmethod
    def _known_values(cls, where: dict[Dimension, list[str]]) -> dict[Dimension, list[str]]:
        for dimension, values in where.items():
            if not values:
                raise ValueError(f"{dimension.value}: give at least one value")
            allowed = KNOWN_VALUES.get(dimension)
            wrong = [v for v in values if allowed is not None and v not in allowed]
            if wrong:
                raise ValueError(
                    f"{dimension.value}: {wrong[0]!r} is not a value; choose from "
                    f"{', '.join(allowed or ())}"
                )
        return where

    @model_validator(mode="after")
    def _where_needs_counts(self) -> _Rule:
        if self.where and self.metric not in COUNT_METRICS:
            raise ValueError(
                "where: a filter adds counts, so metric must be a count "
                f"({', '.join(COUNT_METRICS)})"
            )
        return self

    @property
    def periods_needed(self) -> int:
        return self.baseline_periods + self.monitor_periods

    def method_dump(self) -> dict[str, Any]:
        """The rule's method and parameters: what a signal's id is derived from."""
        return self.model_dump(mode="json", exclude=set(NOT_METHOD))

    def canonical(self) -> dict[str, Any]:
        """Every default filled in; an unset `open_improvement` left out, so plans written
        before the setting existed keep their hash."""
        dumped = self.model_dump(mode="json")
        if self.open_improvement is None:
            del dumped["open_improvement"]
        return dumped


class _CountRule(_Rule):
    @model_validator(mode="after")
    def _counts_only(self) -> _CountRule:
        if self.metric not in COUNT_METRICS:
            raise ValueError(
                f"metric {self.metric!r}: this method needs a count ({', '.join(COUNT_METRICS)})"
            )
        return self


class CChartRule(_CountRule):
    """Counts per period against centre +- sigma x sqrt(centre), plus run rules."""

    method: Literal["c_chart"]
    sigma: float = Field(default=3.0, gt=0, le=6)
    run_rules: list[RunRule] = Field(default_factory=lambda: list(RunRule), min_length=1)


class UChartRule(_Rule):
    """Complaints per million units shipped, with limits that widen when fewer units ship."""

    method: Literal["u_chart"]
    metric: str = SHIPMENT_FIGURE
    sigma: float = Field(default=3.0, gt=0, le=6)
    run_rules: list[RunRule] = Field(default_factory=lambda: list(RunRule), min_length=1)

    @model_validator(mode="after")
    def _shipments(self) -> UChartRule:
        if self.metric != SHIPMENT_FIGURE:
            raise ValueError(f"metric: a u-chart reads {SHIPMENT_FIGURE}, not {self.metric!r}")
        if self.by not in (None, Dimension.PRODUCT):
            raise ValueError("by: shipments are known per product, so a u-chart splits by product")
        return self


class PoissonRule(_CountRule):
    """Exact one-sided test: are the last monitor_periods' events more than the baseline rate
    explains? With expected_per_period the baseline rate is that number, not estimated."""

    method: Literal["poisson_exact"]
    monitor_periods: int = Field(default=1, ge=1, le=60)
    alpha: float = Field(default=0.01, gt=0, lt=0.5)
    expected_per_period: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _increase_only(self) -> PoissonRule:
        if self.direction is not Direction.UP:
            raise ValueError("direction: the exact Poisson test looks for increases only (up)")
        return self


class EwmaRule(_Rule):
    """EWMA of (value - target) / spread; target and spread from the baseline unless given."""

    method: Literal["ewma"]
    lam: float = Field(default=0.25, gt=0, le=1)
    width: float = Field(default=2.998, gt=0, le=6)
    target: float | None = None
    spread: float | None = Field(default=None, gt=0)
    monitor_periods: int = Field(default=12, ge=1, le=60)


class CusumRule(_Rule):
    """Tabular CUSUM of (value - target) / spread with reference k and decision interval h."""

    method: Literal["cusum"]
    k: float = Field(default=0.5, ge=0, le=3)
    h: float = Field(default=5.0, gt=0, le=20)
    target: float | None = None
    spread: float | None = Field(default=None, gt=0)
    monitor_periods: int = Field(default=12, ge=1, le=60)


Rule = Annotated[
    CChartRule | UChartRule | PoissonRule | EwmaRule | CusumRule, Field(discriminator="method")
]


class MonitoringPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, max_length=64, description="the plan's own label")
    period: Literal["month", "week"] = "month"
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> MonitoringPlan:
        names = [r.name for r in self.rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"rules: the name {twice[0]!r} is used twice; names identify rules")
        for rule in self.rules:
            if isinstance(rule, UChartRule) and self.period != "month":
                raise ValueError(
                    f'rule {rule.name!r}: a u-chart needs period = "month" '
                    "(shipments are reported per month)"
                )
        return self

    def canonical(self) -> dict[str, Any]:
        """The plan with every default filled in: what the hash and the audit entry hold."""
        dumped = self.model_dump(mode="json")
        dumped["rules"] = [rule.canonical() for rule in self.rules]
        return dumped

    @property
    def content_hash(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def rule(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)


DEFAULT_PLAN_DATA: dict[str, Any] = {
    "version": "builtin-1",
    "period": "month",
    "rules": [
        {"name": "complaints-by-product", "method": "c_chart", "by": "product"},
        {"name": "complaints-by-category", "method": "c_chart", "by": "category"},
        {"name": "complaints-by-channel", "method": "c_chart", "by": "channel"},
        {"name": "complaints-per-million-units", "method": "u_chart", "by": "product"},
        {
            "name": "high-severity",
            "method": "poisson_exact",
            "where": {"severity": ["high", "critical"]},
        },
        {"name": "reportable", "method": "poisson_exact", "where": {"reportable": ["yes"]}},
        {"name": "complaints-drift", "method": "cusum"},
        {"name": "csat-drift", "method": "ewma", "metric": "csat_mean", "direction": "down"},
        {"name": "nps-drift", "method": "ewma", "metric": "nps", "direction": "down"},
    ],
}


METHODS = "c_chart, u_chart, poisson_exact, ewma, cusum"


def parse_plan(data: Any, *, where: str = "monitoring plan") -> MonitoringPlan:
    try:
        return MonitoringPlan.model_validate(data)
    except ValidationError as exc:
        raise PlanError(f"{where}: {_first_problem(exc, data)}") from None


DEFAULT_PLAN = parse_plan(DEFAULT_PLAN_DATA, where="built-in plan")


def load_plan(path: Path | None) -> MonitoringPlan:
    """The plan at `path` (TOML or JSON by suffix), or the built-in one when `path` is None."""
    if path is None:
        return DEFAULT_PLAN
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"monitoring plan {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        elif path.suffix == ".toml":
            data = tomllib.loads(text)
        else:
            raise PlanError(f"monitoring plan {path}: name it .toml or .json")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PlanError(
            f"monitoring plan {path}: not valid {path.suffix[1:].upper()}: {exc}"
        ) from None
    return parse_plan(data, where=f"monitoring plan {path}")


def _first_problem(exc: ValidationError, data: Any) -> str:
    error = exc.errors()[0]
    loc = list(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "union_tag_invalid":  # an unknown method
        loc.append("method")
        message = f"{error['input'].get('method')!r} is not a method; choose from {METHODS}"
    elif error["type"] == "union_tag_not_found":
        loc.append("method")
        message = f"missing; choose from {METHODS}"
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        index = loc[1]
        rules = data.get("rules") if isinstance(data, dict) else None
        raw = rules[index] if isinstance(rules, list) and index < len(rules) else None
        name = raw.get("name") if isinstance(raw, dict) else None
        label = f"rule {name!r}" if isinstance(name, str) else "rule"
        rest = [str(p) for p in loc[2:] if not _is_method_tag(p, raw)]
        field = f", field {'.'.join(rest)}" if rest else ""
        return f"{label} (#{index + 1}){field}: {message}"
    field = ".".join(str(p) for p in loc)
    return f"field {field}: {message}" if field else message


def _is_method_tag(part: Any, raw: Any) -> bool:
    """pydantic puts the union member (the method) in the location; the user did not write it."""
    return isinstance(raw, dict) and part == raw.get("method")
