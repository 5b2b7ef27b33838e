"""`complaints.customer-messages.v1`: what the complainant is told, for a deliverer to deliver.

Mirrors `complaints.customer-messages.v1.schema.json`. The complaint's workflow produces one
message per purpose and occasion (ISO 10002 7.3 acknowledgment, 7.4 a request for
information, 7.7 the decision and response, 7.8 the decision to reject, 8.3 the
satisfaction survey); the deliverer reports back on `complaints.updates.v1` with
`message.delivered` or `message.failed`.

The message carries the recipient's address, because the deliverer needs it; that is the
only place it travels. The audit log holds the message's `content_hash` and `template_id`,
never the address. `message_id` is `{complaint_id}:{purpose}:{sequence}`: a retry produces
the same id, so a deliverer that remembers ids never delivers twice.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

from schemas.events import ComplaintId, Pattern, RfcDateTime, SchemaInt, is_contract_input

MESSAGE_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}:[a-z_]{1,32}:[1-9][0-9]{0,5}$"
MessageId = Annotated[str, Pattern(MESSAGE_ID_PATTERN)]
Language = Annotated[str, Pattern(r"^[a-z]{2}$")]
# The survey code: the complaint id, "~", then 22 characters of a 128-bit random token.
SURVEY_CODE_PATTERN = r"^[A-Za-z0-9._-]{1,64}~[A-Za-z0-9_-]{22}$"
SurveyCode = Annotated[str, Pattern(SURVEY_CODE_PATTERN)]


class MessagePurpose(StrEnum):
    """Why the complainant hears from us; also the template's name."""

    ACKNOWLEDGMENT = "acknowledgment"
    INFORMATION_REQUEST = "information_request"
    RESPONSE = "response"
    # A purpose of its own, not a `response`: a CRM counts rejected and resolved complaints
    # apart, and knows that no survey invitation follows it.
    REJECTION = "rejection"
    SURVEY_INVITATION = "survey_invitation"


def message_id(complaint_id: str, purpose: MessagePurpose, sequence: int) -> str:
    return f"{complaint_id}:{purpose.value}:{sequence}"


def content_hash(subject: str, body: str) -> str:
    """SHA-256 of what the complainant reads: subject, a NUL, body (UTF-8)."""
    return hashlib.sha256(f"{subject}\0{body}".encode()).hexdigest()


def complaint_of_survey_code(code: str) -> str:
    """The complaint a survey code belongs to: what the survey tool puts in
    `survey.responded` as `complaint_id` (the code itself goes in `survey_id`)."""
    complaint_id, sep, token = code.rpartition("~")
    if not sep or not complaint_id or len(token) != 22:
        raise ValueError("not a Closeloop survey code")
    return complaint_id


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls_in_contract(cls, data: Any, info: ValidationInfo) -> Any:
        # As on the inbound topics: an absent field is left out, never null.
        if is_contract_input(info) and isinstance(data, dict):
            for name, value in data.items():
                if value is None:
                    raise ValueError(f"{name} must not be null; leave it out instead")
        return data


class Recipient(_Contract):
    """Who receives the message. Personal data: on this topic only, never logged or audited."""

    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    email: (
        Annotated[str, StringConstraints(max_length=320), Pattern(r"^[^@\s]+@[^@\s]+$")] | None
    ) = None


class CustomerMessage(_Contract):
    """One message to the complainant, rendered and ready to deliver."""

    message_id: MessageId
    event_type: Literal["customer_message.requested"] = "customer_message.requested"
    occurred_at: RfcDateTime
    source: Literal["closeloop"] = "closeloop"
    complaint_id: ComplaintId
    purpose: MessagePurpose
    sequence: SchemaInt = Field(ge=1, le=999999)
    language: Language
    template_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    recipient: Recipient
    subject: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=20000)]
    content_hash: Annotated[str, Pattern(r"^[0-9a-f]{64}$")]
    survey_code: SurveyCode | None = None

    @model_validator(mode="before")
    @classmethod
    def _constants_on_the_wire(cls, data: Any, info: ValidationInfo) -> Any:
        """The schema requires `event_type` and `source`; our own code may use defaults."""
        if is_contract_input(info) and isinstance(data, dict):
            for name in ("event_type", "source"):
                if name not in data:
                    raise ValueError(f"{name} is required")
        return data


class MessagePolicy(BaseModel):
    """`CLOSELOOP_MESSAGES`: JSON overriding any field, durations in ISO 8601, e.g.

        CLOSELOOP_MESSAGES='{"language": "de", "confirm_acknowledgment_within": "PT12H"}'

    A complaint's workflow reads it once, when it starts, like the deadline policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        default=True, description="produce messages to the complainant; False: record only"
    )
    language: Language = Field(
        default="en",
        description="the language of the messages: complaints.received.v1 carries none; a "
        "language without templates falls back to English",
    )
    confirm_acknowledgment_within: timedelta | None = Field(
        default=timedelta(days=2),
        description="an acknowledgment not confirmed delivered within this time escalates "
        "like a missed deadline; null: never",
    )
    survey_url: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        default=None,
        description="the survey link, with {code} where the survey code goes; unset: the "
        "invitation carries the code alone",
    )


class RenderRequest(BaseModel):
    """Activity input: everything a template may show, chosen by the workflow."""

    complaint_id: str
    purpose: MessagePurpose
    sequence: int
    language: str
    customer_name: str | None = None
    summary: str = ""
    text: str = Field(
        default="", description="the response, the question asked, or the rejection's response"
    )
    duplicate_of: str | None = Field(
        default=None, description="a rejection: the earlier complaint this one duplicates"
    )
    survey_code: str | None = None
    survey_url: str | None = None


class RenderedMessage(BaseModel):
    """Activity result: the text and which template made it."""

    template_id: str
    language: str
    subject: str
    body: str
    content_hash: str


class MessageRecord(BaseModel):
    """A message as the complaint's state remembers it: what the audit log holds, no address."""

    message_id: str
    purpose: MessagePurpose
    sequence: int
    template_id: str
    language: str
    content_hash: str
    produced_at: datetime
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    failure: str = ""
