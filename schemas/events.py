"""Python models that mirror the JSON Schemas in this folder.

The JSON Schema is the contract shipped to upstream teams; these models are how our own
code holds the same data. `tests/schemas` proves the two agree on every example.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

ComplaintId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


class Channel(StrEnum):
    WEB = "web"
    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    SOCIAL = "social"
    STORE = "store"
    MAIL = "mail"
    REFERRAL = "referral"
    FAX = "fax"
    OTHER = "other"


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Customer(_Contract):
    id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    email: (
        Annotated[str, StringConstraints(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")] | None
    ) = None


class Product(_Contract):
    sku: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    lot: Annotated[str, StringConstraints(max_length=128)] | None = None


class ComplaintReceived(_Contract):
    """`complaints.received.v1`: a complaint as an upstream system received it."""

    event_id: UUID
    event_type: Literal["complaint.received"] = "complaint.received"
    occurred_at: AwareDatetime
    source: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    complaint_id: ComplaintId
    customer: Customer
    product: Product
    channel: Channel
    summary: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    description: Annotated[str, StringConstraints(max_length=20000)] = Field(default="")
