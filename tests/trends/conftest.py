"""Hand-built audit logs with a known story per month (tests/kpi/builder.py shapes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from audit.store import AuditLog
from tests.kpi.builder import LogBuilder, at

# 21 months: 12 of baseline (2025-01 to 2025-12), 9 watched (2026-01 to 2026-09).
BASELINE = [f"2025-{m:02d}" for m in range(1, 13)]
WATCHED = [f"2026-{m:02d}" for m in range(1, 10)]
MONTHS = BASELINE + WATCHED
AS_OF = "2026-10-15"  # the run judges the complete months up to September 2026


class MonthlyLog:
    """Adds complaints spread over a month's days, with optional triage and surveys."""

    def __init__(self, log: AuditLog) -> None:
        self.b = LogBuilder(log)
        self.n = 0

    def complaints(
        self,
        month: str,
        count: int,
        *,
        product: str = "mixer",
        channel: str = "web",
        severity: str | None = None,
        reportable: bool | None = None,
        csat: int | None = None,
    ) -> list[str]:
        made = []
        for i in range(count):
            self.n += 1
            cid = f"C-{self.n:05d}"
            when = at(f"{month}-01T08:00") + timedelta(hours=13 * i)
            self.b.received(cid, when, product=product, channel=channel)
            if severity is not None or reportable is not None:
                self.b.decision(
                    cid, "complaint.triaged", when + timedelta(hours=1), category="glass",
                    severity=severity or "low", reportable=bool(reportable),
                )  # fmt: skip
            if csat is not None:
                self.b.survey(cid, when + timedelta(hours=2), csat=csat, nps=None)
            made.append(cid)
        return made


@pytest.fixture
def log(tmp_path: Path) -> Iterator[AuditLog]:
    opened = AuditLog.from_url(f"sqlite:///{tmp_path / 'audit.db'}")
    yield opened
    opened.dispose()


@pytest.fixture
def monthly(log: AuditLog) -> MonthlyLog:
    return MonthlyLog(log)


# The mixer: about 20 a month, then a step to about 40 from July 2026. The kettle: 5 a month.
MIXER = [18, 22] * 6 + [19, 21, 20, 22, 18, 21, 40, 41, 39]
KETTLE = [5] * 21


@pytest.fixture
def step_log(monthly: MonthlyLog, log: AuditLog) -> AuditLog:
    for month, mixers, kettles in zip(MONTHS, MIXER, KETTLE, strict=True):
        monthly.complaints(month, mixers, product="mixer")
        monthly.complaints(month, kettles, product="kettle", channel="phone")
    return log


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLOSELOOP_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CLOSELOOP_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLOSELOOP_MONITORING_PLAN", raising=False)
    monkeypatch.setenv("CLOSELOOP_AUDIT_PUBLISH_CHECKPOINTS", "false")
    monkeypatch.setenv("CLOSELOOP_TRENDS_PUBLISH_SIGNALS", "false")
    return tmp_path / "home"


@pytest.fixture
def home_log(home: Path) -> AuditLog:
    """The step story where the CLI looks for the log: CLOSELOOP_HOME/audit.db."""
    home.mkdir(parents=True)
    log = AuditLog.from_url(f"sqlite:///{home / 'audit.db'}")
    monthly = MonthlyLog(log)
    for month, mixers, kettles in zip(MONTHS, MIXER, KETTLE, strict=True):
        monthly.complaints(month, mixers, product="mixer")
        monthly.complaints(month, kettles, product="kettle", channel="phone")
    return log
