"""The lookup activity's index lives in the audit database: it survives a restart and is
the same for every worker; the customer never reaches the index or the logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from activities.similarity import SimilarityActivities
from audit.similarity_index import SimilarityRow, SimilarityTable
from audit.store import AuditLog
from schemas.similarity import FindSimilar, customer_key

TEXT = "The kettle switch does not turn off when the water boils and the base gets hot."
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def find(complaint_id: str, at: datetime, customer: str = "CUST-88123") -> FindSimilar:
    return FindSimilar(
        complaint_id=complaint_id,
        received_at=at,
        customer_key=customer_key(customer),
        product_sku="KET-200",
        product_lot="L1",
        summary="Switch does not turn off",
        description=TEXT,
    )


def test_a_restarted_or_second_worker_finds_what_another_stored(sqlite_url):
    engine = AuditLog.from_url(sqlite_url).engine
    first_worker = SimilarityActivities(SimilarityTable(engine))
    assert first_worker.find_similar_complaints(find("C-1", NOW)).suggestions == []
    second_worker = SimilarityActivities(SimilarityTable(engine))  # a restart, or another pod
    found = second_worker.find_similar_complaints(find("C-2", NOW + timedelta(hours=1)))
    assert [s.complaint_id for s in found.suggestions] == ["C-1"]
    # and the first worker catches up with what the second stored
    found = first_worker.find_similar_complaints(find("C-3", NOW + timedelta(hours=2)))
    assert {s.complaint_id for s in found.suggestions} == {"C-1", "C-2"}


def test_a_retried_lookup_answers_the_same_and_stores_once(sqlite_url):
    engine = AuditLog.from_url(sqlite_url).engine
    worker = SimilarityActivities(SimilarityTable(engine))
    worker.find_similar_complaints(find("C-1", NOW))
    first = worker.find_similar_complaints(find("C-2", NOW + timedelta(hours=1)))
    retried = worker.find_similar_complaints(find("C-2", NOW + timedelta(hours=1)))
    assert first == retried
    with engine.connect() as connection:
        ids = connection.execute(select(SimilarityRow.complaint_id)).scalars().all()
    assert sorted(ids) == ["C-1", "C-2"]


def test_the_index_and_the_log_hold_a_hash_of_the_customer_never_the_id(sqlite_url, capsys):
    engine = AuditLog.from_url(sqlite_url).engine
    worker = SimilarityActivities(SimilarityTable(engine))
    worker.find_similar_complaints(find("C-1", NOW, customer="CUST-SECRET-7"))
    with engine.connect() as connection:
        [key] = connection.execute(select(SimilarityRow.customer_key)).scalars().all()
    assert "CUST-SECRET-7" not in key and len(key) == 64
    captured = capsys.readouterr()
    assert "CUST-SECRET-7" not in captured.out + captured.err
