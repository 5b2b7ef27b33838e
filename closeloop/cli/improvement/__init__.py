"""`closeloop improvement …`: preventive action as Plan-Do-Check-Act, for quality managers.

`open` starts an improvement's workflow (by name, through `base.improvements`), `list` reads
Temporal visibility, `show` asks the workflow (its state query), and each decision command
(`plan`, `complete-action`, `check`, `close`) sends one Temporal Update, signed like
`closeloop complaint`'s decisions (the signed-in user; `--actor` in development mode).
Modules: `client` (Temporal calls), `words` (the CLI's words for the workflow's names),
`deciding` (what every decision command shares), `commands` (open and the decisions),
`reading` (list, show), `view` (how it reads in a terminal).
"""

from __future__ import annotations

import importlib

import click

from closeloop.cli.fast_start import defer_model_building

defer_model_building()  # before anything below imports the models of schemas/

COMMANDS = {
    "open": "closeloop.cli.improvement.commands:open_command",
    "plan": "closeloop.cli.improvement.commands:plan",
    "complete-action": "closeloop.cli.improvement.commands:complete_action",
    "check": "closeloop.cli.improvement.commands:check",
    "close": "closeloop.cli.improvement.commands:close",
    "list": "closeloop.cli.improvement.reading:list_command",
    "show": "closeloop.cli.improvement.reading:show",
}


class LazyImprovementGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, _, attribute = COMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyImprovementGroup)
def improvement() -> None:
    """Open, plan, do, check and act on improvements (preventive action, PDCA).

    \b
    open -> plan -> complete-action (each action) -> check -> close --standardise TEXT
                                                           -> close --again REASON (plan again)
    """
