"""The kept facts: one SQLite file under CLOSELOOP_HOME/kpi, one row per complaint.

Keyed by complaint id, so a repeat loads and rewrites only the complaints that new entries
touch; beside them the indexes that one complaint's figures need about the others
(closures by product and category for recurrence, customer activity for retention, receipt
and latest times to find the complaints a change reaches) and the kept aggregates of the
views asked for (`kpi.partials`). Every change is one SQLite transaction, so an interrupted
save leaves the previous state; a file that is not such a store, or of another format, is
deleted and everything folded again (`open_store` returns None). The audit log is never
written. Our own file under CLOSELOOP_HOME: as trusted as the keys kept there.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kpi.facts import ComplaintFacts, Facts, Shipment, latest_time

FORMAT = 7  # 7: ComplaintFacts.reportable and similar_to
MAX_VIEWS = 8  # views whose aggregates are kept (the least recently used goes first)
_CHUNK = 500  # ids per IN (...) query, below SQLite's parameter limit
_BATCH = 2000  # complaints per insert batch

SCHEMA = """
CREATE TABLE meta (format INTEGER, last_seq INTEGER, last_hash TEXT, last_recorded TEXT,
                   size INTEGER, peaks BLOB, next_ord INTEGER);
CREATE TABLE complaints (id TEXT PRIMARY KEY, ord INTEGER, customer TEXT, product TEXT,
                         category TEXT, received REAL, latest REAL, facts BLOB);
CREATE TABLE closures (complaint_id TEXT, product TEXT, category TEXT, at REAL, seq INTEGER);
CREATE TABLE activity (complaint_id TEXT, customer TEXT, at REAL);
CREATE TABLE shipments (product TEXT, period TEXT, units INTEGER, seq INTEGER,
                        PRIMARY KEY (product, period));
CREATE TABLE views (id TEXT PRIMARY KEY, last_seq INTEGER, used INTEGER);
CREATE TABLE partials (view TEXT, key TEXT, series TEXT, blob BLOB,
                       PRIMARY KEY (view, key, series));
