"""The `closeloop` command: one entry point, one module per group of subcommands.

Subcommands are imported only when they run, so `closeloop publish` does not pay for
SQLAlchemy and `closeloop status` not for the Temporal SDK.
"""

from __future__ import annotations

import importlib

import click

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
    "publish": ("closeloop.cli.publish:publish", "Publish complaint events to Kafka."),
    "complaint": ("closeloop.cli.complaint:complaint", "Watch and decide complaints (operators)."),
    "audit": (
        "closeloop.cli.audit:audit_group",
        "Query, export and verify the audit log (auditors).",
    ),
    "dlq": ("closeloop.cli.dlq:dlq", "List and replay dead-lettered events."),
    "users": ("closeloop.cli.users:users", "Add, disable and list console users (admins)."),
    "console": ("closeloop.cli.console:console", "Serve the web console (production entry point)."),
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
