"""The options, the signer and the answer every decision command shares.

`closeloop complaint` and `closeloop improvement` decisions take the same envelope (the
case id, `--actor`/`--actor-name`, `--comment`, `--update-id`, `--expect-hash`, `--json`)
and answer alike (the receipt, or a refusal in the CLI's words, exit 1). Only the case's
noun and the words for a field differ, so the callers pass those and the rest is here once.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import uuid4

import click
from pydantic import BaseModel, ValidationError

from closeloop.cli.errors import Refused
from closeloop.cli.process_exit import run_then_exit
from closeloop.cli.signer import resolve_signer
from closeloop.cli.temporal_calls import RefusedWith
from schemas.decisions import Actor

Receipt = TypeVar("Receipt", bound=BaseModel)
Command = Callable[..., None]


@dataclass(frozen=True, kw_only=True)
class Envelope:
    """What a decision sends besides its own input (a case's `Common` adds the case id)."""

    actor: Actor
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


def signer_options(reason: Callable[[ValidationError], str]) -> Callable[[Command], Command]:
    """`--actor` and `--actor-name`, resolved to the signer: the command gets
    `signer=(actor, authenticated)`; an invalid one is a bad parameter worded by `reason`."""

    def decorate(command: Command) -> Command:
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
                loc = invalid.errors()[0]["loc"][:1]
                where = "--actor-name" if loc == ("name",) else "--actor"
                raise click.BadParameter(reason(invalid), param_hint=where) from None
            command(signer=(who, authenticated), **options)

        return wrapper

    return decorate


def envelope_options(
    id_argument: str,
    common: Callable[..., Envelope],
    *,
    reason: Callable[[ValidationError], str],
    changed: str,
) -> Callable[[Command], Command]:
    """The case id argument and the envelope's options; the command gets the envelope,
    `common(<id_argument>=..., actor=..., ...)`, then its own options. `changed` names
    what `--expect-hash` guards in its help ("the complaint", "it")."""

    def decorate(command: Command) -> Command:
        @click.argument(id_argument)
        @signer_options(reason)
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
            help=f"The state hash you reviewed (from `show`); refused if {changed} changed.",
        )
        @click.option("--json", "as_json", is_flag=True, help="Print the receipt as JSON.")
        @functools.wraps(command)
        def wrapper(
            signer: tuple[Actor, bool | None],
            comment: str,
            update_id: str | None,
            expected_state_hash: str | None,
            as_json: bool,
            **options: Any,
        ) -> None:
            envelope = common(
                **{id_argument: options.pop(id_argument)},
                actor=signer[0],
                authenticated=signer[1],
                comment=comment,
                update_id=update_id or str(uuid4()),
                expected_state_hash=expected_state_hash,
                as_json=as_json,
            )
            command(envelope, **options)

        return wrapper

    return decorate


def send_and_answer(
    common: Envelope,
    send: Callable[[], Coroutine[Any, Any, Receipt]],
    *,
    summary: Callable[[Receipt], str],
    render_refusal: Callable[[Any], str],
) -> None:
    """Send (`send()`), then print the receipt (`--json`: as JSON) and the update id; a
    structured refusal is printed by `render_refusal` in the CLI's words (exit 1)."""

    def run() -> None:
        try:
            receipt = asyncio.run(send())
        except RefusedWith as refused:
            if refused.refusal is None:
                raise
            raise Refused(render_refusal(refused.refusal)) from None
        if common.as_json:
            click.echo(receipt.model_dump_json(indent=2))
            return
        click.echo(summary(receipt))
        click.echo(f"update id: {common.update_id}")

    run_then_exit(run)


def require(condition: bool, message: str) -> None:
    """A usage error (exit 2) unless `condition`: for rules between options."""
    if not condition:
        raise click.UsageError(message)
