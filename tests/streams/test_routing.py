"""Every follow-up event type maps to an Update or Signal that ComplaintWorkflow really has,
with an input its model accepts; the event id travels with it."""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest
from temporalio.workflow import _Definition

from schemas import topics
from schemas.contract import examples_dir
from schemas.decoding import decode_update
from schemas.events import UPDATE_EVENT_TYPES
from streams.routing import ROUTES, Via, build_input
from workflows.complaint import ComplaintWorkflow

DEFINITION = _Definition.must_from_class(ComplaintWorkflow)
EXAMPLES = sorted(examples_dir(topics.COMPLAINTS_UPDATES).glob("*.json"))


def test_every_event_type_has_a_route() -> None:
    assert set(ROUTES) == set(UPDATE_EVENT_TYPES)


@pytest.mark.parametrize("event_type", sorted(ROUTES))
def test_the_route_exists_on_the_workflow_with_the_input_we_build(event_type: str) -> None:
    route = ROUTES[event_type]
    handler: Any
    if route.via is Via.UPDATE:
        handler = DEFINITION.updates[route.name]
    else:
        handler = DEFINITION.signals[route.name]
    assert handler.fn is not None
    hints = typing.get_type_hints(handler.fn)
    [expected] = [t for name, t in hints.items() if name != "return"]
    example = next(p for p in EXAMPLES if json.loads(p.read_text())["event_type"] == event_type)
    _, payload = build_input(decode_update(example.read_bytes()))
    assert type(payload) is expected


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_becomes_a_valid_workflow_input(path) -> None:
    event = decode_update(path.read_bytes())
    route, payload = build_input(event)
    data = payload.model_dump()
    assert data["event_id"] == str(event.event_id)
    assert data["actor"]["id"] == (event.actor.id if event.actor else event.source)
    if route.via is Via.UPDATE:
        assert data["occurred_at"] == event.occurred_at


@pytest.mark.parametrize(
    ("name", "delivered"), [("message-delivered", True), ("message-failed", False)]
)
def test_a_delivery_report_reaches_the_workflow_with_its_message_and_outcome(name, delivered):
    event = decode_update((examples_dir(topics.COMPLAINTS_UPDATES) / f"{name}.json").read_bytes())
    route, payload = build_input(event)
    assert route.via is Via.SIGNAL and route.name == "record_message_delivery"
    data = payload.model_dump()
    assert data["message_id"] == "C-2026-000123:acknowledgment:1"
    assert data["delivered"] is delivered
    if not delivered:
        assert data["reason"].startswith("550") and data["permanent"] is True
