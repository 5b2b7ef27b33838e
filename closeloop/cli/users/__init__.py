"""`closeloop users …`: accounts for the console and for signing (administrators).

Passwords are read from a hidden prompt, or from standard input with `--password-stdin`
(for scripts), never from an argument that `ps` would show.
"""

from __future__ import annotations

import getpass
import sys

import click

from base.settings import load_settings
from closeloop.cli.exit_status import ExitStatus
from identity.passwords import WeakPassword
from identity.roles import Role
from identity.service import Identity
from identity.users import IdentityError

_ROLE = click.Choice([r.value for r in Role])


class _Refused(click.ClickException):
    exit_code = ExitStatus.USAGE


def _identity() -> Identity:
    return Identity.from_settings(load_settings())


def _admin_name() -> str:
    """Who ran the command, for the audit entry: the operating-system account."""
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):
        return "os:unknown"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line.strip():
            raise _Refused("--password-stdin: standard input had no password line")
        return line.rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@click.group()
def users() -> None:
    """Add, disable and list console users; reset passwords."""


@users.command("add")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Printed name shown on signatures.")
@click.option("--role", type=_ROLE, required=True)
@click.option("--totp", is_flag=True, help="Require a TOTP code too; prints the secret once.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add(username: str, full_name: str, role: str, totp: bool, password_stdin: bool) -> None:
    """Create USERNAME with a role and a password."""
    password = _read_password(password_stdin)
    identity = _identity()
    try:
        user, secret = identity.users.add(
            username, full_name, Role(role), password, by=_admin_name(), with_totp=totp
        )
    except (IdentityError, WeakPassword) as error:
        raise _Refused(str(error)) from None
    finally:
        identity.dispose()
    click.echo(f"added {user.username} ({user.full_name}) as {user.role.value}")
    if secret:
        from identity.totp import provisioning_uri

        click.echo(f"TOTP secret (enter it in an authenticator app now): {secret}")
        click.echo(provisioning_uri(secret, user.username))


@users.command("disable")
@click.argument("username")
@click.option("--reason", default="", help="Why, for the audit log.")
def disable(username: str, reason: str) -> None:
    """Disable USERNAME: no more sign-in or signatures; the history stays."""
    identity = _identity()
    try:
        user = identity.users.disable(username, by=_admin_name(), reason=reason)
    except IdentityError as error:
        raise _Refused(str(error)) from None
    finally:
        identity.dispose()
    click.echo(f"disabled {user.username}")


@users.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def reset_password(username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME (and lift a lockout)."""
    password = _read_password(password_stdin)
    identity = _identity()
    try:
        user = identity.users.reset_password(username, password, by=_admin_name())
    except (IdentityError, WeakPassword) as error:
        raise _Refused(str(error)) from None
    finally:
        identity.dispose()
    click.echo(f"password of {user.username} reset")


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=_ROLE)
def set_role(username: str, role: str) -> None:
    """Give USERNAME another role."""
    identity = _identity()
    try:
        user = identity.users.set_role(username, Role(role), by=_admin_name())
    except IdentityError as error:
        raise _Refused(str(error)) from None
    finally:
        identity.dispose()
    click.echo(f"{user.username} is now {user.role.value}")


@users.command("list")
def list_users() -> None:
    """Every account with its role and state."""
    identity = _identity()
    try:
        rows = identity.users.list()
    finally:
        identity.dispose()
    for user in rows:
        state = "disabled" if user.disabled else "active"
        factor = "totp" if user.totp_enabled else "password"
        click.echo(f"{user.username}\t{user.full_name}\t{user.role.value}\t{state}\t{factor}")
