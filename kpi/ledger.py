"""Incremental facts: folded once, kept under CLOSELOOP_HOME, extended by what is new.

The saved file holds the facts, the last seq folded, that entry's hash (so a different or
rebuilt log is noticed and refolded from scratch) and the Merkle compact range, so the root
hash at the new tree size costs only the new entries. The audit log is never written.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import pickle
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit import merkle
from audit.checkpoints import SignedCheckpoint
from kpi.facts import Facts, fold

FORMAT = 5  # 4: ComplaintFacts.reportable; 5: ComplaintFacts.similar_to


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
class Ledger:
    facts: Facts = field(default_factory=Facts)
    last_hash: str = ""
    peaks: list[bytes] = field(default_factory=list)
    size: int = 0
    folded_now: int = 0  # entries folded by this run (not saved): proves the work is new

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
    return home / "kpi" / f"facts-{digest}.pickle"


def load(path: Path) -> Ledger:
    try:
        with path.open("rb") as handle, paused_gc():
            # Our own file under CLOSELOOP_HOME, written by `save`: as trusted as the keys there.
            version, ledger = pickle.load(handle)  # noqa: S301
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
        return Ledger()
    if version != FORMAT or not isinstance(ledger, Ledger):
        return Ledger()
    ledger.folded_now = 0  # repeated strings are shared again as they load (ComplaintFacts)
    return ledger


def save(path: Path, ledger: Ledger) -> None:
    """Atomically: a crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as handle, paused_gc():
        pickler = pickle.Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL)
        # No memo: facts share nothing but interned strings, and a memo of a million
        # objects would be the largest thing in memory while saving.
        pickler.fast = True
        pickler.dump((FORMAT, ledger))
    os.replace(temporary, path)


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
