"""Making signed checkpoints: on demand, every N entries, and every T seconds.

The checkpointer never signs a log it has not checked. It keeps the Merkle tree in memory
between checkpoints; on its first run it accepts the entries below the latest checkpoint
only if their stored hashes give that checkpoint's signed root, and it recomputes every
newer entry's hash and chain link before it signs. A tampered log makes it refuse
(`CheckpointRefused`), loudly, instead of blessing the tampering with a signature.

The worker runs `run_periodic` beside its Temporal worker, wired from settings by the shell
(`closeloop.checkpointing`: `CLOSELOOP_AUDIT_CHECKPOINT_INTERVAL`, default 60 s, and
`CLOSELOOP_AUDIT_CHECKPOINT_ENTRIES`,
default 1,000): a checkpoint is made as soon as that many entries are unsigned, or when the
interval passes with any unsigned entry, and once more on shutdown. Several workers may
run it at once: checkpoints are stored under a lock and never repeat a tree size.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import canonical, incidents, merkle
from audit.checkpoints import SignedCheckpoint
from audit.publish import CheckpointPublisher, Publication, publish_pending
from audit.signer_memory import SignerMemory, SignerMemoryError
from audit.signing import Checkpoint, key_id, sign_checkpoint
from audit.store import AuditLog
from audit.tlog_checkpoint import TreeHead, default_origin, sign_tree_head, signed_note
from audit.tree import MerkleTree
from audit.witness_client import WitnessClient

log = structlog.get_logger(__name__)


# How often the publisher looks whether the broker lost checkpoints it acknowledged.
BROKER_CHECK_SECONDS = 30.0


class CheckpointRefused(RuntimeError):
    """The log does not verify, so it will not be signed; the message says where."""


@dataclass(frozen=True)
class CheckpointPolicy:
    interval: float = 60.0  # seconds
    entries: int = 1000
    poll: float = 2.0  # how often the unsigned-entry count is looked at


@dataclass(frozen=True)
class CheckpointResult:
    """What one `checkpoint()` call did."""

    checkpoint: SignedCheckpoint | None  # None: nothing new to sign
    latest: SignedCheckpoint | None  # the latest stored checkpoint afterwards
    published: tuple[Publication, ...] = ()
    publish_error: str | None = None


class Checkpointer:
    """Signs checkpoints of one log with one key; thread-safe."""

    def __init__(
        self,
        audit_log: AuditLog,
        key: Ed25519PrivateKey,
        *,
        publisher: CheckpointPublisher | None = None,
        memory: SignerMemory | None = None,
        origin: str | None = None,
        witnesses: WitnessClient | None = None,
    ) -> None:
        self.log = audit_log
        self.key = key
        # The log's name in its C2SP checkpoint notes (audit.tlog_checkpoint).
        self.origin = origin or default_origin(key)
        self.witnesses = witnesses  # asked to cosign each new checkpoint, before publishing
        self.publisher = publisher
        self.memory = memory  # the last checkpoint this signer signed, outside the database
        self.tree = MerkleTree()
        self._head_hash = canonical.GENESIS_HASH
        self._lock = threading.Lock()
        self._incidents: dict[int, incidents.Incident] = {}  # acknowledged bad entries, by seq
        self._broker_checked_at = -BROKER_CHECK_SECONDS  # the first publish checks at once

    def checkpoint(self, *, force: bool = False, now: datetime | None = None) -> CheckpointResult:
        """Sign and store a checkpoint of every entry, then publish what is unpublished.

        Skips signing when the latest checkpoint already covers every entry, unless
        `force` (a fresh signature and time over the same tree). Publishing failures are
        reported in the result, never raised: the checkpoint is stored either way.
        """
        with self._lock:
            latest = self.log.latest_checkpoint()
            self._catch_up(latest)
            self._check_memory(latest)
            size = self.tree.size
            made = None
            if size and (latest is None or latest.tree_size < size or force):
                checkpoint = Checkpoint(
                    tree_size=size,
                    root_hash=self.tree.root().hex(),
                    timestamp=(now or datetime.now(UTC)).astimezone(UTC),
                    key_id=key_id(self.key),
                )
                made = self.log.store_checkpoint(
                    checkpoint,
                    sign_checkpoint(self.key, checkpoint),
                    allow_same_size=force,
                    note=self._note(size),
                )
                if made is not None:
                    if self.memory is not None:
                        self.memory.remember(made)
                    made = self._cosigned(made)
                    latest = made
                    log.info(
                        "audit checkpoint signed",
                        number=made.number,
                        tree_size=size,
                        root_hash=made.root_hash,
                        key_id=made.checkpoint.key_id,
                    )
            published, error = self.publish_pending()
            return CheckpointResult(made, latest, published, error)

    def _cosigned(self, made: SignedCheckpoint) -> SignedCheckpoint:
        """Ask the witnesses to cosign `made`; keep and attach what they return."""
        if self.witnesses is None or made.note is None:
            return made
        lines = ""
        for got in self.witnesses.cosign(made.note, self.tree, made.tree_size):
            self.log.store_cosignature(made.number, got.witness, got.line)
            lines += got.line
        return dataclasses.replace(made, note=made.note + lines) if lines else made

    def _note(self, size: int) -> str:
        """The same tree head as a C2SP signed note, signed by the same key."""
        head = TreeHead(self.origin, size, self.tree.root())
        return signed_note(head, (sign_tree_head(head, self.key),))

    def unsigned_entries(self) -> int:
        """Entries the latest checkpoint does not cover yet (two cheap queries)."""
        latest = self.log.latest_checkpoint()
        return self.log.count() - (latest.tree_size if latest else 0)

    def publish_pending(self) -> tuple[tuple[Publication, ...], str | None]:
        """Publish stored checkpoints not yet acknowledged; returns (acks, error or None)."""
        if self.publisher is None:
            return (), None
        now = time.monotonic()
        check_lost = now - self._broker_checked_at >= BROKER_CHECK_SECONDS
        try:
            published = publish_pending(self.log, self.publisher, check_lost=check_lost)
            if check_lost:
                self._broker_checked_at = now
            return tuple(published), None
        except Exception as exc:  # any broker failure: the checkpoint is kept
            reason = (
                str(exc)
                if str(exc).startswith(type(exc).__name__)
                else f"{type(exc).__name__}: {exc}"
            )
            log.warning(
                "audit checkpoint not published yet; it is stored and will be retried",
                topic=self.publisher.topic,
                bootstrap=self.publisher.bootstrap,
                error=reason,
            )
            return (), reason

    # --- keeping the verified tree up to date ----------------------------------------------

    def _catch_up(self, latest: SignedCheckpoint | None) -> None:
        self._incidents = incidents.read(
            self.log.rows_of_type(incidents.INCIDENT_TYPE),
            {key_id(self.key): self.key.public_key()},
        )
        if self.tree.size == 0 and latest is not None and latest.tree_size:
            self._adopt_signed_prefix(latest)
        for row in self.log.iter_rows(after=self.tree.size, batch_size=10_000):
            self._add_checked(row)
        if latest is not None:
            if latest.tree_size > self.tree.size:
                raise CheckpointRefused(
                    f"{latest.label} signed {latest.tree_size} entries but the log has "
                    f"{self.tree.size}: entries {self.tree.size + 1}..{latest.tree_size} "
                    "are missing"
                )
            if self.tree.root(latest.tree_size).hex() != latest.root_hash:
                raise CheckpointRefused(
                    f"{latest.label}: the entries no longer give its signed root; "
                    "run `closeloop audit verify`"
                )

    def _check_memory(self, latest: SignedCheckpoint | None) -> None:
        """Never sign a state inconsistent with the last one this signer signed itself."""
        if self.memory is None:
            return
        try:
            last = self.memory.last()
        except SignerMemoryError as exc:
            raise CheckpointRefused(str(exc)) from None
        if last is None:
            return
        if latest is None or latest.number < last.number:
            have = f"the database's latest is {latest.label}" if latest else "it has none"
            raise CheckpointRefused(
                f"this signer signed {last.label}, but {have}: checkpoints were deleted; "
                "run `closeloop audit verify`"
            )
        if self.tree.size < last.tree_size:
            raise CheckpointRefused(
                f"this signer signed {last.label}, but the log has {self.tree.size} entries: "
                f"entries {self.tree.size + 1}..{last.tree_size} are missing"
            )
        if self.tree.root(last.tree_size).hex() != last.root_hash:
            raise CheckpointRefused(
                f"the entries no longer give the root this signer signed in {last.label}: "
                "the log was rewritten; run `closeloop audit verify`"
            )

    def _adopt_signed_prefix(self, latest: SignedCheckpoint) -> None:
        """Trust entries 1..latest.tree_size by their stored hashes iff they give its root."""
        hashes = self.log.entry_hashes(upto=latest.tree_size)
        tree = MerkleTree()
        for expected, (seq, entry_hash) in enumerate(hashes, start=1):
            if seq != expected:
                raise CheckpointRefused(f"entry {expected} missing; run `closeloop audit verify`")
            tree.append(merkle.leaf_hash(canonical.leaf_input(entry_hash)))
        if tree.size == latest.tree_size and tree.root().hex() == latest.root_hash:
            self.tree = tree
            self._head_hash = hashes[-1][1]
        # Otherwise start from nothing: _catch_up rechecks every entry and names the problem.

    def _add_checked(self, row: Sequence[Any]) -> None:
        (seq, complaint_id, entry_type, actor, recorded_at, occurred_at, reason, data,
         idempotency_key, prev_hash, stored_hash) = row  # fmt: skip
        expected = self.tree.size + 1
        if seq != expected:
            raise CheckpointRefused(f"entry {expected} missing; run `closeloop audit verify`")
        if prev_hash != self._head_hash:
            raise CheckpointRefused(
                f"entry {seq}: previous-hash link broken; run `closeloop audit verify`"
            )
        try:
            not_canonical = canonical.non_canonical_reason(data)
        except (ValueError, RecursionError):
            not_canonical = "its data is not JSON"
        known = self._incidents.get(seq)
        acknowledged = known is not None and known.entry_hash == stored_hash
        if not_canonical and not acknowledged:
            raise CheckpointRefused(
                f"entry {seq}: {not_canonical}; run `closeloop audit verify` (after "
                "investigating it, `closeloop audit incident` lets signing go on past it)"
            )
        try:
            recomputed = canonical.stored_entry_hash(
                seq, complaint_id, entry_type, actor, recorded_at, occurred_at,
                reason, data, idempotency_key, prev_hash,
            )  # fmt: skip
        except (ValueError, RecursionError):
            recomputed = stored_hash if acknowledged else ""  # data not JSON: its hash stands
        if recomputed != stored_hash:
            raise CheckpointRefused(f"entry {seq}: hash mismatch; run `closeloop audit verify`")
        self.tree.append(merkle.leaf_hash(canonical.leaf_input(stored_hash)))
        self._head_hash = stored_hash


async def run_periodic(
    checkpointer: Checkpointer, policy: CheckpointPolicy, stop: asyncio.Event
) -> None:
    """Checkpoint every `policy.entries` entries or `policy.interval` seconds until `stop`.

    Runs the database work in a thread so the worker's event loop never blocks. Errors are
    logged and retried on the next tick; they never stop the worker.
    """
    last = time.monotonic()
    refused_until = 0.0
    stopping = False
    while not stopping:  # one more pass after `stop`: sign what is left
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=min(policy.poll, policy.interval))
        stopping = stop.is_set()
        now = time.monotonic()
        due = now - last >= policy.interval
        if now < refused_until and not stopping:
            continue
        try:
            unsigned = await asyncio.to_thread(checkpointer.unsigned_entries)
            if unsigned >= policy.entries or (unsigned > 0 and (due or stopping)):
                await asyncio.to_thread(checkpointer.checkpoint)
                last = time.monotonic()
            elif due:
                last = now
                if checkpointer.publisher is not None:
                    await asyncio.to_thread(checkpointer.publish_pending)
        except CheckpointRefused as refused:
            # Say it once per interval, not on every poll: it needs a person, not a retry.
            log.error("audit log does not verify; not signing it", problem=str(refused))
            refused_until = time.monotonic() + policy.interval
        except Exception:
            log.exception("audit checkpoint failed; retrying on the next tick")
