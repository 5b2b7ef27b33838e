"""An in-memory RFC 9162 tree that answers roots and proofs for any earlier size quickly.

The project's one Merkle prover. The verifier needs a root and a consistency proof at
every checkpoint, and `closeloop audit proof` one inclusion proof, so this keeps every
perfect subtree's root as the leaves are appended (about two hashes per leaf, amortised).
Every range an RFC 9162 proof needs is a handful of those aligned subtrees, so a root or
proof then costs O(log n) hashes. The answers are those of RFC 9162's own recursive
definitions (`tests/audit/test_tree.py`) and of the shared transparency-dev vectors
(`tests/audit/test_merkle.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from audit.merkle import EMPTY_ROOT, HASH_SIZE, MerkleAccumulator, node_hash


class MerkleTree:
    """Leaf hashes plus the roots of all their aligned perfect subtrees."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        # _levels[h][i] is the root of leaves [i * 2**h, (i + 1) * 2**h).
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def append(self, leaf: bytes) -> None:
        """Add the next leaf hash (already `leaf_hash`-ed, 32 bytes)."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
        levels = self._levels
        levels[0].append(leaf)
        height = 0
        while len(levels[height]) % 2 == 0:
            if height + 1 == len(levels):
                levels.append([])
            below = levels[height]
            levels[height + 1].append(node_hash(below[-2], below[-1]))
            height += 1

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Append many leaf hashes at once: the same tree as `append` one by one, faster.

        Each level's new nodes are hashed in one pass, without a call per node.
        """
        if any(len(leaf) != HASH_SIZE for leaf in leaves):
            raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes")
        levels = self._levels
        levels[0].extend(leaves)
        sha256, height = hashlib.sha256, 0
        while len(levels[height]) >= 2:
            if height + 1 == len(levels):
                levels.append([])
            below, above = levels[height], levels[height + 1]
            start = 2 * len(above)
            if start + 1 >= len(below):
                break
            above.extend(
                [
                    sha256(b"\x01" + below[i] + below[i + 1]).digest()
                    for i in range(start, len(below) - 1, 2)
                ]
            )
            height += 1

    def root(self, size: int | None = None) -> bytes:
        """The RFC 9162 root of the first `size` leaves (all of them by default)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")
        return self._range_root(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) of RFC 9162 §2.1.3.1, ordered leaf to root."""
        size = self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is outside a tree of size {size}")
        path: list[bytes] = []
        begin, end = 0, size
        while end - begin > 1:
            k = _split(end - begin)
            if index < begin + k:
                path.append(self._range_root(begin + k, end))
                end = begin + k
            else:
                path.append(self._range_root(begin, begin + k))
                begin += k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[new_size]) of RFC 9162 §2.1.4.1, ordered leaf to root."""
        size = self._check_size(new_size)
        if not 0 < old_size <= size:
            raise ValueError(f"old size {old_size} must be in 1..{size} (the new tree size)")
        path: list[bytes] = []
        begin, end, m = 0, size, old_size
        known_subtree = True
        while m != end - begin:
            k = _split(end - begin)
            if m <= k:
                path.append(self._range_root(begin + k, end))
                end = begin + k
            else:
                path.append(self._range_root(begin, begin + k))
                begin += k
                m -= k
                known_subtree = False
        if not known_subtree:
            path.append(self._range_root(begin, end))
        path.reverse()
        return path

    def _check_size(self, size: int | None) -> int:
        size = self.size if size is None else size
        if not 0 < size <= self.size:
            raise ValueError(f"tree size {size} is outside 1..{self.size}")
        return size

    def _range_root(self, begin: int, end: int) -> bytes:
        """Root of leaves [begin, end): fold the stored perfect subtrees that tile the range.

        RFC 9162 ranges start at a multiple of their largest perfect subtree, so the tiles
        are exactly the binary digits of the range's length; anything else is recomputed.
        """
        peaks: list[bytes] = []
        position, remaining = begin, end - begin
        for height in range(remaining.bit_length() - 1, -1, -1):
            width = 1 << height
            if not remaining & width:
                continue
            if position % width:
                return _slow_root(self._levels[0][begin:end])
            peaks.append(self._levels[height][position >> height])
            position += width
        result = peaks[-1]
        for peak in reversed(peaks[:-1]):
            result = node_hash(peak, result)
        return result


def _split(size: int) -> int:
    """RFC 9162's k: the largest power of two strictly smaller than `size` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def _slow_root(leaves: list[bytes]) -> bytes:
    accumulator = MerkleAccumulator()
    accumulator.extend(leaves)
    return accumulator.root()
