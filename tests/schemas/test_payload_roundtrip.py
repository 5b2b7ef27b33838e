"""Every event model survives Temporal's data converter unchanged.

The stream hands a `ComplaintReceived` to `start_workflow`; the worker decodes it again as
the workflow's input. A model that cannot read back what it wrote would fail every
workflow at its first task (seen once: optional fields serialized as null, then refused).
"""

from __future__ import annotations

import json

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from schemas import topics
from schemas.contract import examples_dir
from schemas.decoding import decode_complaint_received
from schemas.events import ComplaintReceived

EXAMPLES = sorted(examples_dir(topics.COMPLAINTS_RECEIVED).glob("*.json"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
async def test_complaint_received_round_trips_through_the_temporal_converter(example):
    event = decode_complaint_received(example.read_bytes())
    payloads = await pydantic_data_converter.encode([event])
    [decoded] = await pydantic_data_converter.decode(payloads, [ComplaintReceived])
    assert decoded == event


async def test_optional_fields_left_out_upstream_stay_valid_after_the_round_trip():
    document = json.loads((examples_dir(topics.COMPLAINTS_RECEIVED) / "web-shop.json").read_text())
    del document["product"]["name"], document["customer"]["email"]
    event = decode_complaint_received(json.dumps(document).encode())
    payloads = await pydantic_data_converter.encode([event])
    [decoded] = await pydantic_data_converter.decode(payloads, [ComplaintReceived])
    assert decoded == event and decoded.product.name is None
