"""Stand-ins for the unit tests of the handlers: a message, a dead-letter sink that records,
and targets that answer as told. The end-to-end tests use the real broker and Temporal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from base.complaints import StartOutcome
from schemas.dead_letter import DeadLetter, DeadLetterKind
from schemas.decoding import InvalidEvent
from schemas.events import ComplaintReceived, UpdateEvent
from streams.dead_letters import build_letter
from streams.messages import SourceMessage
from streams.routing import Delivered, Delivery


@dataclass
class Message:
    topic: str
    value: bytes | None
    key: bytes | None = None
    partition: int = 0
    offset: int = 0
    headers: Any = None


@dataclass
class Event:
    message: Message
    acked: list[tuple[int, int]]

    def ack(self) -> bool:
        self.acked.append((self.message.partition, self.message.offset))
        return True


@dataclass
class RecordingDeadLetters:
    letters: list[DeadLetter] = field(default_factory=list)

    async def write(
        self, message: SourceMessage, error: InvalidEvent, kind: DeadLetterKind
    ) -> DeadLetter:
        letter = build_letter(message, error, kind)
        letter.model_dump_json()  # must always serialize
        self.letters.append(letter)
        return letter


@dataclass
class FakeIntake:
    started: dict[str, ComplaintReceived] = field(default_factory=dict)
    fail_with: BaseException | None = None

    async def start(self, complaint: ComplaintReceived) -> StartOutcome:
        if self.fail_with is not None:
            raise self.fail_with
        if complaint.complaint_id in self.started:
            return StartOutcome.DUPLICATE
        self.started[complaint.complaint_id] = complaint
        return StartOutcome.STARTED


@dataclass
class FakeRouter:
    """Answers from `answers` in turn (the last one repeats); records what it delivered."""

    answers: list[Delivery] = field(default_factory=lambda: [Delivery(Delivered.APPLIED)])
    delivered: list[UpdateEvent] = field(default_factory=list)
    calls: int = 0
    on_call: Callable[[UpdateEvent], None] | None = None

    async def deliver(self, event: UpdateEvent) -> Delivery:
        if self.on_call is not None:
            self.on_call(event)
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if answer.status is Delivered.APPLIED:
            self.delivered.append(event)
        return answer
