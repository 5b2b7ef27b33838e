"""`quality.signals.v1`: a trend signal, as the monitoring plan's method found it.

Outbound: the quality system, a dashboard or the improvement workflow reads it. A signal's
id is stable (the same rule, group, test and period give the same id in every run), so a
consumer that sees it twice keeps one. Mirrors the JSON Schema next to it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints

from schemas.events import Id128, Pattern, RfcDateTime, SchemaInt, _Contract

SIGNAL_ID_PATTERN = r"^sig-[0-9a-f]{16}$"
HASH_PATTERN = r"^[0-9a-f]{64}$"
RULE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
PERIOD_LABEL_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2]|W(0[1-9]|[1-4][0-9]|5[0-3]))$"
DAY_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
SIGNAL_ENTRY = "trends.signal"  # the audit entry that keeps a signal
TRENDS_COMPLAINT_ID = "trends"  # audit entries need a complaint id: signals concern many


def _strict_number(value: Any) -> Any:
    # JSON Schema's "number": an int or a float, never a string or a bool.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    return float(value)


Number = Annotated[float, BeforeValidator(_strict_number), Field(allow_inf_nan=False)]


class Method(StrEnum):
    C_CHART = "c_chart"
    U_CHART = "u_chart"
    POISSON_EXACT = "poisson_exact"
    EWMA = "ewma"
    CUSUM = "cusum"


class Test(StrEnum):
    """What fired: a run rule of a control chart, or the method itself."""

    BEYOND_LIMITS = "beyond_limits"
    NINE_ONE_SIDE = "nine_one_side"
    SIX_TREND = "six_trend"
    POISSON_EXACT = "poisson_exact"
    EWMA = "ewma"
    CUSUM = "cusum"


class Way(StrEnum):
    UP = "up"
    DOWN = "down"


GroupValue = Annotated[str, StringConstraints(min_length=1, max_length=128)]
GroupDimension = Annotated[str, Pattern(r"^(product|category|channel|source|severity|reportable)$")]


class QualitySignal(_Contract):
    signal_id: Annotated[str, Pattern(SIGNAL_ID_PATTERN)]
    detected_at: RfcDateTime
    run_id: Id128
    rule: Annotated[str, Pattern(RULE_PATTERN)]
    method: Method
    test: Test
    direction: Way
    metric: Id128
    group: dict[GroupDimension, GroupValue] = Field(max_length=6)
    period: Annotated[str, Pattern(PERIOD_LABEL_PATTERN)]
    period_start: Annotated[str, Pattern(DAY_PATTERN)]
    period_end: Annotated[str, Pattern(DAY_PATTERN)]
    value: Number
    centre: Number | None = None
    lower: Number | None = None
    upper: Number | None = None
    p_value: Annotated[Number, Field(ge=0, le=1)] | None = None
    statistic: Number | None = None
    limit: Number | None = None
    baseline_from: Annotated[str, Pattern(PERIOD_LABEL_PATTERN)]
    baseline_to: Annotated[str, Pattern(PERIOD_LABEL_PATTERN)]
    baseline_periods: Annotated[SchemaInt, Field(ge=1)]
    plan_version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    plan_hash: Annotated[str, Pattern(HASH_PATTERN)]
    as_of_tree_size: Annotated[SchemaInt, Field(ge=0)]
    as_of_root_hash: Annotated[str, Pattern(HASH_PATTERN)]
    summary: Annotated[str, StringConstraints(min_length=1, max_length=1000)]

    def to_json(self) -> dict[str, Any]:
        """The event as the schema has it: absent values left out, never null."""
        return self.model_dump(mode="json", exclude_none=True)
