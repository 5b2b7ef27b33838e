"""RFC 9162 (Certificate Transparency v2) Merkle tree over SHA-256.

The audit log's leaves are entry hashes; this tree turns them into one root per tree size.
A signed root (a checkpoint) commits the log to every entry below it; inclusion proofs show
one entry is in it, consistency proofs show a later tree only appended to an earlier one.
We follow RFC 9162 exactly, so any CT/Trillian/sigstore tooling can check our proofs:

    leaf hash  = SHA-256(0x00 || leaf bytes)       domain separation: a leaf can never
    node hash  = SHA-256(0x01 || left || right)    be passed off as an inner node
    empty root = SHA-256("")

This module holds the hash primitives, the constant-memory accumulator (a compact range)
and the proof verifiers; `audit.tree.MerkleTree` is the one prover (roots and proofs for any
earlier size). Verifiers raise `ProofError` and never return a boolean, so a forgotten
check cannot pass silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class ProofError(ValueError):
    """A Merkle proof does not prove what it claims (or is malformed)."""


def leaf_hash(data: bytes) -> bytes:
    """The RFC 9162 hash of one leaf's bytes (0x00 prefix)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 hash of an inner node (0x01 prefix)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


class MerkleAccumulator:
    """Appends leaf hashes one at a time and gives the root of the tree so far.

    Keeps only the roots of the perfect subtrees that make up the current tree (a "compact
    range": at most log2(n) hashes), so a verifier can stream a 100k+ entry log in constant
    memory and read the root at every checkpoint size as it passes it. Appending is
    amortised O(1) hashes, `root()` is O(log n).
    """

    def __init__(self) -> None:
        self._size = 0
        # Roots of perfect subtrees, largest (leftmost) first; their sizes are the set bits
        # of `_size`, so the stack works like a binary counter.
        self._peaks: list[bytes] = []

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append(self, leaf: bytes) -> None:
        """Add the next leaf hash (already `leaf_hash`-ed, 32 bytes)."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
        carry, size = leaf, self._size
        while size & 1:  # merge equal-sized subtrees, like a carry in binary addition
            carry = node_hash(self._peaks.pop(), carry)
            size >>= 1
        self._peaks.append(carry)
        self._size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append many leaf hashes in order."""
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """The RFC 9162 root of the leaves appended so far.

        RFC 9162 splits at the largest power of two, which makes the tree's right edge the
        perfect subtrees folded right to left: exactly our peaks.
        """
        if not self._peaks:
            return EMPTY_ROOT
        result = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            result = node_hash(peak, result)
        return result


def _check_hashes(proof: Sequence[bytes], **named: bytes) -> None:
    """Reject wrong-sized hashes up front: a clearer error than a root mismatch later."""
    for name, value in named.items():
        if len(value) != HASH_SIZE:
            raise ProofError(f"{name} is {len(value)} bytes, not {HASH_SIZE}")
    for i, element in enumerate(proof):
        if len(element) != HASH_SIZE:
            raise ProofError(f"proof element {i} is {len(element)} bytes, not {HASH_SIZE}")


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` sits at `index` in the tree of `tree_size` with `root`.

    The RFC 9162 §2.1.3.2 algorithm; raises `ProofError` saying what failed. A root does
    not commit to its tree size (one proof can fit sizes 3 and 4), so take `tree_size` only
    from a signed checkpoint, which signs both.
    """
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} is outside a tree of size {tree_size}")
    _check_hashes(proof, leaf_hash=leaf_hash, root=root)
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof is too long for index {index} of {tree_size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"inclusion proof is too short for index {index} of {tree_size}")
    if r != root:
        raise ProofError(
            f"inclusion proof for index {index} gives root {r.hex()}, "
            f"not the expected {root.hex()} at tree size {tree_size}"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of `new_size` only appended to the tree of `old_size`.

    The RFC 9162 §2.1.4.2 algorithm, plus the two edge cases it leaves out, decided as the
    transparency-dev/merkle reference does: equal sizes need an empty proof and equal roots
    (a checkpoint with no new entries), and an empty old tree is refused, because every
    tree extends the empty one and such a "proof" would check nothing.
    Raises `ProofError` saying what failed.
    """
    if old_size < 0 or new_size < old_size:
        raise ProofError(f"tree sizes go backwards or are negative: {old_size} -> {new_size}")
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if old_size == new_size:
        if proof:
            raise ProofError(f"sizes are equal ({old_size}) but the proof is not empty")
        if old_root != new_root:
            raise ProofError(f"different roots for the same tree size {old_size}")
        return
    if not proof:
        raise ProofError(f"empty consistency proof for sizes {old_size} -> {new_size}")
    _check_hashes(proof, old_root=old_root, new_root=new_root)

    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a subtree root
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof is too long for sizes {old_size} -> {new_size}")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"consistency proof is too short for sizes {old_size} -> {new_size}")
    if fr != old_root:
        raise ProofError(
            f"consistency proof gives old root {fr.hex()}, "
            f"not the expected {old_root.hex()} at tree size {old_size}"
        )
    if sr != new_root:
        raise ProofError(
            f"consistency proof gives new root {sr.hex()}, "
            f"not the expected {new_root.hex()} at tree size {new_size}"
        )
