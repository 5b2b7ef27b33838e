"""Reading the values that several words of one option make: `--action ID KIND OWNER DUE TEXT`.

Each part is checked here, so an error names the action and the part (`--action A1 KIND:
'sideways' is not one of correction, corrective, preventive`) instead of pydantic's
`actions.0.kind`.
"""

from __future__ import annotations

import click
from pydantic import ValidationError

from closeloop.cli.complaint.vocabulary import ACTION_PARTS, plain_message
from closeloop.cli.options import Day, NotAValue, parse_when
from schemas.decisions import CapaActionPlan, CapaKind


def parse_actions(actions: tuple[tuple[str, str, str, str, str], ...]) -> list[CapaActionPlan]:
    return [parse_action(*action) for action in actions]


def parse_action(
    action_id: str, kind: str, owner: str, due: str, description: str
) -> CapaActionPlan:
    where = f"--action {action_id}"
    kinds = [k.value for k in CapaKind]
    if kind.lower() not in kinds:
        raise click.UsageError(f"{where} KIND: {kind!r} is not one of {', '.join(kinds)}")
    try:
        due_at = parse_when(due, day=Day.END)
    except NotAValue as bad_due:
        raise click.UsageError(f"{where} DUE: {bad_due}") from None
    try:
        return CapaActionPlan(
            id=action_id,
            kind=CapaKind(kind.lower()),
            owner=owner,
            due_at=due_at,
            description=description,
        )
    except ValidationError as invalid:
        first = invalid.errors(include_url=False, include_input=False)[0]
        part = ACTION_PARTS.get(str(first["loc"][0]), "") if first["loc"] else ""
        raise click.UsageError(f"{where} {part}: {plain_message(first['msg'])}") from None
