"""Many workers appending at once still build one linear chain, and retries add nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.models import NewEntry
from audit.store import AuditLog
from tests.audit.conftest import T0, checkpoint, new_entry, verify

WRITERS, PER_WRITER = 8, 625


def test_eight_writers_append_5000_entries_as_one_valid_chain(
    database_url: str, key: Ed25519PrivateKey
) -> None:
    """Each writer has its own engine, as separate worker processes would."""
    AuditLog.from_url(database_url).dispose()
    start = threading.Barrier(WRITERS)

    def writer(w: int) -> list[int]:
        log = AuditLog.from_url(database_url, create=False)
        start.wait()
        try:
            seqs = []
            for i in range(PER_WRITER):
                entry = new_entry(w * PER_WRITER + i, key=f"writer-{w}/{i}")
                seqs.append(log.append(entry).seq)
                if i % 25 == 0:  # an activity retry: the same key again
                    assert log.append(entry).seq == seqs[-1]
            return seqs
        finally:
            log.dispose()

    with ThreadPoolExecutor(WRITERS) as pool:
        per_writer = list(pool.map(writer, range(WRITERS)))

    log = AuditLog.from_url(database_url, create=False)
    every = sorted(seq for seqs in per_writer for seq in seqs)
    assert every == list(range(1, WRITERS * PER_WRITER + 1))  # no gaps, no duplicates
    assert all(seqs == sorted(seqs) for seqs in per_writer)  # each writer's order kept
    assert log.count() == 5000
    checkpoint(log, key)
    report = verify(log, key)
    assert report.ok, report.problems[:5]
    assert report.entries == 5000
    log.dispose()


def test_concurrent_retries_of_the_same_keys_create_each_entry_once(database_url: str) -> None:
    """A replayed event delivered to several workers at once: one entry per key."""
    AuditLog.from_url(database_url).dispose()
    keys = [f"event-{i}" for i in range(50)]

    def replay(w: int) -> dict[str, int]:
        log = AuditLog.from_url(database_url, create=False)
        try:
            return {k: log.append(new_entry(i, key=k)).seq for i, k in enumerate(keys)}
        finally:
            log.dispose()

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(replay, range(WRITERS)))

    log = AuditLog.from_url(database_url, create=False)
    assert log.count() == 50
    assert all(result == results[0] for result in results)
    log.dispose()


def test_a_retry_returns_the_original_entry_even_with_different_content(
    audit_log: AuditLog,
) -> None:
    original = audit_log.append(new_entry(0, key="k"))
    retried = audit_log.append(
        NewEntry(
            complaint_id="OTHER",
            entry_type="other",
            actor="other",
            occurred_at=T0,
            idempotency_key="k",
        )
    )
    assert retried == original
    assert audit_log.count() == 1
