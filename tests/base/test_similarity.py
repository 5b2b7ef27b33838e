"""The similarity scorer: what an operator sees suggested, and what they do not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from base.similarity.index import (
    RESCORED,
    SAME_CASE_RESCORED,
    THRESHOLD,
    SimilarityIndex,
    StoredComplaint,
)
from base.similarity.text import normalise

DAY = 86400.0
NOW = 1_800_000_000.0

KETTLE = (
    "Kettle switch does not turn off. I bought the kettle on XX/XX/XXXX. The switch does not "
    "turn off when the water boils, it kept boiling until the kitchen filled with steam and I "
    "had to unplug it. The base got very hot and the plastic smells burnt. I want a refund."
)
CARD = (
    "Card payment charged twice. My credit card was charged twice for the same order and the "
    "bank says the merchant must refund the second charge. Nobody answers my emails."
)
MORTGAGE = (
    "Escrow account. My mortgage servicer raised the escrow payment without explanation and "
    "applied my payment late, so a late fee was added to the loan."
)


def stored(complaint_id: str, text: str, *, days_ago: float = 1, customer: str = "c-other",
           product: str = "KET-200", lot: str | None = "L1") -> StoredComplaint:  # fmt: skip
    return StoredComplaint(complaint_id, NOW - days_ago * DAY, customer, product, lot, text)


def query(text: str, **changes: object) -> StoredComplaint:
    fields: dict[str, object] = {
        "complaint_id": "C-NEW",
        "received_at": NOW,
        "customer_key": "c-new",
        "product": "KET-200",
        "lot": "L1",
        "text": text,
    }
    fields.update(changes)
    return StoredComplaint(**fields)  # type: ignore[arg-type]


def index_of(*complaints: StoredComplaint) -> SimilarityIndex:
    index = SimilarityIndex()
    for complaint in complaints:
        index.add(complaint)
    return index


def test_a_near_duplicate_ranks_first_and_above_the_threshold():
    index = index_of(stored("C-CARD", CARD), stored("C-KETTLE", KETTLE), stored("C-MORT", MORTGAGE))
    shortened = " ".join(KETTLE.split(". ")[:3])  # the first three sentences, resubmitted
    [first, *_] = index.search(query(shortened))
    assert first.complaint_id == "C-KETTLE"
    assert first.score >= THRESHOLD
    assert not first.same_case


def test_reordered_and_remasked_text_still_finds_the_original():
    index = index_of(stored("C-KETTLE", KETTLE), stored("C-CARD", CARD))
    sentences = KETTLE.split(". ")
    reordered = ". ".join(reversed(sentences)).replace("XX/XX/XXXX", "XXXX")
    [first, *_] = index.search(query(reordered))
    assert first.complaint_id == "C-KETTLE"
    assert first.text_score > 0.8


def test_an_unrelated_complaint_is_not_suggested():
    index = index_of(stored("C-CARD", CARD), stored("C-MORT", MORTGAGE))
    assert index.search(query(KETTLE)) == []
    [near] = index.search(query(KETTLE), threshold=0.0, limit=1)
    assert near.score < THRESHOLD  # scored, and below what is shown


def test_same_customer_product_and_lot_within_30_days_is_suggested_whatever_the_words():
    index = index_of(stored("C-EARLIER", MORTGAGE, days_ago=29, customer="c-new"))
    [match] = index.search(query("The lid broke off."))
    assert match.complaint_id == "C-EARLIER"
    assert match.same_case
    assert match.score >= THRESHOLD > match.text_score


def test_the_same_customer_after_30_days_or_another_lot_is_not_the_same_case():
    index = index_of(
        stored("C-OLD", MORTGAGE, days_ago=31, customer="c-new"),
        stored("C-LOT", MORTGAGE, days_ago=2, customer="c-new", lot="L2"),
    )
    assert index.search(query("The lid broke off.")) == []


def test_only_complaints_received_before_count_and_never_the_complaint_itself():
    index = index_of(stored("C-LATER", KETTLE, days_ago=-1), stored("C-NEW", KETTLE))
    assert index.search(query(KETTLE)) == []


def test_complaints_older_than_the_text_window_are_not_compared():
    index = index_of(stored("C-ANCIENT", KETTLE, days_ago=400))
    assert index.search(query(KETTLE)) == []


def test_adding_twice_stores_once_and_a_merge_changes_no_answer():
    index = SimilarityIndex()
    assert index.add(stored("C-KETTLE", KETTLE))
    assert not index.add(stored("C-KETTLE", KETTLE))
    assert len(index) == 1
    before = index.search(query(KETTLE))
    index.compact()
    assert index.search(query(KETTLE)) == before


def test_pending_and_merged_postings_rank_alike_among_many_complaints():
    texts = [KETTLE, CARD, MORTGAGE]
    complaints = [
        stored(f"C-{i:03d}", f"{texts[i % 3]} Order {i}.", days_ago=1 + i / 1000, customer=f"c{i}")
        for i in range(120)
    ]
    # 60 alike ones: a query about them meets more pending postings than are summed in
    # Python, so both ways of scoring the pending postings are compared with the merge.
    complaints += [stored(f"C-K{i:02d}", KETTLE, days_ago=0.5, customer=f"k{i}") for i in range(60)]
    pending = index_of(*complaints)  # every one added since the last merge
    merged = index_of(*complaints)
    merged.compact()
    for text in texts:
        assert pending.search(query(text[:120])) == merged.search(query(text[:120]))


def test_a_burst_of_identical_complaints_rescores_a_bounded_number_and_shows_the_latest(
    monkeypatch: pytest.MonkeyPatch,
):
    """One web form submitting the same words for the same customer and lot thousands of
    times makes every posting as long as the index: a lookup must still do bounded work."""
    burst = [
        stored(f"C-{i:04d}", KETTLE, days_ago=(2000 - i) / 10_000, customer="c-new")
        for i in range(2000)
    ]
    index = index_of(*burst)
    rescored = 0
    exact = SimilarityIndex._cosine

    def counting(self: SimilarityIndex, *args: object) -> float:
        nonlocal rescored
        rescored += 1
        return exact(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SimilarityIndex, "_cosine", counting)
    matches = index.search(query(KETTLE))
    assert rescored <= RESCORED + SAME_CASE_RESCORED
    assert [m.complaint_id for m in matches] == ["C-1999", "C-1998", "C-1997"]
    assert all(m.same_case and m.text_score > 0.99 for m in matches)


def test_bulk_loading_answers_as_one_by_one():
    complaints = [stored("C-CARD", CARD), stored("C-KETTLE", KETTLE), stored("C-MORT", MORTGAGE)]
    bulk = SimilarityIndex()
    bulk.add_many(complaints)
    assert bulk.search(query(KETTLE[:150])) == index_of(*complaints).search(query(KETTLE[:150]))


def test_masks_fold_into_one_token_and_case_and_punctuation_do_not_matter():
    assert normalise("On XX/XX/XXXX I paid {$XXXX}.") == normalise("on xxxx, I PAID xx!")


def test_the_window_constants_are_those_the_readme_states():
    from base.similarity import index

    assert timedelta(days=30) == index.SAME_CASE_WINDOW
    assert timedelta(days=365) == index.TEXT_WINDOW
