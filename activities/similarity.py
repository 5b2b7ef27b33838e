"""The similarity lookup at intake: compare a new complaint with the recent ones.

Each worker keeps an in-memory index (`base.similarity.index`) in step with the shared
table in the audit database (`audit.similarity_index`): before a lookup it reads the rows
other workers added since, so every worker suggests the same, and a restarted worker
rebuilds its index from the table on its first lookup. The complaint is then added, once
however often the activity is retried. Logs carry ids and counts, never the customer.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import structlog
from temporalio import activity

from audit.similarity_index import IndexedRow, SimilarityTable
from base.similarity import METHOD, METHOD_VERSION
from base.similarity.index import THRESHOLD, SimilarityIndex, StoredComplaint
from schemas.similarity import FindSimilar, SimilarComplaint, SimilarityResult

log = structlog.get_logger(__name__)


def _stored(row: IndexedRow) -> StoredComplaint:
    return StoredComplaint(
        row.complaint_id,
        row.received_at,
        row.customer_key,
        row.product_sku,
        row.product_lot,
        row.text,
    )


def indexed_text(summary: str, description: str) -> str:
    return f"{summary}. {description}"


class SimilarityActivities:
    """One index per worker process; activities run in threads, so one lock guards it."""

    def __init__(self, table: SimilarityTable) -> None:
        self._table = table
        self._index = SimilarityIndex()
        self._last_id = 0
        self._lock = threading.Lock()

    def _catch_up(self) -> None:
        self._table.ensure()
        first = self._last_id == 0
        while rows := self._table.rows_after(self._last_id):
            if first:
                self._index.add_many(_stored(row) for row in rows)
            else:
                for row in rows:
                    self._index.add(_stored(row))
            self._last_id = rows[-1].id

    @activity.defn(name="find_similar_complaints")
    def find_similar_complaints(self, request: FindSimilar) -> SimilarityResult:
        row = IndexedRow(
            id=0,
            complaint_id=request.complaint_id,
            received_at=request.received_at.timestamp(),
            customer_key=request.customer_key,
            product_sku=request.product_sku,
            product_lot=request.product_lot,
            text=indexed_text(request.summary, request.description),
        )
        with self._lock:
            self._catch_up()
            matches = self._index.search(_stored(row))
        # Outside the lock: on SQLite the insert may wait for the audit log's writers, and
        # other lookups must not wait with it. The next catch-up indexes it, here and on
        # every other worker.
        self._table.add(row)
        log.info(
            "similar complaints looked up",
            complaint_id=request.complaint_id,
            suggestions=len(matches),
            best_score=round(matches[0].score, 3) if matches else None,
            indexed=len(self._index),
        )
        return SimilarityResult(
            method=METHOD,
            method_version=METHOD_VERSION,
            threshold=THRESHOLD,
            suggestions=[
                SimilarComplaint(
                    complaint_id=m.complaint_id,
                    score=round(m.score, 4),
                    text_score=round(m.text_score, 4),
                    same_customer_product_lot=m.same_case,
                    received_at=_utc(m.received_at),
                )
                for m in matches
            ],
        )


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
