"""The CLI's words for an improvement's field and decision names.

A refusal's template marks them (`{field:override_wait_reason}`, `{decision:go_round_again}`);
a quality manager typed `--override-wait` and will type `closeloop improvement close --again`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from closeloop.cli.complaint.vocabulary import ACTION_PARTS
from schemas.improvement import ImprovementDecision, ImprovementRefusal
from schemas.outcomes import render

Dn = ImprovementDecision

COMMAND_NAMES: dict[ImprovementDecision, str] = {
    Dn.PLAN: "plan",
    Dn.COMPLETE_ACTION: "complete-action",
    Dn.CHECK: "check",
    Dn.STANDARDISE: "close --standardise",
    Dn.GO_ROUND_AGAIN: "close --again",
}

# Field -> the option that fills it (the same word in every command that has it).
OPTIONS = {
    "plan": "--change",
    "actions": "--action",
    "action_id": "--action",
    "evidence": "--evidence",
    "summary": "--summary",
    "override_wait_reason": "--override-wait",
    "standard": "--standardise",
    "reason": "--again",
    "expected_state_hash": "--expect-hash",
    "update_id": "--update-id",
    "comment": "--comment",
    "authenticated": "--actor (development mode)",
    "improvement_id": "--id",
    "owner": "--owner",
    "problem": "--problem",
    "signal_id": "--signal",
    "complaint_ids": "--complaint",
    "figure": "--figure",
    "filters": "--for",
    "better": "--better",
    "periods": "--periods",
    "period": "--period",
}


def command_phrase(decision: ImprovementDecision | str) -> str:
    return f"`closeloop improvement {COMMAND_NAMES[Dn(decision)]}`"


def option_for(field: str) -> str:
    name, _, part = field.partition(".")
    if name == "actions" and part:  # one word of `plan --action ID KIND OWNER DUE TEXT`
        return f"--action {ACTION_PARTS.get(part.split('.')[-1], 'ID')}"
    if name == "measure" and part:
        return OPTIONS.get(part, part.replace("_", " "))
    return OPTIONS.get(name, name.replace("_", " "))


def render_refusal(refusal: ImprovementRefusal) -> str:
    return render(refusal.template, field=option_for, decision=command_phrase)


def explain_invalid(invalid: ValidationError) -> str:
    """Every validation error, each naming the option to fix."""
    return "; ".join(_explain(error) for error in invalid.errors(include_url=False))


def _explain(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    message = render(message, field=option_for, decision=command_phrase)
    loc = [str(part) for part in error["loc"] if not isinstance(part, int)]
    return f"{option_for('.'.join(loc))}: {message}" if loc else message
