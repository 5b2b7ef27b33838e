"""What every improvement decision command shares: its options, how it signs and sends the
Update, how it answers. The same options as `closeloop complaint`'s decisions: the
improvement id, `--actor`/`--actor-name` (see `closeloop.cli.signer`), `--comment`,
`--update-id` (retry safely), `--expect-hash` (refuse unless the state is the one you
reviewed) and `--json`. A refused decision prints the reason in the CLI's words and exits 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import click
from pydantic import BaseModel, ValidationError

from base.settings import load_settings
from closeloop.cli import decision_options
from closeloop.cli.decision_options import Envelope, envelope_options, require, send_and_answer
from closeloop.cli.improvement import words
from closeloop.cli.improvement.client import send_decision
from closeloop.cli.improvement.view import receipt_summary
from schemas.improvement import ImprovementDecision, ImprovementReceipt

__all__ = ["Common", "decision_command", "require", "send", "signer_options"]


@dataclass(frozen=True, kw_only=True)
class Common(Envelope):
    improvement_id: str


# `--actor` and `--actor-name`, resolved to the signer (for `open` too).
signer_options = decision_options.signer_options(words.explain_invalid)


def decision_command(name: str) -> Callable[[Callable[..., None]], click.Command]:
    """A decision command: the shared options, then the command's own (decorators below)."""

    def make(function: Callable[..., None]) -> click.Command:
        options = envelope_options(
            "improvement_id", Common, reason=words.explain_invalid, changed="it"
        )
        return click.command(name)(options(function))

    return make


def send(common: Common, decision: ImprovementDecision, build: Callable[[], BaseModel]) -> None:
    """Validate the input (errors name options), send it, print the receipt."""
    try:
        request = build()
    except ValidationError as invalid:
        raise click.UsageError(words.explain_invalid(invalid)) from None

    async def sending() -> ImprovementReceipt:
        return await send_decision(
            load_settings(), common.improvement_id, decision, request, common.update_id
        )

    send_and_answer(common, sending, summary=receipt_summary, render_refusal=words.render_refusal)
