"""Sorted values stay exactly the sorted multiset of what was put in and not taken out."""

from __future__ import annotations

import random

import pytest

from kpi.sorted_values import BLOCK, MissingValue, SortedValues


@pytest.mark.parametrize("seed", [1, 2])
def test_adding_and_taking_out_keeps_the_sorted_multiset(seed: int) -> None:
    rng = random.Random(seed)
    start = sorted(rng.choice([0.5, 1.0, 2.0]) + rng.random() for _ in range(3 * BLOCK))
    kept, expected = SortedValues(start), list(start)
    for _ in range(20 * BLOCK):
        if expected and rng.random() < 0.45:
            value = rng.choice(expected)
            kept.remove(value)
            expected.remove(value)
        else:
            value = rng.choice([1.0, 1.0, rng.random() * 3])  # duplicates across blocks
            kept.add(value)
            expected.append(value)
        if rng.random() < 0.01:
            assert list(kept.flat()) == sorted(expected)
    assert list(kept.flat()) == sorted(expected) and len(kept) == len(expected)
    assert max(len(block) for block in kept.blocks) <= 2 * BLOCK


def test_taking_out_a_value_that_is_not_there_is_refused() -> None:
    kept = SortedValues([1.0, 2.0])
    with pytest.raises(MissingValue):
        kept.remove(1.5)
    kept.remove(1.0)
    kept.remove(2.0)
    with pytest.raises(MissingValue):
        kept.remove(2.0)
    assert len(kept) == 0 and list(kept.flat()) == []
