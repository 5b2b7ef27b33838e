"""The contract and the models agree: every example is accepted by both the JSON Schema and
the Python model, every invalid fixture is rejected by both, for every schema in `schemas/`
(whoever wrote it), and the decoder names the field each fixture says is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from schemas import topics
from schemas.contract import (
    CONTRACT,
    examples_dir,
    invalid_dir,
    load_schema,
    model_adapter,
    topics_with_schemas,
    validator_for,
)
from schemas.decoding import InvalidEvent, check_schema

TOPICS = topics_with_schemas()


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


EXAMPLES = [
    pytest.param(topic, path, id=f"{topic}/{path.stem}")
    for topic in TOPICS
    for path in _files(examples_dir(topic))
]
INVALID = [
    pytest.param(topic, path, id=f"{topic}/{path.stem}")
    for topic in TOPICS
    for path in _files(invalid_dir(topic))
]


def test_every_topic_has_a_schema() -> None:
    missing = [spec.name for spec in topics.ALL_TOPICS if spec.name not in TOPICS]
    assert not missing, f"topics without a schema in schemas/: {missing}"


@pytest.mark.parametrize("topic", TOPICS)
def test_schema_is_draft_2020_12_with_examples_and_a_model(topic: str) -> None:
    schema = load_schema(topic)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{topic}.schema.json")
    assert _files(examples_dir(topic)), f"no examples in {examples_dir(topic)}"
    model_adapter(topic)  # LookupError names the missing model


@pytest.mark.parametrize(("topic", "path"), EXAMPLES)
def test_example_is_accepted_by_schema_and_model(topic: str, path: Path) -> None:
    raw = path.read_bytes()
    errors = [error.message for error in validator_for(topic).iter_errors(json.loads(raw))]
    assert errors == []
    model_adapter(topic).validate_json(raw, context=CONTRACT)


@pytest.mark.parametrize(("topic", "path"), INVALID)
def test_invalid_fixture_is_rejected_by_schema_and_model(topic: str, path: Path) -> None:
    fixture = json.loads(path.read_text(encoding="utf-8"))
    assert set(fixture) >= {"why", "field", "document"}, "a fixture is {why, field, document}"
    document = fixture["document"]
    assert not validator_for(topic).is_valid(document), "the schema accepts it"
    with pytest.raises(ValidationError):
        model_adapter(topic).validate_json(json.dumps(document), context=CONTRACT)
    if isinstance(document, dict):
        with pytest.raises(InvalidEvent) as rejected:
            check_schema(topic, document)
        assert rejected.value.field == fixture["field"], rejected.value.reason
        assert rejected.value.reason


@pytest.mark.parametrize("topic", [topics.COMPLAINTS_RECEIVED, topics.COMPLAINTS_UPDATES])
def test_input_topics_have_invalid_fixtures(topic: str) -> None:
    assert len(_files(invalid_dir(topic))) >= 10


def test_every_update_event_type_has_an_example() -> None:
    from schemas.events import UPDATE_EVENT_TYPES

    types = {
        json.loads(path.read_text())["event_type"]
        for path in _files(examples_dir(topics.COMPLAINTS_UPDATES))
    }
    assert types == set(UPDATE_EVENT_TYPES)
    schema_types = load_schema(topics.COMPLAINTS_UPDATES)["properties"]["event_type"]["enum"]
    assert set(schema_types) == set(UPDATE_EVENT_TYPES)
