"""`closeloop demo` on the real stack: afterwards the KPIs are populated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.store import EntryFilter
from tests.conftest import LocalStack

pytestmark = pytest.mark.e2e


def test_demo_populates_the_kpis(sqlite_stack: LocalStack, shared_data: Path) -> None:
    csv_path = shared_data / "cfpb-complaints.csv"
    ran = sqlite_stack.cli("demo", "--complaints", "25", "--cfpb", str(csv_path), check=True)
    assert "published 25 CFPB complaints" in ran.stdout
    assert "decisions and facts sent" in ran.stdout
    # The demo takes only paths the lifecycle allows: nothing it sends is refused.
    assert ", 0 refused" in ran.stdout, ran.stderr
    shown = sqlite_stack.cli("kpi", "show", "--json", check=True).stdout.splitlines()
    figures = json.loads(shown[1])["figures"]
    assert figures["complaints_received"] >= 25
    assert figures["complaints_closed"] >= 10, sqlite_stack.logs()
    assert figures["csat_responses"] >= 10 and figures["nps"] is not None
    assert figures["capa_effective_first_pct"] is not None
    assert figures["complaints_rejected"] >= 1
    log = sqlite_stack.audit_log()
    try:
        activity = log.entries(EntryFilter(entry_type="complaint.customer_activity"))
    finally:
        log.dispose()
    assert len(activity) >= 5, sqlite_stack.logs()


def test_demo_without_the_csv_is_a_usage_error(sqlite_stack: LocalStack, tmp_path: Path) -> None:
    ran = sqlite_stack.cli("demo", "--cfpb", str(tmp_path / "missing.csv"))
    assert ran.returncode == 2 and "no such file" in ran.stderr
