"""Which version of the reporting rules table a new complaint keeps for its whole life.

The version is chosen when the workflow starts and kept in its state, so a later table
never moves the clocks of a running case. The choice must replay as it ran, so it goes
through `workflow.patched`: each table version has a patch id; a new run records the newest
one's marker, a replay finds the marker it recorded. Runs from before the table existed
record none and use its first version (`schemas.reporting_rules.table(None)`).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.reporting_rules import TABLES


def version_for_new_case() -> str | None:
    for rules in reversed(TABLES.values()):
        if workflow.patched(rules.patch_id):
            return rules.version
    return None
