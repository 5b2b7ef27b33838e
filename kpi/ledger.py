"""Incremental facts: folded once, kept under CLOSELOOP_HOME, extended by what is new.

The kept store (`kpi.store`) holds the facts one row per complaint, the last seq folded,
that entry's hash (so a different or rebuilt log is noticed and refolded from scratch) and
the Merkle compact range, so the root hash at the new tree size costs only the new
entries. A ledger loaded from it holds only the complaints that new entries touch
(`Checkout`); `all_facts` reads the rest when a computation needs every complaint.
The audit log is never written.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit import merkle
from audit.checkpoints import SignedCheckpoint
from kpi.compute import GroupKey
from kpi.facts import ComplaintFacts, Facts, fold
from kpi.partials import Partial
from kpi.store import Meta, Store, decode, open_store, write_all


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while building many small objects.

    Facts hold no reference cycles; with 100,000 complaints the collector would otherwise
    walk every one of them again and again, making a fold of a million entries quadratic.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Checkout:
    """The kept complaints that new entries touched, as they were before (None: new)."""

    store: Store
    before: dict[str, bytes | None] = field(default_factory=dict)

    def __call__(self, complaint_id: str) -> ComplaintFacts | None:
        blob = self.before[complaint_id] = self.store.blob(complaint_id)
        return decode(blob) if blob is not None else None


@dataclass
class Ledger:
    facts: Facts = field(default_factory=Facts)
    last_hash: str = ""
    peaks: list[bytes] = field(default_factory=list)
    size: int = 0
    folded_now: int = 0  # entries folded by this run (not saved): proves the work is new
    store: Store | None = None  # where the facts are kept (None: an export, or not yet kept)
    checkout: Checkout | None = None  # set while `facts` holds only the touched complaints
    recorded_before: str = ""  # the kept state's latest recorded time ("now" before)
    # Kept aggregates already read (or just updated) in this run, by view id.
    views: dict[str, dict[GroupKey, Partial]] = field(default_factory=dict)

    def all_facts(self) -> Facts:
        """Every complaint's facts: the kept ones read in, the touched ones as they are now."""
        if self.checkout is None or self.store is None:
            return self.facts
        touched = self.facts
        with paused_gc():
            complaints = {c.complaint_id: c for c in self.store.all_facts()}
            complaints.update(touched.complaints)
        self.facts = Facts(complaints, touched.shipments, touched.last_seq, touched.last_recorded)
        self.checkout = None
        return self.facts

    def meta(self, next_ord: int = 1) -> Meta:
        facts = self.facts
        return Meta(
            facts.last_seq, self.last_hash, facts.last_recorded, self.size, self.peaks, next_ord
        )

    def root_hex(self) -> str:
        acc = merkle.MerkleAccumulator()
        acc._size, acc._peaks = self.size, list(self.peaks)
        return acc.root().hex()

    def extend(self, rows: Iterable[Any]) -> None:
        """Fold rows (seq, complaint_id, entry_type, occurred_at, recorded_at, data, hash)."""
        with paused_gc():
            self._extend(rows)

    def _extend(self, rows: Iterable[Any]) -> None:
        # The compact range of audit.merkle.MerkleAccumulator, inlined: two SHA-256 per
        # entry are a third of the fold, and a method call per hash is not free.
        sha256, leaf_prefix, node_prefix = hashlib.sha256, b"\x00", b"\x01"
        peaks, size = self.peaks, self.size
        facts = self.facts
        try:
            for seq, complaint_id, entry_type, occurred_at, recorded_at, data, entry_hash in rows:
                if seq != facts.last_seq + 1:
                    raise ValueError(f"audit log has a gap: seq {seq} after {facts.last_seq}")
                fold(facts, seq, complaint_id, entry_type, occurred_at, recorded_at, data)
                carry = sha256(leaf_prefix + bytes.fromhex(entry_hash)).digest()
                count = size
                while count & 1:
                    carry = sha256(node_prefix + peaks.pop() + carry).digest()
                    count >>= 1
                peaks.append(carry)
                size += 1
                self.last_hash = entry_hash
                self.folded_now += 1
        finally:
            self.size, self.peaks = size, peaks


@dataclass(frozen=True)
class AsOf:
    tree_size: int
    root_hash: str
    checkpoint: SignedCheckpoint | None

    def to_json(self) -> dict[str, Any]:
        covering = self.checkpoint
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "checkpoint": covering.to_json() if covering else None,
            "checkpoint_covers": bool(covering and covering.tree_size == self.tree_size),
        }


def cache_path(home: Path, source: str) -> Path:
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
    return home / "kpi" / f"facts-{digest}.sqlite"


def load(path: Path) -> Ledger:
    """The kept state, holding no complaint yet; an empty ledger if nothing usable is kept."""
    path.with_suffix(".pickle").unlink(missing_ok=True)  # the format before the store
    store = open_store(path)
    if store is None:
        return Ledger()
    meta, checkout = store.meta, Checkout(store)
    facts = Facts(
        shipments=store.shipments(),
        last_seq=meta.last_seq,
        last_recorded=meta.last_recorded,
        loader=checkout,
    )
    return Ledger(
        facts, meta.last_hash, list(meta.peaks), meta.size, 0, store, checkout, meta.last_recorded
    )


def save(path: Path, ledger: Ledger) -> None:
    """Keep a ledger that holds every complaint (a first fold): a new store, put in place
    atomically, so a crash leaves the old store or the new one, never half of one."""
    if ledger.store is not None:
        ledger.store.close()
    with paused_gc():
        ledger.store = write_all(path, ledger.all_facts(), ledger.meta())
    ledger.checkout = None


def bundle_rows(entries_jsonl: Path) -> Iterator[tuple[Any, ...]]:
    """Rows of an export bundle's entries.jsonl (recomputation from an export)."""
    with entries_jsonl.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                e = json.loads(line)
                yield (
                    e["seq"],
                    e["complaint_id"],
                    e["entry_type"],
                    e["occurred_at"],
                    e["recorded_at"],
                    e["data"],
                    e["entry_hash"],
                )
