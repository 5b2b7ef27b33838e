"""Similar complaints at intake: suggested with their score, never merged; confirmed by a
person as a duplicate or as related, and audited with the score, method and version."""

from __future__ import annotations

import uuid

from temporalio.api.sdk.v1 import WorkflowMetadata

from base.similarity import METHOD, METHOD_VERSION
from schemas.decisions import Decision, LinkRelatedInput, RejectReason
from schemas.events import Customer, Product
from tests.workflows.conftest import HANDLER

STEAM = (
    "The kettle does not switch itself off when the water boils. It kept boiling until the "
    "kitchen was full of steam and I had to pull the plug. The base was very hot."
)
CARD = "My card payment for the order was taken twice and nobody answers my emails about it."


def _product() -> Product:
    """A product of its own, so complaints of other tests are never this test's matches."""
    return Product(sku=f"KET-{uuid.uuid4().hex[:8]}", name="Electric kettle", lot="L2026-41")


async def test_a_near_duplicate_is_suggested_with_its_score_and_nothing_is_merged(harness):
    product = _product()
    first = await harness.start(
        product=product, customer=Customer(id=f"CUST-{uuid.uuid4().hex[:6]}"), description=STEAM
    )
    other = await harness.start(
        product=product, customer=Customer(id=f"CUST-{uuid.uuid4().hex[:6]}"), description=CARD
    )
    again = await harness.start(
        product=product,
        customer=Customer(id=f"CUST-{uuid.uuid4().hex[:6]}"),
        description=STEAM.split(". ")[1] + ". " + STEAM.split(". ")[0] + ".",
    )
    state = await harness.state(again)
    assert state.similar is not None
    assert (state.similar.method, state.similar.method_version) == (METHOD, METHOD_VERSION)
    [best, *_] = state.similar.suggestions
    assert best.complaint_id == first.id
    assert best.score >= state.similar.threshold
    assert other.id not in [s.complaint_id for s in state.similar.suggestions]
    assert state.status.value == "acknowledged"  # a suggestion changes nothing by itself
    assert (await harness.state(first)).status.value == "acknowledged"
    [received, *_] = harness.events(again.id)
    assert received.similar_complaints is not None
    assert received.similar_complaints[0].complaint_id == first.id
    assert received.similar_complaints[0].method == METHOD
    metadata = await again.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    assert f"Similar complaints: {first.id} (" in metadata.current_details  # the Temporal UI
    [entry] = [e for e in harness.entries(again.id) if e.entry_type == "complaint.received"]
    assert entry.data["similar"]["suggestions"][0]["complaint_id"] == first.id


async def test_the_same_customer_product_and_lot_within_30_days_is_suggested(harness):
    product, customer = _product(), Customer(id=f"CUST-{uuid.uuid4().hex[:6]}")
    first = await harness.start(product=product, customer=customer, description=STEAM)
    second = await harness.start(product=product, customer=customer, description=CARD)
    [match] = (await harness.state(second)).similar.suggestions
    assert match.complaint_id == first.id
    assert match.same_customer_product_lot


async def test_linking_as_related_is_audited_with_score_method_and_version(harness):
    product = _product()
    first = await harness.start(product=product, description=STEAM)
    second = await harness.start(product=product, description=STEAM)
    [suggested] = (await harness.state(second)).similar.suggestions
    state = await harness.decide(
        second,
        Decision.LINK_RELATED,
        LinkRelatedInput(actor=HANDLER, related_to=first.id, explanation="Same kettle fault"),
    )
    [link] = state.related
    assert (link.complaint_id, link.score, link.method) == (first.id, suggested.score, METHOD)
    assert state.status.value == "acknowledged"  # both stay open cases
    [entry] = [e for e in harness.entries(second.id) if e.entry_type == "complaint.linked_related"]
    assert entry.actor == HANDLER.id
    assert entry.data["input"]["related_to"] == first.id
    evidence = entry.data["similarity"]
    assert evidence["suggested"] is True
    assert evidence["score"] == suggested.score
    assert (evidence["method"], evidence["method_version"]) == (METHOD, METHOD_VERSION)


async def test_a_duplicate_rejection_carries_the_suggestion_score(harness, make):
    product = _product()
    first = await harness.start(product=product, description=STEAM)
    second = await harness.start(product=product, description=STEAM)
    await harness.decide(
        second,
        Decision.REJECT,
        make.reject(reason=RejectReason.DUPLICATE, duplicate_of=first.id),
    )
    [entry] = [e for e in harness.entries(second.id) if e.entry_type == "complaint.rejected"]
    assert entry.data["similarity"]["suggested"] is True
    assert entry.data["similarity"]["method_version"] == METHOD_VERSION


async def test_linking_a_complaint_to_itself_or_twice_is_refused(harness):
    product = _product()
    first = await harness.start(product=product, description=STEAM)
    second = await harness.start(product=product, description=CARD)
    itself = LinkRelatedInput(actor=HANDLER, related_to=second.id, explanation="x")
    reason = await harness.refused(second, Decision.LINK_RELATED, itself)
    assert "cannot be related to itself" in reason
    link = LinkRelatedInput(actor=HANDLER, related_to=first.id, explanation="Same order")
    await harness.decide(second, Decision.LINK_RELATED, link)
    reason = await harness.refused(second, Decision.LINK_RELATED, link)
    assert f"{first.id} is already linked as related" in reason
