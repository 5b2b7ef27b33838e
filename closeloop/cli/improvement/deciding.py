"""What every improvement decision command shares: its options, how it signs and sends the
Update, how it answers. The same options as `closeloop complaint`'s decisions: the
improvement id, `--actor`/`--actor-name` (see `closeloop.cli.complaint.signer`), `--comment`,
`--update-id` (retry safely), `--expect-hash` (refuse unless the state is the one you
reviewed) and `--json`. A refused decision prints the reason in the CLI's words and exits 1.
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
from closeloop.cli.complaint.signer import resolve_signer
from closeloop.cli.errors import Refused
from closeloop.cli.improvement import words
from closeloop.cli.improvement.client import ImprovementRefused, send_decision
from closeloop.cli.improvement.view import receipt_summary
from closeloop.cli.process_exit import run_then_exit
from schemas.decisions import Actor
from schemas.improvement import ImprovementDecision


@dataclass(frozen=True)
class Common:
    improvement_id: str
    actor: Actor
    comment: str
    update_id: str
    expected_state_hash: str | None
    as_json: bool
    authenticated: bool | None = None

    def envelope(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "comment": self.comment,
            "expected_state_hash": self.expected_state_hash,
            "authenticated": self.authenticated,
        }


def signer_options(command: Callable[..., None]) -> Callable[..., None]:
    """`--actor` and `--actor-name`, resolved to the signer (for `open` too)."""

    @click.option(
        "--actor",
        default=None,
        help="Optional: the signed-in user (`closeloop login`) signs; any user id only "
        "with CLOSELOOP_DEV_UNAUTHENTICATED=true (marked unauthenticated).",
    )
    @click.option("--actor-name", default="", help="Your name, as the audit log shows it.")
    @functools.wraps(command)
    def wrapper(actor: str | None, actor_name: str, **options: Any) -> None:
        try:
            who, authenticated = resolve_signer(actor, actor_name)
        except ValidationError as invalid:
            where = "--actor-name" if invalid.errors()[0]["loc"][:1] == ("name",) else "--actor"
            raise click.BadParameter(words.explain_invalid(invalid), param_hint=where) from None
        command(signer=(who, authenticated), **options)

    return wrapper


def decision_command(name: str) -> Callable[[Callable[..., None]], click.Command]:
    """A decision command: the shared options, then the command's own (decorators below)."""

    def make(function: Callable[..., None]) -> click.Command:
        @click.argument("improvement_id")
        @signer_options
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
            help="The state hash you reviewed (from `show`); refused if it changed.",
        )
        @click.option("--json", "as_json", is_flag=True, help="Print the receipt as JSON.")
        @functools.wraps(function)
        def wrapper(
            improvement_id: str,
            signer: tuple[Actor, bool | None],
            comment: str,
            update_id: str | None,
            expected_state_hash: str | None,
            as_json: bool,
            **options: Any,
        ) -> None:
            common = Common(
                improvement_id=improvement_id,
                actor=signer[0],
                authenticated=signer[1],
                comment=comment,
                update_id=update_id or str(uuid4()),
                expected_state_hash=expected_state_hash,
                as_json=as_json,
            )
            function(common, **options)

        return click.command(name)(wrapper)

    return make


def send(common: Common, decision: ImprovementDecision, build: Callable[[], BaseModel]) -> None:
    """Validate the input (errors name options), send it, print the receipt."""
    try:
        request = build()
    except ValidationError as invalid:
        raise click.UsageError(words.explain_invalid(invalid)) from None

    def run() -> None:
        try:
            receipt = asyncio.run(
                send_decision(
                    load_settings(), common.improvement_id, decision, request, common.update_id
                )
            )
        except ImprovementRefused as refused:
            if refused.refusal is None:
                raise
            raise Refused(words.render_refusal(refused.refusal)) from None
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
