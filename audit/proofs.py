"""Inclusion and consistency proofs on demand, checked before they are handed out.

An inclusion proof shows one entry is in the tree a signed checkpoint commits to; a
consistency proof shows a larger tree only appended to a smaller one. Both are RFC 9162
proofs over the leaves `SHA-256(0x00 || entry hash bytes)`, so any RFC 9162 verifier can
check them. Each is verified here before it is returned: a proof that cannot verify means
the log was changed, and the error says to run `closeloop audit verify`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audit import canonical, merkle
from audit.checkpoints import SignedCheckpoint
from audit.store import AuditLog, entry_document
from audit.tree import MerkleTree

_RUN_VERIFY = "run `closeloop audit verify` to find out what changed"


class ProofUnavailable(ValueError):
    """No proof can be given; the message says why and what to do."""


@dataclass(frozen=True)
class InclusionProof:
    entry: dict[str, Any]
    checkpoint: SignedCheckpoint
    leaf_hash: bytes
    path: list[bytes]

    @property
    def seq(self) -> int:
        return int(self.entry["seq"])

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "leaf_index": self.seq - 1,
            "tree_size": self.checkpoint.tree_size,
            "root_hash": self.checkpoint.root_hash,
            "entry_hash": self.entry["entry_hash"],
            "leaf_hash": self.leaf_hash.hex(),
            "proof": [h.hex() for h in self.path],
            "checkpoint": self.checkpoint.to_json(),
            "entry": self.entry,
        }


@dataclass(frozen=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    path: list[bytes]
    old_checkpoint: SignedCheckpoint | None  # the checkpoint that signs old_root, if any
    new_checkpoint: SignedCheckpoint | None

    def to_json(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "old_root": self.old_root.hex(),
            "new_root": self.new_root.hex(),
            "proof": [h.hex() for h in self.path],
            "old_checkpoint": self.old_checkpoint.to_json() if self.old_checkpoint else None,
            "new_checkpoint": self.new_checkpoint.to_json() if self.new_checkpoint else None,
        }


def inclusion_proof(log: AuditLog, seq: int) -> InclusionProof:
    """Entry `seq` against the latest checkpoint."""
    latest = log.latest_checkpoint()
    size = log.count()
    if not 1 <= seq <= size:
        have = f"entries 1..{size}" if size else "no entries"
        raise ProofUnavailable(f"there is no entry {seq}: the log has {have}")
    if latest is None:
        raise ProofUnavailable(
            "no checkpoint yet, so there is no signed root to prove against: "
            "run `closeloop audit checkpoint` first"
        )
    if seq > latest.tree_size:
        raise ProofUnavailable(
            f"entry {seq} is newer than the latest checkpoint ({latest.label}): run "
            "`closeloop audit checkpoint`, then ask again"
        )
    tree = _tree(log, latest.tree_size)
    row = next(iter(log.iter_rows(after=seq - 1, batch_size=1)))
    entry = entry_document(row)
    recomputed = _recompute(row)
    if recomputed != row.entry_hash:
        raise ProofUnavailable(f"entry {seq} no longer matches its hash; {_RUN_VERIFY}")
    leaf = merkle.leaf_hash(bytes.fromhex(recomputed))
    path = tree.inclusion_proof(seq - 1, latest.tree_size)
    root = latest.checkpoint.root_bytes()
    try:
        merkle.verify_inclusion(leaf, seq - 1, latest.tree_size, path, root)
    except merkle.ProofError as exc:
        raise ProofUnavailable(
            f"entry {seq} is not in {latest.label} ({exc}); {_RUN_VERIFY}"
        ) from None
    return InclusionProof(entry, latest, leaf, path)


def consistency_proof(
    log: AuditLog, old_size: int, new_size: int | None = None
) -> ConsistencyProof:
    """Tree `old_size` against tree `new_size` (default: the latest checkpoint's size)."""
    checkpoints = log.checkpoints()
    size = log.count()
    if new_size is None:
        if not checkpoints:
            raise ProofUnavailable(
                "no checkpoint yet: give NEW_SIZE, or run `closeloop audit checkpoint` first"
            )
        new_size = checkpoints[-1].tree_size
    if not 1 <= old_size <= new_size:
        raise ProofUnavailable(
            f"sizes must satisfy 1 <= OLD_SIZE <= NEW_SIZE, got {old_size} and {new_size}"
        )
    if new_size > size:
        raise ProofUnavailable(f"the log has {size} entries; there is no tree of size {new_size}")
    tree = _tree(log, new_size)
    old_root, new_root = tree.root(old_size), tree.root(new_size)
    signed = {cp.tree_size: cp for cp in checkpoints}  # the latest checkpoint of each size
    for cp in (signed.get(old_size), signed.get(new_size)):
        if cp is not None and cp.root_hash != tree.root(cp.tree_size).hex():
            raise ProofUnavailable(
                f"the entries no longer give the root {cp.label} signed; {_RUN_VERIFY}"
            )
    path = tree.consistency_proof(old_size, new_size)
    merkle.verify_consistency(old_size, new_size, old_root, new_root, path)
    return ConsistencyProof(
        old_size, new_size, old_root, new_root, path, signed.get(old_size), signed.get(new_size)
    )


def _tree(log: AuditLog, size: int) -> MerkleTree:
    tree = MerkleTree()
    for expected, (seq, entry_hash) in enumerate(log.entry_hashes(upto=size), start=1):
        if seq != expected:
            raise ProofUnavailable(f"entry {expected} is missing; {_RUN_VERIFY}")
        tree.append(merkle.leaf_hash(canonical.leaf_input(entry_hash)))
    if tree.size < size:
        raise ProofUnavailable(f"entries {tree.size + 1}..{size} are missing; {_RUN_VERIFY}")
    return tree


def _recompute(row: Any) -> str:
    try:
        return canonical.stored_entry_hash(
            row.seq, row.complaint_id, row.entry_type, row.actor, row.recorded_at,
            row.occurred_at, row.reason, row.data, row.idempotency_key, row.prev_hash,
        )  # fmt: skip
    except ValueError:
        return ""
