"""`closeloop kpi …`: the quality manager's figures, computed from the audit log alone.

The group and its options import only click; the computation (SQLAlchemy, the facts) is
imported when a command runs, so `closeloop --help` stays fast.
"""

from __future__ import annotations

import click

from closeloop.cli.kpi.commands import explain, report, show


@click.group()
def kpi() -> None:
    """Complaint-handling and customer-satisfaction KPIs (CLOSELOOP_DATABASE_URL).

    Every figure is recomputed from the audit log (or an export bundle with --bundle) and
    pinned to the log's tree size, root hash and latest signed checkpoint (`as_of`).
    Definitions: README, "For quality managers".
    """


kpi.add_command(show)
kpi.add_command(explain)
kpi.add_command(report)
