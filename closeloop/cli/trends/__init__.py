"""`closeloop trends …`: the trend signals of the monitoring plan (quality managers).

The group imports only click; the analysis and the audit log load when a command runs.
"""

from __future__ import annotations

import click

from closeloop.cli.trends.commands import list_command, plan, run, show


@click.group()
def trends() -> None:
    """Trend signals: the monitoring plan applied to the KPIs of the audit log.

    A Temporal Schedule runs the analysis daily (CLOSELOOP_TRENDS_SCHEDULE); `run` does the
    same now. Every run, signal and change of the plan is an audit entry. The plan:
    CLOSELOOP_MONITORING_PLAN (TOML or JSON), else the built-in one (README, "Trend signals").
    """


trends.add_command(run)
trends.add_command(list_command)
trends.add_command(show)
trends.add_command(plan)
