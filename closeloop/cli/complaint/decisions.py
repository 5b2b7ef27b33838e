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

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import click
from pydantic import BaseModel, ValidationError

from base.settings import load_settings
from closeloop.cli.complaint import vocabulary
from closeloop.cli.complaint.client import DecisionRefused, require_complaint, send_decision
from closeloop.cli.complaint.signer import resolve_signer
from closeloop.cli.complaint.view import receipt_summary
from closeloop.cli.errors import Refused
from closeloop.cli.process_exit import run_then_exit
from schemas import decisions as d
from schemas.outcomes import DecisionReceipt


@dataclass(frozen=True)
class Common:
    decision: d.Decision
    complaint_id: str
    actor: d.Actor
    comment: str
    update_id: str
    expected_state_hash: str | None
    as_json: bool
    authenticated: bool | None = None  # False: sent in development mode (see `signer`)

    def envelope(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "comment": self.comment,
            "expected_state_hash": self.expected_state_hash,
            "authenticated": self.authenticated,
        }


def decision_command(
    decision: d.Decision, name: str, *, decides: tuple[d.Decision, ...] = ()
) -> Callable[[Callable[..., None]], click.Command]:
    """A decision command: the shared options, then the command's own (decorators below).

    `decides` names further decisions the same command sends (`investigate --decline`).
    """

    def make(function: Callable[..., None]) -> click.Command:
        command = click.command(name)(_with_common_options(decision, function))
        for sent in (decision, *decides):
            vocabulary.COMMANDS[sent] = command
        return command

    return make


def _with_common_options(decision: d.Decision, command: Callable[..., None]) -> Callable[..., None]:
    @click.argument("complaint_id")
    @click.option(
        "--actor",
        default=None,
        help="Optional: the signed-in user (`closeloop login`) signs; any user id only "
        "with CLOSELOOP_DEV_UNAUTHENTICATED=true (marked unauthenticated).",
    )
    @click.option("--actor-name", default="", help="Your name, as the audit log shows it.")
    @click.option("--comment", default="", help="Why: recorded with the decision.")
    @click.option(
        "--update-id",
        default=None,
        help="Idempotency key; repeat a command with the same id to retry it safely "
        "(default: a new UUID, printed with the result).",
    )
    @click.option(
        "--expect-hash",
        "expected_state_hash",
        default=None,
        help="The state hash you reviewed (from `show`); refused if the complaint changed.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the receipt as JSON.")
    @functools.wraps(command)
    def wrapper(
        complaint_id: str,
        actor: str | None,
        actor_name: str,
        comment: str,
        update_id: str | None,
        expected_state_hash: str | None,
        as_json: bool,
        **options: Any,
    ) -> None:
        try:
            who, authenticated = resolve_signer(actor, actor_name)
        except ValidationError as invalid:
            where = "--actor-name" if invalid.errors()[0]["loc"][:1] == ("name",) else "--actor"
            raise click.BadParameter(_reason(invalid), param_hint=where) from None
        common = Common(
            decision=decision,
            complaint_id=complaint_id,
            actor=who,
            comment=comment,
            update_id=update_id or str(uuid4()),
            expected_state_hash=expected_state_hash,
            as_json=as_json,
            authenticated=authenticated,
        )
        command(common, **options)

    return wrapper


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

    def run() -> None:
        try:
            receipt = asyncio.run(checked_send())
        except DecisionRefused as refused:
            if refused.refusal is None:
                raise
            raise Refused(vocabulary.render_refusal(refused.refusal)) from None
        if common.as_json:
            click.echo(receipt.model_dump_json(indent=2))
            return
        click.echo(receipt_summary(receipt))
        click.echo(f"update id: {common.update_id}")

    run_then_exit(run)


def require(condition: bool, message: str) -> None:
    """A usage error (exit 2) unless `condition`: for rules between options."""
    if not condition:
        raise click.UsageError(message)
