"""A complaint's text as a sparse vector of hashed character n-grams (3, 4 and 5 characters).

Character n-grams survive what makes near-duplicates differ in practice: a resubmission cut
short, sentences in another order, typos, and the CFPB-style masks (`XXXX`, `XX/XX/XXXX`)
re-applied differently, which normalisation folds into one token. Hashing the n-grams
(2**20 buckets) needs no vocabulary, so a new complaint never forces a refit and several
workers that index the same complaints get the same vectors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NGRAM_SIZES = (3, 4, 5)
HASH_BITS = 20
FEATURES = 1 << HASH_BITS
MAX_CHARS = 4000  # the start of a long narrative says what it is about; bounds the cost

_MASK = re.compile(r"(?:x{2,}[/\-.]?)+")  # xxxx, xx/xx/xxxx, xxxx-xxxx after lower-casing
_NOT_WORD = re.compile(r"[^0-9a-z#]+")
_PRIME = np.uint64(1099511628211)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(64 - HASH_BITS)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def normalise(text: str) -> str:
    """Lower case, masks folded to `#`, anything but letters and digits to one space."""
    folded = _MASK.sub(" # ", text.lower())
    return " " + _NOT_WORD.sub(" ", folded).strip()[:MAX_CHARS] + " "


@dataclass(frozen=True)
class TermCounts:
    """The distinct hashed n-grams of one text (sorted) and how often each occurs."""

    features: IntArray
    counts: FloatArray

    @property
    def tf(self) -> FloatArray:
        """Sub-linear term frequency: a phrase repeated ten times is not ten times the topic."""
        return np.asarray(1.0 + np.log(self.counts), dtype=np.float64)


def term_counts(text: str, *, normalised: bool = False) -> TermCounts:
    """`normalised`: the text is already the output of `normalise` (stored texts are)."""
    clean = text if normalised else normalise(text)
    data = np.frombuffer(clean.encode("utf-8"), dtype=np.uint8).astype(np.uint64)
    hashes = []
    for size in NGRAM_SIZES:
        if len(data) < size:
            continue
        h = np.full(len(data) - size + 1, np.uint64(size), dtype=np.uint64)
        for k in range(size):  # polynomial rolling hash, wrapping at 2**64
            h = h * _PRIME + data[k : len(data) - size + 1 + k]
        hashes.append((h * _MIX) >> _SHIFT)
    if not hashes:
        return TermCounts(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
    features, counts = np.unique(np.concatenate(hashes), return_counts=True)
    return TermCounts(features.astype(np.int64), counts.astype(np.float64))
