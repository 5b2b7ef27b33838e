"""Sorted doubles that take one value in or out in time independent of their number.

A median over 100,000 durations needs them sorted; one sorted array would move up to
800 kB for each value a repeat puts in or takes out. Blocks of about a thousand values
(and their maxima, to find the block) move a few kB instead, in the same memory.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterable

BLOCK = 1024


class MissingValue(LookupError):
    """The value to take out is not there."""


class SortedValues:
    def __init__(self, ordered: Iterable[float] = ()) -> None:
        """`ordered` must already be sorted (a full computation sorts once)."""
        flat = ordered if isinstance(ordered, array) else array("d", ordered)
        self.blocks = [flat[i : i + BLOCK] for i in range(0, len(flat), BLOCK)]
        self.maxima = array("d", [block[-1] for block in self.blocks])

    def __len__(self) -> int:
        return sum(len(block) for block in self.blocks)

    def add(self, value: float) -> None:
        if not self.blocks:
            self.blocks, self.maxima = [array("d", [value])], array("d", [value])
            return
        i = min(bisect.bisect_left(self.maxima, value), len(self.blocks) - 1)
        block = self.blocks[i]
        bisect.insort(block, value)
        self.maxima[i] = block[-1]
        if len(block) > 2 * BLOCK:
            half = len(block) // 2
            self.blocks[i : i + 1] = [block[:half], block[half:]]
            self.maxima[i : i + 1] = array("d", [block[half - 1], block[-1]])

    def remove(self, value: float) -> None:
        i = bisect.bisect_left(self.maxima, value)  # the first block that can hold it
        if i == len(self.blocks):
            raise MissingValue(value)
        block = self.blocks[i]
        j = bisect.bisect_left(block, value)
        if j == len(block) or block[j] != value:
            raise MissingValue(value)
        del block[j]
        if block:
            self.maxima[i] = block[-1]
        else:
            del self.blocks[i]
            del self.maxima[i]

    def flat(self) -> array[float]:
        joined = array("d")
        for block in self.blocks:
            joined.extend(block)
        return joined
