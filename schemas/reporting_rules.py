"""Which reports a complaint owes which regulator, and by when: the versioned rules table.

Reportability is per market and event class, not per severity. Triage records the markets
concerned, the event class and whether remedial action is needed; `RulesTable.required`
turns that into the reports the case owes, each with its own clock:

    US, remedial action needed to prevent an unreasonable risk of substantial harm:
        FDA MDR 5-day report, 5 work days (21 CFR 803.53(a))
    US, any other reportable event (death, serious injury, malfunction):
        FDA MDR 30-day report, 30 calendar days (21 CFR 803.50(a))
    EU, serious public health threat:
        serious incident report, 2 calendar days (EU MDR Art. 87(4))
    EU, death or unanticipated serious deterioration in health:
        serious incident report, 10 calendar days (EU MDR Art. 87(5))
    EU, any other serious incident (a malfunction that could lead to one):
        serious incident report, 15 calendar days (EU MDR Art. 87(3))

Every clock runs from awareness, as both regulations count it ("becomes aware"): the time
triage gives (`aware_at`), else the time the complaint was received upstream (the
`occurred_at` of `complaints.received.v1`, or the time Closeloop received it if that is
earlier). Work days are Monday to Friday in UTC; there is no holiday calendar, so on a week
with a US federal holiday the clock falls due a day *earlier* than the law's, never later.

Versions: a table is never changed in place. A new version is added to `TABLES` (with its
own patch id, so workflows pick it deterministically) and becomes `CURRENT`; a complaint
keeps the version recorded in its state when its workflow started, so its clocks never move
under it. Old versions stay here for as long as any complaint may use them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Market(StrEnum):
    """Where the device is marketed: whose regulator must hear of the event."""

    US = "US"
    EU = "EU"


class EventClass(StrEnum):
    """What happened, in terms both regulations share."""

    DEATH = "death"
    SERIOUS_INJURY = "serious_injury"  # EU: an unanticipated serious deterioration in health
    PUBLIC_HEALTH_THREAT = "public_health_threat"
    MALFUNCTION = "malfunction"  # that could cause or contribute to death or serious injury


class ReportKind(StrEnum):
    MDR_5_DAY = "mdr_5_day"
    MDR_30_DAY = "mdr_30_day"
    SERIOUS_INCIDENT = "serious_incident"


class ClockUnit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORK_DAYS = "work_days"


class ReportRule(BaseModel):
    """One row: in `market`, for these event classes (and remedial-action need, when it
    matters), the report `kind` is due `days` days (of `unit`) after awareness."""

    model_config = ConfigDict(frozen=True)

    market: Market
    event_classes: frozenset[EventClass]
    remedial_action: bool | None = None  # None: whatever triage said
    kind: ReportKind
    regulator: str
    title: str
    days: int
    unit: ClockUnit = ClockUnit.CALENDAR_DAYS
    legal_basis: str

    def applies(self, market: Market, event_class: EventClass, remedial_action: bool) -> bool:
        if market is not self.market or event_class not in self.event_classes:
            return False
        return self.remedial_action is None or self.remedial_action is remedial_action

    @property
    def clock(self) -> str:
        unit = "work days" if self.unit is ClockUnit.WORK_DAYS else "calendar days"
        return f"{self.days} {unit}"

    def due_at(self, aware_at: datetime) -> datetime:
        if self.unit is ClockUnit.WORK_DAYS:
            return add_work_days(aware_at, self.days)
        return aware_at + timedelta(days=self.days)


class RulesTable(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str
    patch_id: str  # the `workflow.patched` id under which workflows start with this version
    rules: tuple[ReportRule, ...]

    def required(
        self, markets: list[Market], event_class: EventClass, remedial_action: bool
    ) -> list[ReportRule]:
        """The reports owed, one per market at most, in the order of `markets`."""
        owed: list[ReportRule] = []
        for market in dict.fromkeys(markets):
            rules = (r for r in self.rules if r.applies(market, event_class, remedial_action))
            rule = next(rules, None)
            if rule is not None:
                owed.append(rule)
        return owed


def add_work_days(start: datetime, days: int) -> datetime:
    """`days` work days (Monday to Friday, in `start`'s time zone) after `start`, at the same
    time of day: from a Thursday, 5 work days end on the next Thursday; from a Saturday, on
    the next Friday."""
    moment = start
    counted = 0
    while counted < days:
        moment += timedelta(days=1)
        if moment.astimezone(start.tzinfo).weekday() < 5:
            counted += 1
    return moment


ALL_EVENTS = frozenset(EventClass)
FDA = "FDA"
EU_AUTHORITY = "EU competent authority"

V2026_12 = RulesTable(
    version="2026-12",
    patch_id="reporting-rules-2026-12",
    rules=(
        ReportRule(
            market=Market.US,
            event_classes=ALL_EVENTS,
            remedial_action=True,
            kind=ReportKind.MDR_5_DAY,
            regulator=FDA,
            title="FDA MDR 5-day report",
            days=5,
            unit=ClockUnit.WORK_DAYS,
            legal_basis="21 CFR 803.53(a)",
        ),
        ReportRule(
            market=Market.US,
            event_classes=ALL_EVENTS,
            kind=ReportKind.MDR_30_DAY,
            regulator=FDA,
            title="FDA MDR 30-day report",
            days=30,
            legal_basis="21 CFR 803.50(a)",
        ),
        ReportRule(
            market=Market.EU,
            event_classes=frozenset({EventClass.PUBLIC_HEALTH_THREAT}),
            kind=ReportKind.SERIOUS_INCIDENT,
            regulator=EU_AUTHORITY,
            title="EU MDR serious incident report (serious public health threat)",
            days=2,
            legal_basis="EU MDR 2017/745 Art. 87(4)",
        ),
        ReportRule(
            market=Market.EU,
            event_classes=frozenset({EventClass.DEATH, EventClass.SERIOUS_INJURY}),
            kind=ReportKind.SERIOUS_INCIDENT,
            regulator=EU_AUTHORITY,
            title="EU MDR serious incident report (death or serious deterioration)",
            days=10,
            legal_basis="EU MDR 2017/745 Art. 87(5)",
        ),
        ReportRule(
            market=Market.EU,
            event_classes=ALL_EVENTS,
            kind=ReportKind.SERIOUS_INCIDENT,
            regulator=EU_AUTHORITY,
            title="EU MDR serious incident report",
            days=15,
            legal_basis="EU MDR 2017/745 Art. 87(3)",
        ),
    ),
)

# Oldest first. Add a new version at the end; never edit or remove a published one.
TABLES: dict[str, RulesTable] = {V2026_12.version: V2026_12}
FIRST = V2026_12.version


def current() -> RulesTable:
    return list(TABLES.values())[-1]


def table(version: str | None) -> RulesTable:
    """The table a complaint recorded; cases from before versions existed use the first."""
    return TABLES[version or FIRST]
