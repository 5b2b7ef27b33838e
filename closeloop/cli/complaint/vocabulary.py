"""The CLI's words for the workflow's names: options for fields, commands for decisions.

A refusal comes from the workflow as a `schemas.outcomes.Refusal` whose template marks field
and decision names (`{field:override_wait_reason}`, `{decision:record_regulatory_report}`);
pydantic's validation errors name fields too. An operator typed neither: they typed
`--override-wait` and will type `closeloop complaint report`. The words are read off the
click commands themselves (an option's destination is the field it fills), plus the few
fields that no single option fills (`ALIASES`), so a renamed option cannot leave a stale word.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import click
from pydantic import ValidationError

from schemas.decisions import Decision
from schemas.outcomes import Refusal, render

# Decision -> the click command that sends it (filled by `decisions.decision_command` as the
# command modules load; `commands()` loads them all when every word is needed).
COMMANDS: dict[Decision, click.Command] = {}

# Decision -> its command's name, so that `show` can name the allowed decisions without
# loading every command (a test checks it against the commands themselves).
COMMAND_NAMES: dict[Decision, str] = {
    Decision.ACKNOWLEDGE: "ack",
    Decision.TRIAGE: "triage",
    Decision.INVESTIGATE: "investigate",
    Decision.DECLINE_INVESTIGATION: "investigate",
    Decision.PLAN_CAPA: "plan-capa",
    Decision.RECORD_ACTION_PROGRESS: "progress",
    Decision.COMPLETE_ACTION: "complete-action",
    Decision.EXTEND: "extend",
    Decision.VERIFY: "verify",
    Decision.CLOSE: "close",
    Decision.REJECT: "reject",
    Decision.REOPEN: "reopen",
    Decision.ADD_INFORMATION: "add-info",
    Decision.RECORD_SURVEY: "survey",
    Decision.RECORD_REGULATORY_REPORT: "report",
    Decision.REQUEST_INFORMATION: "ask",
    Decision.LINK_RELATED: "link-related",
}
_CASE = "closeloop.cli.complaint.case_commands"
_CAPA = "closeloop.cli.complaint.capa_commands"
_CAPA_COMMANDS = {"plan-capa", "progress", "complete-action", "extend", "verify"}
# Command name -> the module defining it (its function is the name with `_` for `-`).
COMMAND_MODULES = {
    name: _CAPA if name in _CAPA_COMMANDS else _CASE for name in COMMAND_NAMES.values()
}


def commands() -> dict[Decision, click.Command]:
    """Every decision command, loading the command modules on first use."""
    for module in sorted(set(COMMAND_MODULES.values())):
        importlib.import_module(module)
    return COMMANDS


# Decisions sent by a command together with an option that selects them.
SELECTOR = {Decision.DECLINE_INVESTIGATION: "--decline"}

# Fields that no option fills under their own name, per decision.
ALIASES: dict[Decision, dict[str, str]] = {
    Decision.DECLINE_INVESTIGATION: {"reason": "--decline"},
    Decision.INVESTIGATE: {"final": "no --preliminary", "capa_needed": "no --no-capa-needed"},
    Decision.REJECT: {"reason": "--duplicate-of or --not-a-complaint"},
}

# Fields of every decision that no option fills: set by how the CLI signs (see `signer`).
SIGNER_WORDS = {"authenticated": "--actor (development mode)"}

# The parts of one `plan-capa --action ID KIND OWNER DUE DESCRIPTION`.
ACTION_PARTS = {
    "id": "ID",
    "kind": "KIND",
    "owner": "OWNER",
    "due_at": "DUE",
    "description": "DESCRIPTION",
}


def command_name(decision: Decision | str) -> str:
    """What follows `closeloop complaint` to send `decision`: `report`, `investigate --decline`."""
    key = Decision(decision)
    name = COMMAND_NAMES[key]
    selector = SELECTOR.get(key)
    return f"{name} {selector}" if selector else name


def command_phrase(decision: Decision | str) -> str:
    return f"`closeloop complaint {command_name(decision)}`"


def option_for(field: str, decision: Decision | str | None = None) -> str | None:
    """The option that fills `field` in `decision`'s command (else in any decision command)."""
    name, _, part = field.partition(".")
    if name in SIGNER_WORDS:
        return SIGNER_WORDS[name]
    if name == "actions" and part:  # one word of `plan-capa --action ID KIND OWNER DUE TEXT`
        return f"--action {ACTION_PARTS.get(part.split('.')[-1], 'ID')}"
    every = commands()
    if decision is not None and Decision(decision) in every:
        key = Decision(decision)
        word = ALIASES.get(key, {}).get(name) or _param_word(every[key], name)
        if word:
            return word
    found = {
        word
        for key, command in every.items()
        if (word := ALIASES.get(key, {}).get(name) or _param_word(command, name))
    }
    return found.pop() if len(found) == 1 else None


def _param_word(command: click.Command, dest: str) -> str | None:
    for param in command.params:
        if param.name != dest:
            continue
        if isinstance(param, click.Option):
            word = param.opts[0]
            return f"{word}/{param.secondary_opts[0]}" if param.secondary_opts else word
        return param.human_readable_name
    return None


def render_refusal(refusal: Refusal) -> str:
    """The refusal in the CLI's words."""
    return refusal.render(
        field=lambda name: option_for(name, refusal.decision) or name.replace("_", " "),
        decision=command_phrase,
    )


_IDENTIFIER = re.compile(r"(?<![-\w])[a-z][a-z0-9]*(?:_[a-z0-9]+)*\b")


def plain_message(message: str, decision: Decision | str | None = None) -> str:
    """A pydantic message without pydantic's prefix and with field names turned into options."""
    text = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    text = render(
        text,
        field=lambda name: option_for(name, decision) or name.replace("_", " "),
        decision=command_phrase,
    )
    if decision is None:
        return text

    def word(match: re.Match[str]) -> str:
        name = match.group(0)
        option = option_for(name, decision)
        # Plain English words stay unless they are the name of an option ("stage").
        if option and ("_" in name or option.startswith(f"--{name}")):
            return option
        return name

    return _IDENTIFIER.sub(word, text)


def explain_invalid(invalid: ValidationError, decision: Decision) -> str:
    """Every validation error of a decision's input, each naming the option to fix."""
    errors = invalid.errors(include_url=False, include_input=False)
    return "; ".join(_explain(error, decision) for error in errors)


def _explain(error: Any, decision: Decision) -> str:
    loc = [part for part in error["loc"] if part != "__root__"]
    message = plain_message(error["msg"], decision)
    if not loc:
        return message
    where = option_for(str(loc[0]), decision) or str(loc[0]).replace("_", " ")
    rest = loc[1:]
    if rest and isinstance(rest[0], int):
        where += f" #{rest[0] + 1}"
        rest = rest[1:]
    if rest:
        where += " " + ACTION_PARTS.get(str(rest[0]), str(rest[0]).replace("_", " "))
    return f"{where}: {message}"