"""
# Built after the bulk insert of a full save: cheaper than keeping them up to date row by row.
INDEXES = """
CREATE INDEX complaints_customer ON complaints (customer);
CREATE INDEX complaints_key ON complaints (product, category, received);
CREATE INDEX complaints_received ON complaints (received);
CREATE INDEX complaints_latest ON complaints (latest);
CREATE INDEX closures_complaint ON closures (complaint_id);
CREATE INDEX closures_key ON closures (product, category, at);
CREATE INDEX closures_at ON closures (at);
CREATE INDEX activity_complaint ON activity (complaint_id);
CREATE INDEX activity_customer ON activity (customer, at);
"""


class KeptStateMoved(RuntimeError):
    """Another run changed the kept store since this one loaded it: load it again."""


@dataclass
class Meta:
    last_seq: int
    last_hash: str
    last_recorded: str
    size: int
    peaks: list[bytes]
    next_ord: int


def encode(c: ComplaintFacts) -> bytes:
    """marshal, not pickle: the facts are plain tuples, lists and strings, and it is faster."""
    return marshal.dumps(c.__getstate__())


def decode(blob: bytes) -> ComplaintFacts:
    c = ComplaintFacts.__new__(ComplaintFacts)
    c.__setstate__(marshal.loads(blob))  # noqa: S302 - our own file (module docstring)
    return c


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=60.0, isolation_level=None)
    db.execute("PRAGMA synchronous=NORMAL")
    return db


class Store:
    def __init__(self, path: Path, db: sqlite3.Connection, meta: Meta) -> None:
        self.path, self.db, self.meta = path, db, meta

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: an exception (or a crash) inside leaves the file as it was."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # complaints ------------------------------------------------------------------------

    def blob(self, complaint_id: str) -> bytes | None:
        row = self.db.execute(
            "SELECT facts FROM complaints WHERE id = ?", (complaint_id,)
        ).fetchone()
        return row[0] if row else None

    def rows(self, ids: Iterable[str]) -> dict[str, tuple[int, bytes]]:
        """(ord, facts blob) of each of `ids` that is kept."""
        found: dict[str, tuple[int, bytes]] = {}
        for chunk in _chunks(sorted(set(ids))):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT id, ord, facts FROM complaints WHERE id IN ({marks})"
            for cid, ord_, blob in self.db.execute(sql, chunk):
                found[cid] = (ord_, blob)
        return found

    def all_facts(self) -> Iterator[ComplaintFacts]:
        """Every kept complaint, in the order the log first named them (a full computation)."""
        for (blob,) in self.db.execute("SELECT facts FROM complaints ORDER BY ord"):
            yield decode(blob)

    def first_received(self) -> float:
        found = self.db.execute("SELECT min(received) FROM complaints").fetchone()[0]
        return float(found) if found is not None else 0.0

    def ids_where(self, condition: str, params: Sequence[Any]) -> set[str]:
        sql = f"SELECT id FROM complaints WHERE {condition}"
        return {cid for (cid,) in self.db.execute(sql, params)}

    def of_customers(self, customers: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(customers))):
            marks = ",".join("?" * len(chunk))
            found |= self.ids_where(f"customer IN ({marks})", chunk)
        return found

    def customers_of(self, ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(ids))):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT customer FROM complaints WHERE id IN ({marks})"
            found |= {customer for (customer,) in self.db.execute(sql, chunk) if customer}
        return found

    def closed_between(self, after: float, until: float) -> set[str]:
        return {
            cid
            for (cid,) in self.db.execute(
                "SELECT complaint_id FROM closures WHERE at > ? AND at <= ?", (after, until)
            )
        }

    def put(self, items: Iterable[tuple[int, ComplaintFacts]]) -> None:
        """Write (ord, facts) of complaints, replacing what was kept of them."""
        items = list(items)
        ids = [(c.complaint_id,) for _, c in items]
        self.db.executemany("DELETE FROM complaints WHERE id = ?", ids)
        self.db.executemany("DELETE FROM closures WHERE complaint_id = ?", ids)
        self.db.executemany("DELETE FROM activity WHERE complaint_id = ?", ids)
        _insert(self.db, items)

    def put_shipments(self, shipments: Iterable[Shipment]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO shipments VALUES (?, ?, ?, ?)",
            [(s.product, s.period, s.units, s.seq) for s in shipments],
        )

    def shipments(self) -> dict[tuple[str, str], Shipment]:
        rows = self.db.execute("SELECT product, period, units, seq FROM shipments")
        return {(p, m): Shipment(p, m, u, s) for p, m, u, s in rows}

    def check_unmoved(self) -> None:
        """Inside a transaction: the store is still at the state this run loaded."""
        row = self.db.execute("SELECT last_seq, last_hash FROM meta").fetchone()
        if row is None or tuple(row) != (self.meta.last_seq, self.meta.last_hash):
            raise KeptStateMoved(f"kept state moved to {row} since it was loaded")

    def put_meta(self, meta: Meta) -> None:
        self.db.execute("DELETE FROM meta")
        self.db.execute("INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?, ?)", _meta_row(meta))
        self.meta = meta

    # views -----------------------------------------------------------------------------

    def view_partials(self, view: str) -> dict[str, dict[str, bytes]] | None:
        """The kept aggregates of `view` (per group, per series) if of the kept state."""
        row = self.db.execute("SELECT last_seq FROM views WHERE id = ?", (view,)).fetchone()
        if row is None or row[0] != self.meta.last_seq:
            return None
        found: dict[str, dict[str, bytes]] = {}
        rows = self.db.execute("SELECT key, series, blob FROM partials WHERE view = ?", (view,))
        for key, series, blob in rows:
            found.setdefault(key, {})[series] = blob
        return found

    def views(self) -> list[str]:
        return [v for (v,) in self.db.execute("SELECT id FROM views ORDER BY used")]

    def put_view(
        self,
        view: str,
        changed: Mapping[str, Iterable[tuple[str, bytes]] | None],
        *,
        used: int,
    ) -> None:
        """Groups that changed (None: gone), a series at a time, stamped with the state.

        A series at a time keeps the bytes in flight small: 100,000 values are 800 kB.
        """
        self.db.execute(
            "INSERT OR REPLACE INTO views VALUES (?, ?, ?)", (view, self.meta.last_seq, used)
        )
        for key, parts in changed.items():
            self.db.execute("DELETE FROM partials WHERE view = ? AND key = ?", (view, key))
            for series, blob in parts or ():
                self.db.execute(
                    "INSERT INTO partials VALUES (?, ?, ?, ?)", (view, key, series, blob)
                )

    def drop_view(self, view: str) -> None:
        self.db.execute("DELETE FROM views WHERE id = ?", (view,))
        self.db.execute("DELETE FROM partials WHERE view = ?", (view,))

    def keep_recent_views(self) -> None:
        for view in self.views()[:-MAX_VIEWS]:
            self.drop_view(view)

    def next_use(self) -> int:
        return int(self.db.execute("SELECT coalesce(max(used), 0) + 1 FROM views").fetchone()[0])


@dataclass
class StoreLookups:
    """`kpi.observe.Lookups` asked of the store, as it stands at the moment of asking."""

    db: sqlite3.Connection
    now: float
    retention_window: float

    def closure_before(
        self,
        product: str,
        category: str,
        start: float,
        end: float,
        complaint_id: str,
        among: frozenset[str] | None = None,
    ) -> int | None:
        if among is not None and not among:
            return None  # compared at intake, and nothing earlier was similar
        only = f" AND complaint_id IN ({','.join('?' * len(among))})" if among else ""
        row = self.db.execute(
            "SELECT seq FROM closures WHERE product = ? AND category = ? AND at >= ? AND at < ?"
            f" AND complaint_id <> ?{only} ORDER BY at DESC, seq DESC LIMIT 1",
            (product, category, start, end, complaint_id, *sorted(among or ())),
        ).fetchone()
        return int(row[0]) if row else None

    def active_between(self, customer_id: str, after: float, until: float) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM activity WHERE customer = ? AND at > ? AND at <= ? LIMIT 1",
            (customer_id, after, until),
        ).fetchone()
        return row is not None


def open_store(path: Path) -> Store | None:
    """The kept store, or None (and no file) if there is none usable."""
    if not path.is_file():
        return None
    try:
        db = _connect(path)
        row = db.execute("SELECT * FROM meta").fetchone()
        if row is None or row[0] != FORMAT:
            raise sqlite3.DatabaseError(f"format {row[0] if row else None}, not {FORMAT}")
        _format, last_seq, last_hash, last_recorded, size, peaks, next_ord = row
        meta = Meta(last_seq, last_hash, last_recorded, size, _split(peaks), next_ord)
    except sqlite3.Error:
        with contextlib.suppress(NameError, sqlite3.Error):
            db.close()
        discard(path)
        return None
    return Store(path, db, meta)


def intact(path: Path) -> bool:
    """A full check of the file (slow: only when something already went wrong)."""
    try:
        with contextlib.closing(sqlite3.connect(path)) as db:
            [(verdict,)] = db.execute("PRAGMA quick_check").fetchall()
            [(found,)] = db.execute("SELECT format FROM meta").fetchall()
    except (sqlite3.Error, ValueError):
        return False
    return bool(verdict == "ok" and found == FORMAT)


def discard(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)


def write_all(path: Path, facts: Facts, meta: Meta) -> Store:
    """A new store holding every complaint: built aside, then put in place in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_name(path.name + ".building")
    discard(building)
    db = sqlite3.connect(building, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=OFF")  # a new file: a crash leaves only a stray file
        db.execute("PRAGMA synchronous=OFF")
        db.executescript(SCHEMA)
        db.execute("BEGIN")
        _insert(db, enumerate(facts.complaints.values(), start=1))
        db.executemany(
            "INSERT INTO shipments VALUES (?, ?, ?, ?)",
            [(s.product, s.period, s.units, s.seq) for s in facts.shipments.values()],
        )
        meta.next_ord = len(facts.complaints) + 1
        db.execute("INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?, ?)", _meta_row(meta))
        db.execute("COMMIT")
        db.executescript(INDEXES)
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()
    with open(building, "rb+") as handle:  # on disk before it replaces the old store
        os.fsync(handle.fileno())
    discard(path)
    os.replace(building, path)
    return Store(path, _connect(path), meta)


def _insert(db: sqlite3.Connection, items: Iterable[tuple[int, ComplaintFacts]]) -> None:
    """In batches: 100,000 complaints' rows are never all in memory at once."""
    complaints: list[tuple[Any, ...]] = []
    closures: list[tuple[str, str | None, str | None, float, int]] = []
    activity: list[tuple[str, str, float]] = []
    for ord_, c in items:
        cid = c.complaint_id
        closures.extend(
            (cid, c.product, c.category, at, seq)
            for kind, at, seq in c.transitions
            if kind == "closed"
        )
        if c.customer_id:
            activity.extend((cid, c.customer_id, at) for at, _ in c.activity)
        received = c.received[0] if c.received else None
        complaints.append(
            (cid, ord_, c.customer_id, c.product, c.category, received, latest_time(c), encode(c))
        )
        if len(complaints) == _BATCH:
            _flush(db, complaints, closures, activity)
    _flush(db, complaints, closures, activity)


def _flush(db: sqlite3.Connection, *batches: list[Any]) -> None:
    complaints, closures, activity = batches
    db.executemany("INSERT INTO complaints VALUES (?, ?, ?, ?, ?, ?, ?, ?)", complaints)
    db.executemany("INSERT INTO closures VALUES (?, ?, ?, ?, ?)", closures)
    db.executemany("INSERT INTO activity VALUES (?, ?, ?)", activity)
    for batch in batches:
        batch.clear()


def _meta_row(meta: Meta) -> tuple[Any, ...]:
    return (
        FORMAT, meta.last_seq, meta.last_hash, meta.last_recorded, meta.size,
        b"".join(meta.peaks), meta.next_ord,
    )  # fmt: skip


def _split(peaks: bytes) -> list[bytes]:
    return [peaks[i : i + 32] for i in range(0, len(peaks), 32)]


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]
