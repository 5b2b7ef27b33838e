"""Every field and decision an improvement's workflow names in a refusal has a CLI word: the
option a quality manager types, or the `closeloop improvement` command they run."""

from __future__ import annotations

import re
from pathlib import Path

from closeloop.cli.improvement import words
from schemas.improvement import ImprovementDecision, ImprovementRefusal, ImprovementStatus
from schemas.outcomes import RefusalCode


def improvement_markers() -> set[tuple[str, str]]:
    found = set()
    for path in Path("workflows").rglob("improvement*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"\{(field|decision):([A-Za-z0-9_.]+)\}", text))
        for kind, call in (("field", r"(?:field_ref|F)"), ("decision", r"(?:decision_ref|D)")):
            pattern = call + r"\(\s*[\"']([A-Za-z0-9_.]+)[\"']\s*\)"
            found |= {(kind, name) for name in re.findall(pattern, text)}
    return found


def test_the_scan_finds_the_improvements_markers():
    names = {name for _, name in improvement_markers()}
    assert {"override_wait_reason", "go_round_again", "actions.due_at", "action_id"} <= names


def test_every_marker_has_a_cli_word():
    for kind, name in improvement_markers():
        if kind == "decision":
            assert ImprovementDecision(name) in words.COMMAND_NAMES, name
        else:
            word = words.option_for(name)
            assert word.startswith("--"), f"field {name} has no option: {word}"


def test_a_refusal_reads_in_the_clis_words():
    refusal = ImprovementRefusal(
        code=RefusalCode.NOT_READY,
        improvement_id="IMP-1",
        status=ImprovementStatus.ACTING,
        decision=ImprovementDecision.STANDARDISE,
        template=(
            "improvement IMP-1 is acting: {decision:standardise} needs a check that shows the "
            "figure improved; otherwise {decision:go_round_again}; due dates "
            "({field:actions.due_at}), {field:override_wait_reason}"
        ),
    )
    assert words.render_refusal(refusal) == (
        "improvement IMP-1 is acting: `closeloop improvement close --standardise` needs a check "
        "that shows the figure improved; otherwise `closeloop improvement close --again`; due "
        "dates (--action DUE), --override-wait"
    )
