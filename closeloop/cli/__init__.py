"""The `closeloop` command: one entry point, one module per group of subcommands.

Subcommands are imported only when they run, so `closeloop publish` does not pay for
SQLAlchemy and `closeloop status` not for the Temporal SDK. Every command ends with a
status of `closeloop.cli.exit_status.ExitStatus` (the README's "Exit status" table):
Ctrl-C is 130 everywhere, and a file that cannot be read or written is a clear error (2),
never a traceback.
"""

from __future__ import annotations

import importlib

import click

from closeloop.cli.errors import CannotCheck, Unreachable
from closeloop.cli.exit_status import ExitStatus

# name -> ("module:attribute", one-line help shown by `closeloop --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("closeloop.cli.stack:up", "Start the local stack (Temporal, broker, worker, stream)."),
    "status": ("closeloop.cli.stack:status", "Show what runs where; non-zero if a part is down."),
    "down": ("closeloop.cli.stack:down", "Stop the local stack started by `closeloop up`."),
    "worker": ("closeloop.cli.runtime:worker", "Run the Temporal worker (production entry point)."),
    "stream": (
        "closeloop.cli.runtime:stream",
        "Run the stream processor (production entry point).",
    ),
    "mailer": (
        "closeloop.cli.mailer:mailer",
        "Send messages to complainants by SMTP (optional deliverer).",
    ),
    "publish": ("closeloop.cli.publish:publish", "Publish complaint events to Kafka."),
    "complaint": ("closeloop.cli.complaint:complaint", "Watch and decide complaints (operators)."),
    "improvement": (
        "closeloop.cli.improvement:improvement",
        "Preventive action, Plan-Do-Check-Act (quality managers).",
    ),
    "audit": (
        "closeloop.cli.audit:audit",
        "Query, export and verify the audit log (auditors).",
    ),
    "dlq": ("closeloop.cli.dlq:dlq", "List and replay dead-lettered events."),
    "kpi": ("closeloop.cli.kpi:kpi", "Complaint and satisfaction KPIs (quality managers)."),
    "trends": (
        "closeloop.cli.trends:trends",
        "Trend signals of the monitoring plan (quality managers).",
    ),
    "demo": ("closeloop.cli.kpi.demo:demo", "Fill the local stack with CFPB-based activity."),
    "users": ("closeloop.cli.users:users", "Add, disable and list console users (admins)."),
    "login": ("closeloop.cli.login:login", "Sign in: decision commands then sign as you."),
    "logout": ("closeloop.cli.login:logout", "Revoke the stored CLI token."),
    "console": ("closeloop.cli.console:console", "Serve the web console (production entry point)."),
    "compliance": (
        "closeloop.cli.compliance:compliance",
        "The compliance matrix: clauses, features, proving tests.",
    ),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, _, attribute = COMMANDS[cmd_name][0].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            command = command()  # a factory that finishes assembling its group
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(ExitStatus.INTERRUPTED) from None
        except (ConnectionRefusedError, ConnectionResetError, TimeoutError) as error:
            raise Unreachable(f"a service did not answer: {error}") from None
        except OSError as error:  # a path the user gave that cannot be read or written
            where = f" {error.filename}" if error.filename else ""
            raise CannotCheck(f"cannot use{where}: {error.strerror or error}") from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, help_) in COMMANDS.items()])


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="closeloop")
def main() -> None:
    """Closeloop: every customer complaint as one durable workflow, every step audited.

    Configuration comes from CLOSELOOP_* environment variables (see the README).
    """
