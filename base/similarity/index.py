"""An in-memory index of recent complaints that answers "which ones look like this one?".

Two stages keep a lookup fast at 100,000 stored complaints (`bench/similarity.py`):

1. an inverted index over each stored complaint's `KEPT_TERMS` heaviest n-grams (TF-IDF at
   the time it was stored) ranks every stored complaint in one pass over the postings of
   the query's `QUERY_TERMS` heaviest n-grams;
2. the best `RESCORED` of them, plus the `SAME_CASE_RESCORED` latest complaints of the same
   customer, product and lot within `SAME_CASE_WINDOW`, are scored exactly: the cosine of
   the full TF-IDF vectors with today's document frequencies. That cosine is the
   `text_score` people see.

Both stages stay vectorised however alike the stored complaints are: a burst of complaints
from one web form (the same words, customer, product and lot thousands of times) makes
every posting list as long as the index, and must cost a lookup no more than varied text.

The score combines the text with the case facts: `1 - (1 - text) * (1 - w)`, where `w` is
`SAME_CASE_WEIGHT` for the same customer, product and lot within 30 days and 0 otherwise,
so a repeat by the same customer about the same lot is suggested even when worded anew.
Only complaints received before the one looked up count, so a retried lookup answers the
same however many complaints arrived since.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from base.similarity.text import FEATURES, FloatArray, IntArray, TermCounts, normalise, term_counts

KEPT_TERMS = 128
RESCORED = 12
QUERY_TERMS = 256
SAME_CASE_WINDOW = timedelta(days=30)
# A customer who complained about one lot many times: the latest ones are what to show.
SAME_CASE_RESCORED = 32
TEXT_WINDOW = timedelta(days=365)
# Calibrated on the CFPB labelled set (bench/similarity.py, figures in its README): at 0.65
# about 97% of near-duplicates are found and 12% of unrelated complaints get a suggestion.
THRESHOLD = 0.65
# The same customer, product and lot within 30 days is a suggestion on its own.
SAME_CASE_WEIGHT = THRESHOLD
DEFAULT_LIMIT = 3
COMPACT_AFTER = 4096  # stored complaints waiting in the small index before a merge
PYTHON_SCORED_POSTINGS = 4096  # up to this many pending postings, a loop beats numpy


@dataclass(frozen=True)
class StoredComplaint:
    """What the index keeps of one complaint. `customer_key` is a hash, never the id."""

    complaint_id: str
    received_at: float  # POSIX seconds
    customer_key: str
    product: str
    lot: str | None
    text: str


@dataclass(frozen=True)
class Match:
    complaint_id: str
    score: float
    text_score: float
    same_case: bool  # same customer, product and lot within SAME_CASE_WINDOW
    received_at: float


@dataclass
class _Doc:
    complaint_id: str
    received_at: float
    case: tuple[str, str, str | None]
    text: str  # normalised, for the exact rescoring


class SimilarityIndex:
    """Not thread-safe: the caller serialises `add` and `search` (one lock per worker)."""

    def __init__(self) -> None:
        self._df = np.zeros(FEATURES, dtype=np.int32)
        self._docs: list[_Doc] = []
        self._ids: dict[str, int] = {}
        self._by_case: dict[tuple[str, str, str | None], list[int]] = defaultdict(list)
        self._indptr = np.zeros(FEATURES + 1, dtype=np.int64)
        self._post_doc = np.zeros(0, dtype=np.int32)
        self._post_weight = np.zeros(0, dtype=np.float32)
        # Postings of complaints stored since the last merge, one chunk per complaint, and
        # their concatenation (made again at the first lookup after an add).
        self._chunks: list[tuple[IntArray, IntArray, FloatArray]] = []
        self._searchable_chunks = 0
        self._pending: tuple[IntArray, IntArray, FloatArray] | None = None
        # How many pending postings each feature has: a lookup whose features have few of
        # them (varied text, the usual case) sums them in Python; many (a burst of alike
        # complaints) go through the vectorised path. Both give the same scores.
        self._pending_postings: dict[int, list[tuple[int, float]]] = defaultdict(list)

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, complaint_id: str) -> bool:
        return complaint_id in self._ids

    def idf(self, features: IntArray) -> FloatArray:
        n = len(self._docs)
        return np.asarray(np.log((1.0 + n) / (1.0 + self._df[features])) + 1.0)

    def add(self, complaint: StoredComplaint) -> bool:
        """Store one complaint (False if it was already there: adding is idempotent); it
        can be found at once."""
        return self._add(complaint, searchable_now=True)

    def add_many(self, complaints: Iterable[StoredComplaint]) -> int:
        """Load many complaints at once (a worker's start, the bench): one merge at the end."""
        added = sum(self._add(c, searchable_now=False) for c in complaints)
        self.compact()
        return added

    def _add(self, complaint: StoredComplaint, *, searchable_now: bool) -> bool:
        if complaint.complaint_id in self._ids:
            return False
        terms = term_counts(complaint.text)
        doc = len(self._docs)
        self._ids[complaint.complaint_id] = doc
        case = (complaint.customer_key, complaint.product, complaint.lot)
        self._docs.append(
            _Doc(complaint.complaint_id, complaint.received_at, case, normalise(complaint.text))
        )
        self._by_case[case].append(doc)
        self._df[terms.features] += 1
        features, weights = _heaviest(terms, self.idf(terms.features))
        self._chunks.append((features, np.full(len(features), doc, dtype=np.int64), weights))
        self._pending = None
        if not searchable_now:
            return True
        for feature, weight in zip(features.tolist(), weights.tolist(), strict=True):
            self._pending_postings[feature].append((doc, weight))
        self._searchable_chunks += 1
        if self._searchable_chunks >= COMPACT_AFTER:
            self.compact()
        return True

    def compact(self) -> None:
        """Merge the small index into the large one (a sort of all postings)."""
        if not self._chunks:
            return
        features = np.concatenate([self._expand_features(), *(c[0] for c in self._chunks)])
        docs = np.concatenate([self._post_doc, *(c[1] for c in self._chunks)])
        weights = np.concatenate([self._post_weight, *(c[2] for c in self._chunks)])
        order = np.argsort(features, kind="stable")
        self._post_doc = docs[order].astype(np.int32)
        self._post_weight = weights[order].astype(np.float32)
        counts = np.bincount(features, minlength=FEATURES)
        self._indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._chunks = []
        self._searchable_chunks = 0
        self._pending = None
        self._pending_postings = defaultdict(list)

    def _expand_features(self) -> IntArray:
        lengths = np.diff(self._indptr)
        return np.repeat(np.arange(FEATURES, dtype=np.int64), lengths)

    def search(
        self,
        query: StoredComplaint,
        *,
        limit: int = DEFAULT_LIMIT,
        threshold: float = THRESHOLD,
    ) -> list[Match]:
        """The `limit` best stored complaints scoring at least `threshold`, best first."""
        terms = term_counts(query.text)
        idf = self.idf(terms.features)
        q_weights = _normalised(terms.tf * idf)
        candidates = self._approximate(terms.features, q_weights)
        case = (query.customer_key, query.product, query.lot)
        same_case = self._latest_of_case(case, query.received_at)
        matches = []
        for doc in candidates | same_case:
            stored = self._docs[doc]
            age = query.received_at - stored.received_at
            if stored.complaint_id == query.complaint_id or age < 0:
                continue
            if age > TEXT_WINDOW.total_seconds() and doc not in same_case:
                continue
            text_score = self._cosine(terms.features, q_weights, stored.text)
            weight = SAME_CASE_WEIGHT if doc in same_case else 0.0
            score = 1.0 - (1.0 - text_score) * (1.0 - weight)
            if score >= threshold:
                matches.append(
                    Match(
                        stored.complaint_id, score, text_score, doc in same_case, stored.received_at
                    )
                )
        return heapq.nsmallest(
            limit, matches, key=lambda m: (-m.score, -m.received_at, m.complaint_id)
        )

    def _approximate(self, features: IntArray, weights: FloatArray) -> set[int]:
        """The RESCORED best stored complaints by their heaviest n-grams (the query's
        QUERY_TERMS heaviest only: rare n-grams have short postings)."""
        n = len(self._docs)
        if n == 0:
            return set()
        if len(features) > QUERY_TERMS:
            keep = np.argpartition(-weights, QUERY_TERMS - 1)[:QUERY_TERMS]
            features, weights = features[keep], weights[keep]
        starts, ends = self._indptr[features], self._indptr[features + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        scores = np.zeros(n, dtype=np.float64)
        if total:
            offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
            positions = offsets + np.arange(total, dtype=np.int64)
            scores = np.bincount(  # type: ignore[assignment]
                self._post_doc[positions],
                weights=self._post_weight[positions] * np.repeat(weights, lengths),
                minlength=n,
            )
        if self._chunks:
            postings = self._pending_postings
            listed = [
                (f, w, postings[f])
                for f, w in zip(features.tolist(), weights.tolist(), strict=True)
                if f in postings
            ]
            if sum(len(found) for _, _, found in listed) <= PYTHON_SCORED_POSTINGS:
                for _, weight, found in listed:
                    for doc, stored_weight in found:
                        scores[doc] += weight * stored_weight
            else:
                scores = scores + self._pending_scores(features, weights, n)
        top = min(RESCORED, n)
        best = np.argpartition(-scores, top - 1)[:top]
        return {int(doc) for doc in best if scores[doc] > 0.0}

    def _pending_scores(self, features: IntArray, weights: FloatArray, n: int) -> FloatArray:
        """The same dot products over the postings not merged yet, without a Python loop
        per posting: each pending posting finds its query weight by binary search."""
        if self._pending is None:
            self._pending = (
                np.concatenate([c[0] for c in self._chunks]),
                np.concatenate([c[1] for c in self._chunks]),
                np.concatenate([c[2] for c in self._chunks]),
            )
        pending_features, pending_docs, pending_weights = self._pending
        order = np.argsort(features)
        query_features, query_weights = features[order], weights[order]
        at = np.minimum(np.searchsorted(query_features, pending_features), len(order) - 1)
        hit = query_features[at] == pending_features
        return np.asarray(
            np.bincount(
                pending_docs[hit],
                weights=pending_weights[hit] * query_weights[at[hit]],
                minlength=n,
            ),
            dtype=np.float64,
        )

    def _latest_of_case(self, case: tuple[str, str, str | None], received_at: float) -> set[int]:
        """The `SAME_CASE_RESCORED` latest complaints of the same case within the window,
        received before `received_at`. Stored in about the order they came, so the walk from
        the newest end stops early; a late arrival only makes it look a little further."""
        window = SAME_CASE_WINDOW.total_seconds()
        latest: set[int] = set()
        for doc in reversed(self._by_case.get(case, [])):
            if 0 <= received_at - self._docs[doc].received_at <= window:
                latest.add(doc)
                if len(latest) >= SAME_CASE_RESCORED:
                    break
        return latest

    def _cosine(self, features: IntArray, weights: FloatArray, text: str) -> float:
        other = term_counts(text, normalised=True)
        other_weights = _normalised(other.tf * self.idf(other.features))
        _, mine, theirs = np.intersect1d(
            features, other.features, assume_unique=True, return_indices=True
        )
        return float(min(1.0, np.dot(weights[mine], other_weights[theirs])))


def _normalised(weights: FloatArray) -> FloatArray:
    norm = float(np.linalg.norm(weights))
    return weights / norm if norm else weights


def _heaviest(terms: TermCounts, idf: FloatArray) -> tuple[IntArray, FloatArray]:
    weights = terms.tf * idf
    if len(weights) > KEPT_TERMS:
        keep = np.argpartition(-weights, KEPT_TERMS - 1)[:KEPT_TERMS]
        return terms.features[keep], _normalised(weights[keep])
    return terms.features, _normalised(weights)
