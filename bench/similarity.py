"""Similar complaints: recall@3, false suggestions and lookup time at 100,000 stored complaints.

    .venv/bin/python bench/similarity.py                  # 100,000 stored complaints
    .venv/bin/python bench/similarity.py --stored 20000   # a quick run

The labelled set (`bench/similarity_set.py`) comes from the CFPB narratives in
../shared/data/. The index holds its stored complaints plus made-up fillers up to
`--stored`; every probe is looked up in that full index. Ours: `base.similarity` (TF-IDF on
hashed character 3-5-grams, inverted index on each complaint's heaviest n-grams, exact
rescoring), with its threshold. Baseline, in the same run on the same index: exact-token
Jaccard over word sets, every stored complaint scored (its threshold chosen as the best it
can do: the score that gives it our false-suggestion rate or lower).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from similarity_set import LabelledSet, Narrative, Probe, build, fillers, read_narratives

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from base.similarity import METHOD, METHOD_VERSION  # noqa: E402
from base.similarity.index import THRESHOLD, SimilarityIndex, StoredComplaint  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cfpb-complaints.csv"
DAY = 86400.0
_WORD = re.compile(r"[a-z0-9]+")

Lookup = Callable[[Probe], list[tuple[str, float]]]


class JaccardBaseline:
    """Exact-token Jaccard |A & B| / |A | B| of word sets against every stored complaint."""

    def __init__(self, stored: Sequence[Narrative]) -> None:
        self.vocabulary: dict[str, int] = {}
        self.ids = [n.complaint_id for n in stored]
        token_sets = [self._tokens(n.text, grow=True) for n in stored]
        self.sizes = np.array([len(t) for t in token_sets], dtype=np.float64)
        features = np.concatenate(token_sets)
        docs = np.repeat(np.arange(len(stored)), [len(t) for t in token_sets])
        order = np.argsort(features, kind="stable")
        self.docs = docs[order]
        self.indptr = np.concatenate(
            [[0], np.cumsum(np.bincount(features, minlength=len(self.vocabulary)))]
        )

    def _tokens(self, text: str, grow: bool = False) -> np.ndarray:
        ids = set()
        for word in _WORD.findall(text.lower()):
            if word not in self.vocabulary:
                if not grow:
                    continue
                self.vocabulary[word] = len(self.vocabulary)
            ids.add(self.vocabulary[word])
        return np.array(sorted(ids), dtype=np.int64)

    def scores(self, text: str) -> tuple[np.ndarray, int]:
        tokens = self._tokens(text)
        size = len(set(_WORD.findall(text.lower())))
        inter = np.zeros(len(self.ids), dtype=np.float64)
        for token in tokens.tolist():  # every posting of every query word: all stored scored
            inter[self.docs[self.indptr[token] : self.indptr[token + 1]]] += 1.0
        return inter / (self.sizes + size - inter), size

    def lookup(self, probe: Probe, threshold: float) -> list[tuple[str, float]]:
        scores, _ = self.scores(probe.text)
        top = np.argpartition(-scores, 2)[:3]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] >= threshold]


def ours(index: SimilarityIndex, now: float) -> Lookup:
    def lookup(probe: Probe) -> list[tuple[str, float]]:
        query = StoredComplaint("probe", now, "probe-customer", probe.product, None, probe.text)
        return [(m.complaint_id, m.score) for m in index.search(query)]

    return lookup


def evaluate(lookup: Lookup, labelled: LabelledSet) -> dict[str, float]:
    """recall@3 per kind and overall, false suggestions, and lookup times in ms."""
    times: list[float] = []
    cpu: list[float] = []
    found: dict[str, list[bool]] = {}
    for probe in labelled.positives:
        start, start_cpu = time.perf_counter(), time.thread_time()
        answer = lookup(probe)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        found.setdefault(probe.kind, []).append(probe.expected in [c for c, _ in answer[:3]])
    false = 0
    for probe in labelled.negatives:
        start, start_cpu = time.perf_counter(), time.thread_time()
        false += bool(lookup(probe))
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    every = [hit for hits in found.values() for hit in hits]
    figures = {f"recall@3 {kind}": sum(h) / len(h) for kind, h in found.items()}
    figures["recall@3"] = sum(every) / len(every)
    figures["false-suggestion rate"] = false / len(labelled.negatives)
    figures["p50 ms"] = statistics.median(times)
    figures["p95 ms"] = float(np.percentile(times, 95))
    # CPU time of the lookup's thread: what it costs, whatever else the machine runs.
    figures["p50 CPU ms"] = statistics.median(cpu)
    figures["p95 CPU ms"] = float(np.percentile(cpu, 95))
    return figures


def baseline_threshold(baseline: JaccardBaseline, labelled: LabelledSet, rate: float) -> float:
    """The lowest Jaccard threshold whose false-suggestion rate is at most `rate`."""
    best = sorted(float(baseline.scores(p.text)[0].max()) for p in labelled.negatives)
    allowed = int(rate * len(best))
    return best[len(best) - allowed - 1] + 1e-9 if allowed < len(best) else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stored", type=int, default=100_000, help="complaints in the index")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    narratives = read_narratives(args.data)
    labelled = build(narratives)
    extra = fillers(narratives, max(0, args.stored - len(labelled.stored)))
    stored = labelled.stored + extra
    now = 1_800_000_000.0
    print(f"{METHOD} v{METHOD_VERSION}, threshold {THRESHOLD}")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(
        f"labelled set: {len(labelled.stored)} stored CFPB complaints, {len(labelled.positives)} "
        f"near-duplicates, {len(labelled.negatives)} unrelated; index: {len(stored):,} complaints"
    )
    start = time.perf_counter()
    index = SimilarityIndex()
    index.add_many(
        StoredComplaint(n.complaint_id, now - DAY, "c-" + n.complaint_id, n.product, None, n.text)
        for n in stored
    )
    print(f"index built in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    baseline = JaccardBaseline(stored)
    print(f"baseline built in {time.perf_counter() - start:.1f} s")
    mine = evaluate(ours(index, now), labelled)
    threshold = baseline_threshold(baseline, labelled, mine["false-suggestion rate"])
    theirs = evaluate(lambda p: baseline.lookup(p, threshold), labelled)
    print(f"baseline threshold (Jaccard): {threshold:.3f}")
    print(f"{'figure':<28}{'ours':>10}{'baseline':>10}{'ratio':>10}")
    for name in mine:
        ratio = theirs[name] / mine[name] if "ms" in name and mine[name] else None
        if "recall" in name and theirs[name]:
            ratio = mine[name] / theirs[name]
        shown = f"{ratio:>10.2f}" if ratio is not None else f"{'':>10}"
        print(f"{name:<28}{mine[name]:>10.3f}{theirs[name]:>10.3f}{shown}")
    print("ratio: recall ours/baseline; time baseline/ours (how many times faster ours is)")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
