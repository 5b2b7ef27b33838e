"""A hand-built log whose figures are worked out by hand in `test_figures.py`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from audit.store import AuditLog
from tests.kpi.builder import LogBuilder, at


@pytest.fixture
def log(tmp_path: Path) -> Iterator[AuditLog]:
    opened = AuditLog.from_url(f"sqlite:///{tmp_path / 'audit.db'}")
    yield opened
    opened.dispose()


@pytest.fixture
def story(log: AuditLog) -> LogBuilder:
    """Six complaints around 2026-Q3 (see the module docstring of test_figures)."""
    b = LogBuilder(log)
    # E: received upstream in June, ingested in July; closed late in July.
    b.received("E", at("2026-06-30T23:00"), product="kettle", ingested=at("2026-07-01T01:00"))
    b.acknowledged("E", at("2026-07-01T01:00"))
    b.escalated("E", at("2026-07-02T00:00"), "closure")
    b.closed("E", at("2026-07-05T23:00"))
    # A: received, acknowledged in 6 h, closed after 10 days, happy and back within 90 days.
    b.received("A", at("2026-07-01T00:00"), ingested=at("2026-07-03T00:00"))
    b.acknowledged("A", at("2026-07-01T06:00"))
    b.triaged("A", at("2026-07-02T00:00"), "glass")
    b.closed("A", at("2026-07-11T00:00"))
    b.survey("A", at("2026-07-12T00:00"), csat=5, nps=10)
    # B: CAPA, not effective at first; closed in August, reopened, closed again in September.
    b.received("B", at("2026-07-10T00:00"))
    b.acknowledged("B", at("2026-07-10T12:00"))
    b.triaged("B", at("2026-07-11T00:00"), "glass", "high")
    b.decision("B", "capa.planned", at("2026-07-20T00:00"), actions=[])
    b.decision("B", "capa.action_completed", at("2026-07-30T00:00"), action_id="a1")
    b.add("B", "capa.action_progress", at("2026-07-25T00:00"), {"input": {}})  # ignored
    b.activity("A", at("2026-08-01T00:00"))
    b.escalated("B", at("2026-08-09T00:00"), "closure")
    b.decision("B", "complaint.verified", at("2026-08-15T00:00"), effective=False)
    b.closed("B", at("2026-08-20T00:00"))
    b.reopened("B", at("2026-08-25T00:00"))
    b.decision("B", "complaint.verified", at("2026-09-03T00:00"), effective=True)
    b.closed("B", at("2026-09-04T00:00"))
    b.survey("B", at("2026-09-05T00:00"), csat=2, nps=3)
    # C: same product and category as A, 9 days after A closed; late everywhere, still open.
    b.received("C", at("2026-07-20T00:00"))
    b.escalated("C", at("2026-07-21T00:00"), "acknowledge")
    b.acknowledged("C", at("2026-07-22T00:00"))
    b.triaged("C", at("2026-07-23T00:00"), "glass")
    b.escalated("C", at("2026-09-01T00:00"), "closure")
    # D: a kettle by phone, rejected the next day, never triaged.
    b.received("D", at("2026-08-05T00:00"), product="kettle", channel="phone")
    b.acknowledged("D", at("2026-08-05T01:00"))
    b.rejected("D", at("2026-08-06T00:00"))
    # Shipments of mixers; September restated (the latest report wins).
    b.shipment("mixer", "2026-07", 1000)
    b.shipment("mixer", "2026-08", 1000)
    b.shipment("mixer", "2026-09", 2000)
    b.shipment("mixer", "2026-09", 3000)
    # After the quarter: F, E's customer active too late, and the log's last entry.
    b.received("F", at("2026-10-02T00:00"))
    b.activity("E", at("2026-12-31T00:00"))
    b.survey("F", at("2027-01-15T00:00"), csat=1, nps=0)
    return b


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLOSELOOP_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CLOSELOOP_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLOSELOOP_AUDIT_SIGNING_KEY", raising=False)
    monkeypatch.setenv("CLOSELOOP_AUDIT_PUBLISH_CHECKPOINTS", "false")
    return tmp_path / "home"


@pytest.fixture
def home_log(home: Path, story: LogBuilder, log: AuditLog) -> AuditLog:
    """The story's log, moved to where the CLI looks for it (CLOSELOOP_HOME/audit.db)."""
    home.mkdir(parents=True)
    target = AuditLog.from_url(f"sqlite:///{home / 'audit.db'}")
    builder = LogBuilder(target)
    for entry in log.entries():
        builder.add(entry.complaint_id, entry.entry_type, entry.occurred_at, entry.data)
    return target
