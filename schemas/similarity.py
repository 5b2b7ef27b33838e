"""Similar complaints: what the lookup at intake is asked, and what it suggests.

A suggestion is never a merge: it is shown (`complaint show`, the Temporal UI details, the
status events) until an operator confirms it with `reject --duplicate-of` or
`link-related`. Each carries the score, the method and its version, so the audit entry of
that decision says what the operator was shown.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class FindSimilar(BaseModel):
    """Activity input: the complaint just received. `customer_key` is a hash of the
    customer id (the index and the logs never hold the id itself)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    complaint_id: str
    received_at: datetime
    customer_key: str
    product_sku: str
    product_lot: str | None = None
    summary: str
    description: str = ""


class SimilarComplaint(BaseModel):
    """One suggestion: an earlier complaint that looks like this one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    complaint_id: str
    score: float = Field(ge=0, le=1, description="text and case facts combined, 0 to 1")
    text_score: float = Field(ge=0, le=1, description="cosine of the texts' TF-IDF vectors")
    same_customer_product_lot: bool = Field(
        description="same customer, product and lot within 30 days"
    )
    received_at: datetime


class SimilarityResult(BaseModel):
    """What the lookup found, and how: the method and its version travel with the scores."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str
    method_version: str
    threshold: float
    suggestions: list[SimilarComplaint] = Field(default_factory=list)


def customer_key(customer_id: str) -> str:
    """The customer as the similarity index knows them: a SHA-256, never the id itself."""
    return hashlib.sha256(f"closeloop-customer:{customer_id}".encode()).hexdigest()
