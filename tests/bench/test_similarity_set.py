"""The labelled set of bench/similarity.py: what it calls a near-duplicate and a negative."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
# Loaded from its file: bench/ on sys.path would shadow packages (bench/kpi.py is not `kpi`).
_SPEC = importlib.util.spec_from_file_location("similarity_set", BENCH / "similarity_set.py")
assert _SPEC is not None and _SPEC.loader is not None
labelled = importlib.util.module_from_spec(_SPEC)
sys.modules["similarity_set"] = labelled  # dataclasses look their module up by name
_SPEC.loader.exec_module(labelled)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "cfpb-complaints.csv"
LETTER = (
    "I am writing about my credit report. The account listed is not mine at all. "
    "I disputed it on XX/XX/XXXX and paid {$2,400.00} already. Please remove it from my file."
)


@pytest.fixture(scope="module")
def narratives():
    return labelled.read_narratives(DATA)


def test_every_stored_complaint_gets_one_near_duplicate_of_each_kind(narratives):
    built = labelled.build(narratives)
    assert len(built.positives) == 3 * len(built.stored)
    stored_ids = {n.complaint_id for n in built.stored}
    assert {p.expected for p in built.positives} == stored_ids
    for kind in labelled.KINDS:
        assert sum(p.kind == kind for p in built.positives) == len(built.stored)


def test_negatives_are_unstored_complaints_of_stored_products_and_not_the_same_letter(
    narratives,
):
    built = labelled.build(narratives)
    stored_texts = {n.text for n in built.stored}
    stored_products = {n.product for n in built.stored}
    assert built.negatives
    assert all(p.expected is None and p.text not in stored_texts for p in built.negatives)
    assert all(p.product in stored_products for p in built.negatives)
    held_out = len(narratives) - len(built.stored)
    assert len(built.negatives) + built.same_letters <= held_out


def test_the_set_is_the_same_for_the_same_seed(narratives):
    assert labelled.build(narratives, seed=3) == labelled.build(narratives, seed=3)
    assert labelled.build(narratives, seed=3) != labelled.build(narratives, seed=4)


def test_truncating_keeps_the_first_sentences_only():
    cut = labelled.truncated(LETTER, random.Random(1))
    assert LETTER.startswith(cut) and len(cut) < len(LETTER)


def test_reordering_keeps_every_sentence_in_another_order():
    moved = labelled.reordered(LETTER, random.Random(1))
    assert moved != LETTER
    assert sorted(labelled.sentences(moved)) == sorted(labelled.sentences(LETTER))


def test_remasking_rewrites_masks_and_masks_the_figures():
    masked = labelled.remasked(LETTER, random.Random(1))
    assert "2,400" not in masked
    assert not any(ch.isdigit() for ch in masked)
    assert masked.replace("X", "") != LETTER.replace("X", "")  # figures became masks


def test_the_same_letter_filed_again_is_recognised():
    keys = labelled._sentence_keys(LETTER)
    assert labelled.same_letter(LETTER.upper().lower(), keys)
    assert not labelled.same_letter("A different complaint about a mortgage escrow.", keys)


def test_fillers_copy_no_sentence_of_the_narratives(narratives):
    made = labelled.fillers(narratives[:50], 20)
    originals = {s for n in narratives[:50] for s in labelled._sentence_keys(n.text)}
    assert len(made) == 20
    assert not any(labelled.same_letter(f.text, originals) for f in made)
