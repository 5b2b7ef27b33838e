"""The CLI speaks in its own words: options for fields, `closeloop complaint` commands for
decisions, never the workflow's internal names."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from closeloop.cli.complaint import vocabulary
from schemas import decisions as d
from schemas.markers import decision_ref, field_ref
from schemas.outcomes import Refusal, RefusalCode
from workflows.decision_spec import SPECS

# Each decision's input, from the one spec per decision the workflow is built from.
INPUTS: dict[d.Decision, type[BaseModel]] = {spec.decision: spec.input_type for spec in SPECS}
# Set by the systems that relay events, never by a person at the CLI.
RELAY_ONLY = {"event_id", "occurred_at"}

INTERNAL = {decision.value for decision in d.Decision if "_" in decision.value} | {
    name for model in INPUTS.values() for name in model.model_fields if "_" in name
}


def internal_names_in(text: str) -> set[str]:
    words = set(re.findall(r"[a-z][a-z0-9_]*", text))
    return (words & INTERNAL) | ({"{field:", "{decision:"} & set(re.findall(r"\{\w+:", text)))


def test_every_decision_has_a_command():
    assert set(INPUTS) == set(d.Decision)
    assert set(vocabulary.commands()) == set(d.Decision)
    for decision, command in vocabulary.commands().items():
        assert vocabulary.COMMAND_NAMES[decision] == command.name
        assert vocabulary.COMMAND_MODULES[str(command.name)] == command.callback.__module__
    assert vocabulary.command_name(d.Decision.RECORD_SURVEY) == "survey"
    assert vocabulary.command_name(d.Decision.DECLINE_INVESTIGATION) == "investigate --decline"
    assert vocabulary.command_phrase("record_regulatory_report") == "`closeloop complaint report`"


@pytest.mark.parametrize("decision", list(INPUTS), ids=[x.value for x in INPUTS])
def test_every_field_a_person_sets_has_an_option(decision):
    for field in set(INPUTS[decision].model_fields) - RELAY_ONLY:
        word = vocabulary.option_for(field, decision)
        assert word is not None, f"{decision.value}.{field} has no CLI word"
        assert "--" in word, word
        assert not internal_names_in(word)


def workflow_markers() -> set[tuple[str, str]]:
    """Every `{field:X}` / `{decision:X}` marker the complaint's workflow code can emit
    (an improvement's have their own words: tests/closeloop/cli/improvement)."""
    found = set()
    for path in Path("workflows").rglob("*.py"):
        if path.stem.startswith("improvement"):
            continue
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"\{(field|decision):([A-Za-z0-9_.]+)\}", text))
        for kind, call in (("field", r"(?:field_ref|F)"), ("decision", r"(?:decision_ref|D)")):
            pattern = call + r"\(\s*[\"']([A-Za-z0-9_.]+)[\"']\s*\)"
            found |= {(kind, name) for name in re.findall(pattern, text)}
    return found


def test_every_marker_the_workflow_emits_has_a_cli_word():
    for kind, name in workflow_markers():
        if kind == "decision":
            assert d.Decision(name) in vocabulary.COMMANDS, name
        else:
            word = vocabulary.option_for(name) or next(
                (w for x in d.Decision if (w := vocabulary.option_for(name, x))), None
            )
            assert word is not None, f"field {name} has no CLI word"
            assert "--" in word and not internal_names_in(word), word


def test_the_marker_scan_finds_the_workflows_markers():
    names = {name for _, name in workflow_markers()}
    assert {"override_wait_reason", "record_regulatory_report", "actions.due_at"} <= names


def test_a_refusal_reads_in_the_clis_words():
    refusal = Refusal(
        code=RefusalCode.NOT_READY,
        complaint_id="C-1",
        status="verifying",
        decision=d.Decision.VERIFY,
        template=(
            "complaint C-1 is verifying; verification is due after 2027-01-01: give "
            f"{field_ref('override_wait_reason')} to verify earlier, or "
            f"{decision_ref('record_regulatory_report')} first"
        ),
    )
    text = vocabulary.render_refusal(refusal)
    assert "give --override-wait to verify earlier" in text
    assert "`closeloop complaint report` first" in text
    assert internal_names_in(text) == set()


def test_a_validation_error_names_the_options():
    with pytest.raises(ValidationError) as caught:
        d.ExtendInput(
            actor=d.Actor(id="a"),
            new_due_at=datetime(2027, 1, 1, tzinfo=UTC),
            reason="late parts",
        )
    text = vocabulary.explain_invalid(caught.value, d.Decision.EXTEND)
    assert text == "give exactly one of --action or --stage"
    with pytest.raises(ValidationError) as caught:
        d.TriageInput(
            actor=d.Actor(id="a"),
            severity=d.Severity.HIGH,
            category="x" * 200,
            risk_rationale="r",
            assignee="b",
            reportable=False,
            reportable_justification="  ",
        )
    text = vocabulary.explain_invalid(caught.value, d.Decision.TRIAGE)
    assert "--category: String should have at most 128 characters" in text
    assert "--justification: String should have at least 1 character" in text
    assert internal_names_in(text) == set()
