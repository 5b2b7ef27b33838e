"""Similar complaints at intake: ask the lookup activity, never decide anything with it.

The comparison (text, and the same customer, product and lot within 30 days) runs in an
activity; the workflow only keeps what it suggested, so it stays deterministic. A lookup
that fails is not a reason to hold up a complaint: it is received without suggestions.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.similarity import SimilarityActivities
    from schemas.similarity import FindSimilar, SimilarityResult, customer_key

from workflows.case_file import CaseFile

# Runs started before the lookup existed replay without it.
SIMILAR_COMPLAINTS = "similar-complaints"
# A local activity (one marker event, no extra workflow task or server round trip): the
# lookup holds the worker's index lock only to catch up and search, never while writing.
# The first lookup of a worker loads its index from the table: allow for that.
LOOKUP_TIMEOUT = timedelta(seconds=60)
LOOKUP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=5), maximum_attempts=3
)


async def look_up(case: CaseFile) -> SimilarityResult | None:
    """Earlier complaints that look like this one, with their scores (None: lookup failed)."""
    complaint = case.state.complaint
    request = FindSimilar(
        complaint_id=complaint.complaint_id,
        received_at=case.state.received_at,
        customer_key=customer_key(complaint.customer.id),
        product_sku=complaint.product.sku,
        product_lot=complaint.product.lot,
        summary=complaint.summary,
        description=complaint.description,
    )
    try:
        return await workflow.execute_local_activity_method(
            SimilarityActivities.find_similar_complaints,
            request,
            start_to_close_timeout=LOOKUP_TIMEOUT,
            retry_policy=LOOKUP_RETRY,
            summary="similar complaints",
        )
    except ActivityError:
        workflow.logger.warning(
            "similar complaints not looked up", extra={"complaint_id": complaint.complaint_id}
        )
        return None
