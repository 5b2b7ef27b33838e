"""Real CFPB rows published through the running stack: the KPIs count what the CSV holds.

Kafka -> stream -> one workflow per complaint -> audit log -> `closeloop kpi show`, on the
real stack (SQLite). The expected counts are made here from the CSV with the csv module.
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from audit.store import EntryFilter
from schemas import topics
from tests.conftest import LocalStack, eventually

pytestmark = pytest.mark.e2e
ROWS = 300


def expected_counts(csv_path: Path) -> Counter[tuple[str, str]]:
    """(product, month) of the first ROWS rows, independently of closeloop.cfpb."""
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = [row for _, row in zip(range(ROWS), csv.DictReader(handle), strict=False)]
    return Counter(((r["Product"] or "unknown")[:128], r["Date received"][:7]) for r in rows)


async def test_complaints_received_by_product_and_month_match_the_csv(
    sqlite_stack: LocalStack, shared_data: Path, tmp_path: Path
) -> None:
    csv_path = shared_data / "cfpb-complaints.csv"
    sqlite_stack.cli("publish", "--cfpb", str(csv_path), "--limit", str(ROWS), check=True)
    await sqlite_stack.wait_until_consumed(topics.COMPLAINTS_RECEIVED, timeout=300)

    def received() -> int:
        log = sqlite_stack.audit_log()
        try:
            found = log.entries(EntryFilter(entry_type="complaint.received", text="cfpb"))
            return sum(1 for e in found if e.complaint_id.startswith("CFPB-"))
        finally:
            log.dispose()

    count = await eventually(lambda: asyncio.to_thread(received), lambda n: n >= ROWS)
    assert count == ROWS, sqlite_stack.logs()

    args = ["kpi", "show", "--json", "--by", "source", "--by", "product", "--by", "month"]
    shown = sqlite_stack.cli(*args, check=True)
    counted = received_counts(shown.stdout.splitlines()[1:])
    assert counted == expected_counts(csv_path)

    # The same figures from an auditor's export bundle (the hand-built log in test_cli
    # compares every figure; here the workflows may still be writing acknowledgments).
    bundle = tmp_path / "bundle"
    sqlite_stack.cli("audit", "export", "--out", str(bundle), check=True)
    size = json.loads((bundle / "manifest.json").read_text())["log_size"]
    again = sqlite_stack.cli(*args, "--bundle", str(bundle), check=True).stdout.splitlines()
    assert json.loads(again[0])["as_of"]["tree_size"] == size
    assert received_counts(again[1:]) == counted


def received_counts(lines: list[str]) -> Counter[tuple[str, str]]:
    groups = [json.loads(line) for line in lines]
    return Counter(
        {
            (g["group"]["product"], g["group"]["month"]): g["figures"]["complaints_received"]
            for g in groups
            if g["group"]["source"] == "cfpb" and g["figures"]["complaints_received"]
        }
    )
