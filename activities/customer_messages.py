"""The side effects of messages to the complainant: policy, rendering, survey codes, Kafka.

Workflows decide which message is due and when; these activities render it from its
template (`activities/templates.py`), draw an unguessable survey code, and publish the
message on `complaints.customer-messages.v1` for the CRM, the mail system or
`closeloop mailer` to deliver. Logs name the message id, purpose and template, never the
recipient: the address travels on the topic only.
"""

from __future__ import annotations

import secrets

import structlog
from temporalio import activity

from activities.status import StatusPublisher
from activities.templates import render
from schemas.customer_message import CustomerMessage, MessagePolicy, RenderedMessage, RenderRequest
from schemas.topics import CUSTOMER_MESSAGES

log = structlog.get_logger(__name__)

SURVEY_TOKEN_BYTES = 16  # 128 bits: 22 URL-safe characters


class MessageActivities(StatusPublisher):
    """Bound to the worker's message policy; one Kafka producer per worker process."""

    def __init__(self, policy: MessagePolicy, bootstrap: str, *, timeout: float = 10.0) -> None:
        super().__init__(bootstrap, topic=CUSTOMER_MESSAGES, timeout=timeout)
        self._policy = policy

    @activity.defn(name="load_message_policy")
    def load_message_policy(self) -> MessagePolicy:
        return self._policy

    @activity.defn(name="render_customer_message")
    def render_customer_message(self, request: RenderRequest) -> RenderedMessage:
        rendered = render(request)
        log.info(
            "customer message rendered",
            complaint_id=request.complaint_id,
            purpose=request.purpose.value,
            template_id=rendered.template_id,
            content_hash=rendered.content_hash,
        )
        return rendered

    @activity.defn(name="new_survey_code")
    def new_survey_code(self, complaint_id: str) -> str:
        """`{complaint_id}~{token}`: the survey tool reads the complaint back from the code
        (`schemas.customer_message.complaint_of_survey_code`); the token makes it unguessable."""
        return f"{complaint_id}~{secrets.token_urlsafe(SURVEY_TOKEN_BYTES)}"

    @activity.defn(name="publish_customer_message")
    def publish_customer_message(self, message: CustomerMessage) -> None:
        try:
            future = self._get_producer().send(
                CUSTOMER_MESSAGES,
                key=message.complaint_id.encode("utf-8"),
                value=message.model_dump_json(exclude_none=True).encode("utf-8"),
            )
            metadata = future.get(timeout=self._timeout)
        except Exception as exc:
            log.warning(
                "customer message not published, will retry",
                message_id=message.message_id,
                error=type(exc).__name__,
                attempt=activity.info().attempt,
            )
            self.close()
            raise
        log.info(
            "customer message published",
            complaint_id=message.complaint_id,
            message_id=message.message_id,
            template_id=message.template_id,
            partition=metadata.partition,
            offset=metadata.offset,
        )
