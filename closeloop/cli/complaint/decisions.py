"""What every decision command shares: its options, how it sends the Update, how it answers.

Every command takes the complaint id, `--actor` (see `signer`: the signer is the user of
`closeloop login`; `--actor` only in development mode), `--actor-name`,
`--comment` (why), `--update-id` (repeat a command with the same id to retry it safely) and
`--expect-hash` (refuse unless the complaint is still in the state you reviewed). A refused
decision prints the workflow's reason in the CLI's words and exits 1.

An option's destination is the decision input's field name wherever they can agree
(`--risk` fills `risk_rationale`), so that the words a refusal or a validation error uses
for a field are read off the command itself (see `vocabulary`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import click
from pydantic import BaseModel, ValidationError

from base.settings import load_settings
from closeloop.cli.complaint import vocabulary
from closeloop.cli.complaint.client import require_complaint, send_decision
from closeloop.cli.complaint.view import receipt_summary
from closeloop.cli.decision_options import Envelope, envelope_options, require, send_and_answer
from schemas import decisions as d
from schemas.outcomes import DecisionReceipt

__all__ = ["Common", "decision_command", "require", "send"]


@dataclass(frozen=True, kw_only=True)
class Common(Envelope):
    decision: d.Decision
    complaint_id: str


def decision_command(
    decision: d.Decision, name: str, *, decides: tuple[d.Decision, ...] = ()
) -> Callable[[Callable[..., None]], click.Command]:
    """A decision command: the shared options, then the command's own (decorators below).

    `decides` names further decisions the same command sends (`investigate --decline`).
    """

    def make(function: Callable[..., None]) -> click.Command:
        command = click.command(name)(
            envelope_options(
                "complaint_id",
                partial(Common, decision=decision),
                reason=_reason,
                changed="the complaint",
            )(function)
        )
        for sent in (decision, *decides):
            vocabulary.COMMANDS[sent] = command
        return command

    return make


def _reason(invalid: ValidationError) -> str:
    return vocabulary.plain_message(invalid.errors(include_url=False)[0]["msg"])


def send(
    common: Common,
    build: Callable[[], BaseModel],
    decision: d.Decision | None = None,
    must_exist: tuple[str, str] | None = None,
) -> None:
    """Validate the input (errors name options), send it, print the receipt.
    `must_exist`: (complaint id, option) of another complaint the decision names."""
    sent = decision or common.decision
    try:
        request = build()
    except ValidationError as invalid:
        raise click.UsageError(vocabulary.explain_invalid(invalid, sent)) from None

    async def checked_send() -> DecisionReceipt:
        settings = load_settings()
        if must_exist is not None:
            await require_complaint(settings, *must_exist)
        return await send_decision(settings, common.complaint_id, sent, request, common.update_id)

    send_and_answer(
        common, checked_send, summary=receipt_summary, render_refusal=vocabulary.render_refusal
    )
