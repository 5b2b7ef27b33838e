"""`closeloop complaint …`: what operators use to see complaints and take decisions.

`list` reads Temporal visibility (the search attributes the UI filters on), `show` asks the
complaint's workflow itself (the `current_state` query), and every decision command sends
one Temporal Update by name. Modules: `client` (Temporal calls), `queries` (list, show),
`decisions` (what every decision command shares), `case_commands` and `capa_commands` (one
command per decision), `parsing` (multi-word option values), `vocabulary` (the CLI's words
for the workflow's names), `view` (how it reads in a terminal).

The group loads only the module of the command that runs: `list` and `show` never import the
decision commands (issue 8, "Fast CLI").
"""

from __future__ import annotations

import importlib

import click

from closeloop.cli.fast_start import defer_model_building

defer_model_building()  # before anything below imports the models of schemas/

from closeloop.cli.complaint.vocabulary import COMMAND_MODULES  # noqa: E402

READING = {
    "list": "closeloop.cli.complaint.queries:list_command",
    "show": "closeloop.cli.complaint.queries:show",
}


class LazyComplaintGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*READING, *COMMAND_MODULES])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in READING:
            module_name, _, attribute = READING[cmd_name].partition(":")
        elif cmd_name in COMMAND_MODULES:
            module_name, attribute = COMMAND_MODULES[cmd_name], cmd_name.replace("-", "_")
        else:
            return None
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyComplaintGroup)
def complaint() -> None:
    """List and show complaints; take decisions (each is a Temporal Update)."""
