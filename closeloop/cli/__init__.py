"""The `closeloop` command: one entry point, one module per group of subcommands."""

from __future__ import annotations

import click

from closeloop.cli import audit, complaint, dlq, publish, runtime, stack


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="closeloop")
def main() -> None:
    """Closeloop: every customer complaint as one durable workflow, every step audited.

    Configuration comes from CLOSELOOP_* environment variables (see the README).
    """


main.add_command(runtime.worker)
main.add_command(runtime.stream)
main.add_command(publish.publish)
main.add_command(dlq.dlq)
audit.register(main)
stack.register(main)
complaint.register(main)
