"""`closeloop complaint …`: what operators use to see complaints and take decisions.

`list` reads Temporal visibility (the search attributes the UI filters on), `show` asks the
complaint's workflow itself (the `current_state` query), and every decision command sends
one Temporal Update by name. Modules: `client` (Temporal calls), `queries` (list, show),
`decisions` (what every decision command shares), `case_commands` and `capa_commands` (one
command per decision), `parsing` (multi-word option values), `vocabulary` (the CLI's words
for the workflow's names), `view` (how it reads in a terminal).
"""

from __future__ import annotations

import click

from closeloop.cli.complaint import capa_commands, case_commands, queries


@click.group()
def complaint() -> None:
    """List and show complaints; take decisions (each is a Temporal Update)."""


for command in (queries.list_command, queries.show, *case_commands.COMMANDS):
    complaint.add_command(command)
for command in capa_commands.COMMANDS:
    complaint.add_command(command)
