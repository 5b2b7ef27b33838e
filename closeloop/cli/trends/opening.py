"""`trends run` opens the improvements its new signals call for, as the schedule does.

Through `base.improvements` with the Temporal client, by the improvement workflow's name;
the id derived from the signal makes an improvement the scheduled run opened already (or a
rerun) a no-op. Temporal is reached before anything is audited, so a run that cannot open
them records no signal it would then forget to open an improvement for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio.client import Client
from temporalio.service import RPCError

from base import improvements
from base.settings import Settings
from closeloop.cli.errors import Unreachable
from closeloop.cli.temporal_calls import client_for
from schemas.improvement import OpenImprovement
from trends.plan import MonitoringPlan


@dataclass
class Opened:
    started: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)


def wants_improvements(plan: MonitoringPlan) -> bool:
    return any(rule.open_improvement is not None for rule in plan.rules)


async def reachable(settings: Settings) -> None:
    """Raise Unreachable (exit 3) now, before the run audits anything (connecting asks the
    server for its system info, so a refused or silent Temporal fails here)."""
    await client_for(settings)


async def open_all(settings: Settings, openings: list[OpenImprovement]) -> Opened:
    done = Opened()
    try:
        client: Client = await client_for(settings)
        for opened in openings:
            outcome = await improvements.open_improvement(client, settings.task_queue, opened)
            if outcome is improvements.StartOutcome.DUPLICATE:
                done.existing.append(opened.improvement_id)
            else:
                done.started.append(opened.improvement_id)
    except (RPCError, Unreachable) as error:  # the signals are audited: say what to open
        left = openings[len(done.started) + len(done.existing) :]
        signals = ", ".join(f"{o.improvement_id} (signal {o.signal_id})" for o in left)
        raise Unreachable(
            f"Temporal did not start the improvement(s) {signals}: {error}; open each with "
            "`closeloop improvement open --id ID --signal SIGNAL_ID ...`"
        ) from None
    return done
