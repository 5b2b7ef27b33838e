"""The sender's loop: read a message, send it once, record it, report it, then commit.

Per message, in this order: look the id up in the ledger (already done: skip the sending);
send, retrying temporary SMTP trouble for `CLOSELOOP_SMTP_RETRY_BUDGET_S`; record the
outcome durably; publish `message.delivered` or `message.failed`; mark it reported; commit
the offset. A crash anywhere before the commit reads the message again, and the ledger
makes that harmless. The one window left is between the server's acceptance and the
ledger's write (milliseconds): a crash exactly there sends a second copy with the same
Message-ID, which mail clients show once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import structlog
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from pydantic import ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    stop_when_event_set,
    wait_exponential,
)
from tenacity.stop import stop_base

from closeloop.mailer import smtp
from closeloop.mailer.ledger import Delivery, Ledger, Outcome
from closeloop.mailer.reports import Reporter
from closeloop.mailer.settings import MailerSettings
from schemas.contract import CONTRACT
from schemas.customer_message import CustomerMessage
from schemas.topics import CUSTOMER_MESSAGES

log = structlog.get_logger(__name__)

Send = Callable[[MailerSettings, CustomerMessage], str]
T = TypeVar("T")


class Stopped(BaseException):
    """The mailer was asked to stop mid-message: nothing is recorded or committed, so the
    message is read again after the restart. A BaseException, so no retry catches it."""


class Mailer:
    def __init__(
        self,
        settings: MailerSettings,
        ledger: Ledger,
        reporter: Reporter,
        stop: threading.Event,
        send: Send = smtp.send,
    ) -> None:
        self._settings = settings
        self._ledger = ledger
        self._reporter = reporter
        self._stop = stop
        self._send = send

    def handle(self, raw: bytes) -> None:
        """Everything for one message; returns when its offset may be committed."""
        try:
            message = CustomerMessage.model_validate_json(raw, context=CONTRACT)
        except ValidationError as error:
            where = ".".join(str(p) for p in error.errors()[0]["loc"]) or "message"
            log.error("not a customer message, skipped", field=where, size=len(raw))
            return
        context = {"message_id": message.message_id, "purpose": message.purpose.value}
        delivery = self._ledger.find(message.message_id)
        if delivery is None:
            delivery = self._deliver(message)
            self._ledger.record(delivery)
            log.info("message handled", outcome=delivery.outcome.value, **context)
        elif delivery.reported:
            log.info("message already sent, not sent again", **context)
            return
        self._retry(lambda: self._reporter.publish(message, delivery), what="report")
        self._ledger.mark_reported(message.message_id)

    def _deliver(self, message: CustomerMessage) -> Delivery:
        if message.recipient.email is None:
            return Delivery(
                message.message_id, Outcome.FAILED, "no email address for the customer", True
            )
        try:
            reply = self._retry(
                lambda: self._send(self._settings, message),
                what="send",
                transient=smtp.TemporaryFailure,
                budget=self._settings.retry_budget_s,
                message_id=message.message_id,
            )
        except smtp.PermanentFailure as refused:
            return Delivery(message.message_id, Outcome.FAILED, str(refused), True)
        except smtp.TemporaryFailure as trouble:
            if self._stop.is_set():
                raise Stopped() from None
            detail = f"gave up after {self._settings.retry_budget_s:g} s: {trouble}"
            return Delivery(message.message_id, Outcome.FAILED, detail, False)
        return Delivery(message.message_id, Outcome.SENT, reply, False)

    def _retry(
        self,
        call: Callable[[], T],
        *,
        what: str,
        transient: type[Exception] = Exception,
        budget: float | None = None,
        message_id: str = "",
    ) -> T:
        """Call until it returns; retry `transient` errors (for `budget` seconds if given).
        Raises `Stopped` as soon as the mailer is asked to stop."""
        stop: stop_base = stop_when_event_set(self._stop)
        if budget is not None:
            stop = stop | stop_after_delay(budget)

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            shown = str(error) if isinstance(error, smtp.TemporaryFailure) else type(error).__name__
            log.warning(
                f"{what} failed, will retry",
                message_id=message_id,
                attempt=state.attempt_number,
                error=shown,
            )

        for attempt in Retrying(
            retry=retry_if_exception_type(transient),
            wait=wait_exponential(multiplier=0.5, min=0.5, max=60),
            stop=stop,
            before_sleep=before_sleep,
            reraise=True,
        ):
            with attempt:
                if self._stop.is_set():
                    raise Stopped()
                return call()
        raise Stopped()  # tenacity returns or raises above

    def run(self, bootstrap: str) -> None:
        """Consume until `stop` is set; commit each message's offset once it is handled."""
        consumer = KafkaConsumer(
            CUSTOMER_MESSAGES,
            bootstrap_servers=bootstrap,
            group_id=self._settings.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=20,
            session_timeout_ms=30000,
            heartbeat_interval_ms=3000,
        )
        log.info("mailer started", smtp=f"{self._settings.host}:{self._settings.port}")
        try:
            while not self._stop.is_set():
                for partition, records in consumer.poll(timeout_ms=500).items():
                    for record in records:
                        try:
                            self.handle(record.value or b"")
                        except Stopped:
                            return  # not committed: read again after the restart
                        consumer.commit(
                            {
                                TopicPartition(partition.topic, partition.partition): (
                                    OffsetAndMetadata(record.offset + 1, "", -1)
                                )
                            }
                        )
        finally:
            consumer.close()
            log.info("mailer stopped")
