"""The labelled set behind `bench/similarity.py`, built from the real CFPB narratives.

Stored: two thirds of the complaints that have a narrative. Positives: for each stored
complaint, three near-duplicates, one per way a resubmission differs in practice: cut short
(the first half to three quarters of its sentences), its sentences in another order, and
masked anew (CFPB's `XXXX` masks rewritten as `XX/XX/XXXX`, `XXXXXXXX`, `[redacted]`'s
cousin `XX`, plus digits masked). Negatives: the other third, each an unrelated complaint
about a product that is also stored: any suggestion for one of them is a false suggestion.
A held-out complaint that is the same letter as a stored one (half its longer sentences
word for word: people file the same letter again) is a real duplicate, so it is left out
of the negatives and counted.
Everything is seeded: the same data gives the same set.
"""

from __future__ import annotations

import csv
import itertools
import random
import re
from dataclasses import dataclass
from pathlib import Path

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MASK = re.compile(r"X{2,}(?:/X{2,})*")
_DIGITS = re.compile(r"\b\d[\d,.]*\b")
_MASKS = ("XXXX", "XX/XX/XXXX", "XXXXXXXX", "XX")
KINDS = ("truncated", "reordered", "remasked")


@dataclass(frozen=True)
class Narrative:
    complaint_id: str
    product: str
    text: str  # summary (the CFPB issue) and narrative, as Closeloop indexes them


@dataclass(frozen=True)
class Probe:
    """A query and the stored complaint it must find (None: it must find nothing)."""

    text: str
    product: str
    kind: str  # one of KINDS, or "unrelated"
    expected: str | None


@dataclass(frozen=True)
class LabelledSet:
    stored: list[Narrative]
    positives: list[Probe]
    negatives: list[Probe]
    same_letters: int  # held-out complaints left out: the same letter as a stored one


def read_narratives(path: Path) -> list[Narrative]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Narrative(
            complaint_id=row["Complaint ID"],
            product=row["Product"],
            text=f"{row['Issue']}. {row['Consumer complaint narrative'].strip()}",
        )
        for row in rows
        if row["Consumer complaint narrative"].strip()
    ]


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def truncated(text: str, rng: random.Random) -> str:
    parts = sentences(text)
    if len(parts) < 3:
        return text[: max(1, int(len(text) * rng.uniform(0.5, 0.75)))]
    keep = max(2, round(len(parts) * rng.uniform(0.5, 0.75)))
    return " ".join(parts[:keep])


def reordered(text: str, rng: random.Random) -> str:
    parts = sentences(text)
    if len(parts) < 2:
        words = text.split()
        middle = len(words) // 2
        return " ".join(words[middle:] + words[:middle])
    shuffled = parts[:]
    while len(parts) > 1 and shuffled == parts:
        rng.shuffle(shuffled)
    return " ".join(shuffled)


def remasked(text: str, rng: random.Random) -> str:
    masked = _MASK.sub(lambda _: rng.choice(_MASKS), text)
    return _DIGITS.sub(lambda m: "X" * len(m.group()), masked)


_MAKERS = {"truncated": truncated, "reordered": reordered, "remasked": remasked}


def build(narratives: list[Narrative], seed: int = 12) -> LabelledSet:
    rng = random.Random(seed)
    shuffled = narratives[:]
    rng.shuffle(shuffled)
    cut = len(shuffled) * 2 // 3
    stored, held_out = shuffled[:cut], shuffled[cut:]
    positives = [
        Probe(_MAKERS[kind](n.text, rng), n.product, kind, n.complaint_id)
        for n in stored
        for kind in KINDS
    ]
    stored_products = {n.product for n in stored}
    stored_sentences = {s for n in stored for s in _sentence_keys(n.text)}
    negatives, letters = [], 0
    for n in held_out:
        if n.product not in stored_products:
            continue
        if same_letter(n.text, stored_sentences):
            letters += 1
            continue
        negatives.append(Probe(n.text, n.product, "unrelated", None))
    return LabelledSet(stored, positives, negatives, letters)


def _sentence_keys(text: str) -> set[str]:
    return {" ".join(s.lower().split()) for s in sentences(text) if len(s) > 40}


def same_letter(text: str, stored_sentences: set[str]) -> bool:
    """Half or more of its longer sentences appear word for word in a stored complaint:
    the same letter filed again (CFPB holds many), a real duplicate, so not a negative."""
    keys = _sentence_keys(text)
    return bool(keys) and len(keys & stored_sentences) * 2 >= len(keys)


def fillers(narratives: list[Narrative], count: int, seed: int = 7) -> list[Narrative]:
    """Made-up complaints for a large index: word sequences drawn from a bigram model of
    the narratives (60 to 250 words), so a lookup runs over realistic words and n-grams,
    but no filler copies a sentence of a probe (that would be a real near-duplicate)."""
    rng = random.Random(seed)
    following: dict[str, list[str]] = {}
    for n in narratives:
        words = n.text.split()
        for a, b in itertools.pairwise(words):
            following.setdefault(a, []).append(b)
    starts = list(following)
    made = []
    for i in range(count):
        word, words = rng.choice(starts), []
        for _ in range(rng.randint(60, 250)):
            words.append(word)
            nexts = following.get(word)
            word = rng.choice(nexts) if nexts and rng.random() > 0.15 else rng.choice(starts)
        made.append(Narrative(f"F-{i}", rng.choice(narratives).product, " ".join(words)))
    return made
