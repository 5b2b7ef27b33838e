"""`closeloop login` / `closeloop logout`: the CLI signs decisions through identity.

Login checks both components (user id and password, and the TOTP code when the account has
one) exactly as the console does, is audited as a sign-in, and stores an expiring token
(`closeloop.cli.credentials`). Logout revokes it in identity and deletes the file.
"""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from base.settings import load_settings
from closeloop.cli import credentials
from closeloop.cli.errors import Refused
from closeloop.cli.exit_status import ExitStatus
from identity.service import Identity
from identity.users import AuthenticationFailed


class _Usage(click.ClickException):
    exit_code = ExitStatus.USAGE


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line.strip():
            raise _Usage("--password-stdin: standard input had no password line")
        return line.rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True))


@click.command("login")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--code", default="", help="TOTP code (asked for when the account has TOTP).")
@click.option(
    "--hours",
    type=click.IntRange(1, 720),
    default=12,
    show_default=True,
    help="How long the token lives.",
)
def login(username: str, password_stdin: bool, code: str, hours: int) -> None:
    """Sign in as USERNAME; decision commands then sign as you."""
    password = _password(password_stdin)
    identity = Identity.from_settings(load_settings())
    try:
        if not code and identity.users.totp_secret(username.strip().lower()):
            code = str(click.prompt("TOTP code", hide_input=False))
        try:
            user = identity.users.authenticate(username, password, code.strip())
        except AuthenticationFailed as failed:
            raise Refused(str(failed)) from None
        token, expires_at = identity.tokens.issue(user, timedelta(hours=hours))
    finally:
        identity.dispose()
    path = credentials.save(
        credentials.StoredToken(token, user.username, expires_at.isoformat(timespec="seconds"))
    )
    click.echo(
        f"signed in as {user.label}, {user.role.value}, until {expires_at:%Y-%m-%d %H:%M} UTC"
    )
    click.echo(f"token stored in {path} (mode 0600)")


@click.command("logout")
def logout() -> None:
    """Revoke the stored CLI token and delete it."""
    stored = credentials.load()
    if stored is None:
        credentials.forget()
        click.echo("not signed in")
        return
    identity = Identity.from_settings(load_settings())
    try:
        identity.tokens.revoke(stored.token)
    finally:
        identity.dispose()
    credentials.forget()
    click.echo(f"signed out {stored.username}")
