"""What the sender already did, per message id, kept in a SQLite file under CLOSELOOP_HOME.

A message is looked up before it is sent and recorded right after: a message read again
(after a restart, a rebalance, a replayed offset, or a second copy published by a retrying
workflow) is never sent a second time. Only the outcome is kept, never an address or text.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    message_id TEXT PRIMARY KEY,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    permanent INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    reported INTEGER NOT NULL DEFAULT 0
)
"""


class Outcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    message_id: str
    outcome: Outcome
    detail: str  # the SMTP server's reply, without addresses
    permanent: bool
    reported: bool = False


class Ledger:
    """One writer (the mailer process); every write is committed before it returns."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(SCHEMA)

    def find(self, message_id: str) -> Delivery | None:
        row = self._db.execute(
            "SELECT outcome, detail, permanent, reported FROM deliveries WHERE message_id = ?",
            (message_id,),
        ).fetchone()
        if row is None:
            return None
        return Delivery(message_id, Outcome(row[0]), row[1], bool(row[2]), bool(row[3]))

    def record(self, delivery: Delivery) -> None:
        self._db.execute(
            "INSERT INTO deliveries (message_id, outcome, detail, permanent, recorded_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                delivery.message_id,
                delivery.outcome.value,
                delivery.detail,
                int(delivery.permanent),
                datetime.now(UTC).isoformat(),
            ),
        )

    def mark_reported(self, message_id: str) -> None:
        self._db.execute("UPDATE deliveries SET reported = 1 WHERE message_id = ?", (message_id,))

    def close(self) -> None:
        self._db.close()
