"""The model mirrors the schema beyond the fixtures: on thousands of near-valid documents
(mutated examples) the JSON Schema and the Python model give the same verdict."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.contract import CONTRACT, model_adapter, topics_with_schemas, validator_for
from tests.schemas.mutations import near_valid


@pytest.mark.parametrize("topic", topics_with_schemas())
@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_schema_and_model_agree_on_near_valid_documents(topic: str, data: st.DataObject) -> None:
    from tests.schemas.mutations import examples

    if not examples(topic):
        pytest.fail(f"{topic} has no examples: every contract ships examples")
    document = data.draw(near_valid(topic))
    schema_accepts = validator_for(topic).is_valid(document)
    why: Any = None
    try:
        model_adapter(topic).validate_json(json.dumps(document), context=CONTRACT)
        model_accepts = True
    except ValidationError as rejected:
        model_accepts = False
        why = rejected.errors(include_url=False)[0]
    if schema_accepts != model_accepts:
        schema_says = [e.message[:200] for e in validator_for(topic).iter_errors(document)][:3]
        pytest.fail(
            f"schema {'accepts' if schema_accepts else 'rejects'} but model "
            f"{'accepts' if model_accepts else 'rejects'}: schema {schema_says}, model {why}"
        )
