"""Seeded random series for the detection tests: Poisson counts and normal noise."""

from __future__ import annotations

import math
import random


class Noise:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def poisson(self, mean: float) -> int:
        """Knuth's method: exact, and fast enough for means up to a few dozen."""
        floor, k, product = math.exp(-mean), 0, self.rng.random()
        while product > floor:
            k += 1
            product *= self.rng.random()
        return k

    def counts(self, mean: float, n: int) -> list[float]:
        return [float(self.poisson(mean)) for _ in range(n)]

    def normal(self, n: int, shift: float = 0.0) -> list[float]:
        return [self.rng.gauss(shift, 1.0) for _ in range(n)]
