"""The worker's audit checkpointer, wired from `CLOSELOOP_*` settings.

The shell owns configuration: `audit.checkpointer` signs a log with a key it is given and
knows nothing of settings, files or brokers, so the audit layer never imports the layer
above it. This module reads the settings, loads (or creates) the signing key, chooses the
publisher and runs the checkpointer beside the Temporal worker.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from prometheus_client import Gauge

from audit import keys
from audit.checkpointer import Checkpointer, CheckpointPolicy, run_periodic
from audit.cosignature import Cosigner
from audit.freshness import freshness
from audit.publish import CheckpointPublisher
from audit.signer_memory import SignerMemory
from audit.signing import key_id
from audit.store import AuditLog
from audit.witness_client import WitnessClient, WitnessEndpoint
from base.settings import Settings

log = structlog.get_logger(__name__)

ENTRIES_SINCE_CHECKPOINT = Gauge(
    "closeloop_audit_entries_since_checkpoint", "Audit entries no signed checkpoint covers yet"
)
CHECKPOINT_AGE = Gauge(
    "closeloop_audit_checkpoint_age_seconds",
    "Seconds since the latest signed checkpoint (with none yet: since the first entry)",
)
# How often the worker reads the two gauges from the database (two cheap queries).
GAUGE_INTERVAL_S = 5.0


def from_settings(
    audit_log: AuditLog, settings: Settings, *, publish: bool = True
) -> tuple[Checkpointer, CheckpointPolicy]:
    """The checkpointer and policy that `CLOSELOOP_*` settings describe (creates the key).

    The worker and `closeloop audit checkpoint` both build theirs here, so both sign under
    the same key, origin and signer memory.
    """
    key = keys.signing_key(settings.audit_signing_key, settings.home_dir, create=True)
    assert key is not None  # create=True always gives a key
    publisher = None
    if settings.audit_publish_checkpoints and publish:
        publisher = CheckpointPublisher(settings.kafka_bootstrap)
    policy = CheckpointPolicy(
        interval=settings.audit_checkpoint_interval, entries=settings.audit_checkpoint_entries
    )
    memory = SignerMemory.beside_key(settings.home_dir, key_id(key))
    witnesses = None
    if settings.audit_witnesses:
        witnesses = WitnessClient(
            [WitnessEndpoint(w.url, Cosigner.from_vkey(w.key)) for w in settings.audit_witnesses]
        )
    checkpointer = Checkpointer(
        audit_log,
        key,
        publisher=publisher,
        memory=memory,
        origin=settings.audit_origin,
        witnesses=witnesses,
    )
    return checkpointer, policy


async def run_for_worker(audit_log: AuditLog, settings: Settings, stop: asyncio.Event) -> None:
    """The worker's periodic checkpoints, until `stop` (then one last checkpoint)."""
    try:
        checkpointer, policy = await asyncio.to_thread(from_settings, audit_log, settings)
    except (keys.KeyConfigError, OSError) as exc:
        # Complaints keep flowing; the log stays hash-chained but goes unsigned until fixed.
        log.error("audit checkpoints disabled: no usable signing key", error=str(exc))
        return
    log.info(
        "audit checkpointer started",
        key_id=key_id(checkpointer.key),
        every_seconds=policy.interval,
        every_entries=policy.entries,
        publish_to=checkpointer.publisher.topic if checkpointer.publisher else None,
    )
    await run_periodic(checkpointer, policy, stop)


async def export_freshness(audit_log: AuditLog, stop: asyncio.Event) -> None:
    """Keep the checkpoint gauges current until `stop`; a failed read keeps the last values."""
    while not stop.is_set():
        try:
            state = await asyncio.to_thread(freshness, audit_log)
        except Exception as exc:  # the database is away: the worker's own log says more
            log.warning("audit checkpoint gauges not updated", error=type(exc).__name__)
        else:
            ENTRIES_SINCE_CHECKPOINT.set(state.entries_since_checkpoint)
            CHECKPOINT_AGE.set(state.checkpoint_age_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=GAUGE_INTERVAL_S)
