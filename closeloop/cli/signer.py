"""Who signs a decision sent from the CLI: the user signed in with `closeloop login`.

`--actor` no longer names the signer. With a token, the signer is the token's user (its
printed name from identity); `--actor`, if given, must be that same user. Without one,
`--actor` is accepted only in development mode (CLOSELOOP_DEV_UNAUTHENTICATED=true), and the
decision then carries `authenticated: false`, which its audit entry keeps
(`data.input.authenticated`).

Identity (and SQLAlchemy) is imported only when a token must be checked: development-mode
decisions stay as light as `show` (issue 8, "Fast CLI").
"""

from __future__ import annotations

from closeloop.cli import credentials
from closeloop.cli.errors import Refused
from schemas import decisions as d


class NotSignedIn(Refused):
    def __init__(self, message: str) -> None:
        super().__init__(message, prefix="")


def resolve_signer(actor: str | None, actor_name: str) -> tuple[d.Actor, bool | None]:
    """The signer, and `False` when unauthenticated (development mode), else None."""
    stored = credentials.load()
    if stored is not None and (actor is None or actor.strip().lower() == stored.username):
        return _from_token(stored.token), None
    if actor is not None and credentials.development_mode():
        return d.Actor(id=actor, name=actor_name), False
    if actor is not None and stored is not None:
        raise NotSignedIn(
            f"--actor: you are signed in as {stored.username}; a decision is signed by the "
            "signed-in user (`closeloop logout`, then `closeloop login` as someone else)"
        )
    if actor is not None:
        raise NotSignedIn(
            "--actor: unauthenticated decisions are refused; run `closeloop login USER` first "
            f"(on a development stack only, {credentials.DEV_MODE_VARIABLE}=true allows them, "
            "marked unauthenticated in the audit log)"
        )
    raise NotSignedIn("not signed in: run `closeloop login USER` first")


def _from_token(token: str) -> d.Actor:
    from base.settings import load_settings
    from identity.roles import Permission
    from identity.service import Identity

    identity = Identity.from_settings(load_settings())
    try:
        user = identity.tokens.user_for(token)
    finally:
        identity.dispose()
    if user is None:
        raise NotSignedIn(
            "your CLI token has expired, was revoked or its account is disabled: "
            "run `closeloop login USER` again"
        )
    if not user.can(Permission.DECIDE):
        raise NotSignedIn(f"{user.username} ({user.role.value}) may not sign decisions")
    return d.Actor(id=user.username, name=user.full_name)
