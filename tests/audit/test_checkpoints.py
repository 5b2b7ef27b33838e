"""Signed checkpoints: made on demand, every N entries and every T seconds; never of a log
that does not verify; stored even when the broker is down, and published to
`audit.checkpoints.v1` for witnesses on a real Kafka broker (Tansu)."""

from __future__ import annotations

import asyncio
import contextlib
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import keys
from audit.checkpointer import (
    Checkpointer,
    CheckpointPolicy,
    CheckpointRefused,
    run_periodic,
)
from audit.checkpoints import SignedCheckpoint
from audit.publish import CheckpointPublisher
from audit.signing import key_id, private_key_pem, verify_checkpoint_signature
from audit.store import AuditLog
from base.settings import Settings
from closeloop.checkpointing import from_settings
from schemas.contract import validator_for
from schemas.topics import AUDIT_CHECKPOINTS
from tests.audit.conftest import append_many, bypassing_triggers, verify
from tests.tansu import free_port, published, tansu

# --- on demand ------------------------------------------------------------------------------


def test_a_checkpoint_signs_the_whole_log(audit_log: AuditLog, key: Ed25519PrivateKey) -> None:
    append_many(audit_log, 7)
    result = Checkpointer(audit_log, key).checkpoint()

    made = result.checkpoint
    assert made is not None and made.number == 1 and made.tree_size == 7
    assert audit_log.checkpoints() == [made]
    verify_checkpoint_signature(key.public_key(), made.checkpoint, made.signature)
    assert verify(audit_log, key).root_hash == made.root_hash


def test_nothing_new_means_no_new_checkpoint_unless_forced(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    checkpointer = Checkpointer(audit_log, key)
    assert checkpointer.checkpoint().checkpoint is None  # empty log: nothing to sign
    append_many(audit_log, 3)
    first = checkpointer.checkpoint().checkpoint
    again = checkpointer.checkpoint()
    forced = checkpointer.checkpoint(force=True).checkpoint

    assert again.checkpoint is None and again.latest == first
    assert forced is not None and forced.number == 2 and forced.tree_size == 3
    assert forced.root_hash == first.root_hash  # type: ignore[union-attr]
    assert verify(audit_log, key).ok


def test_a_new_checkpointer_continues_from_the_signed_prefix(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    append_many(audit_log, 5)
    Checkpointer(audit_log, key).checkpoint()
    append_many(audit_log, 5, start=5)
    made = Checkpointer(audit_log, key).checkpoint().checkpoint  # a restarted worker

    assert made is not None and (made.number, made.tree_size) == (2, 10)
    report = verify(audit_log, key)
    assert report.ok and report.consistency_proofs == 1


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_tampered_log_is_never_signed(
    audit_log: AuditLog, key: Ed25519PrivateKey, where: str
) -> None:
    """Whether the change hides below the last checkpoint or in the new entries."""
    append_many(audit_log, 5)
    Checkpointer(audit_log, key).checkpoint()
    append_many(audit_log, 5, start=5)
    seq = 3 if where == "before" else 8
    with bypassing_triggers(audit_log) as connection:
        connection.exec_driver_sql(
            f"UPDATE audit_entries SET reason = 'x', entry_hash = '{'0' * 64}' WHERE seq = {seq}"
        )

    with pytest.raises(CheckpointRefused, match=f"entry {seq}: hash mismatch"):
        Checkpointer(audit_log, key).checkpoint()
    assert len(audit_log.checkpoints()) == 1


def test_concurrent_checkpointers_never_repeat_or_shrink(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    append_many(audit_log, 4)
    first, second = Checkpointer(audit_log, key), Checkpointer(audit_log, key)
    assert first.checkpoint().checkpoint is not None
    assert second.checkpoint().checkpoint is None
    assert [cp.number for cp in audit_log.checkpoints()] == [1]


# --- periodic, in the worker -------------------------------------------------------------------


async def _run_until(
    checkpointer: Checkpointer, policy: CheckpointPolicy, done: object, timeout: float = 20
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run_periodic(checkpointer, policy, stop))
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:  # type: ignore[operator]
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=30)


async def test_the_worker_checkpoints_after_every_n_entries(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    policy = CheckpointPolicy(interval=3600, entries=5, poll=0.05)
    checkpointer = Checkpointer(audit_log, key)
    append_many(audit_log, 5)
    await _run_until(checkpointer, policy, lambda: audit_log.latest_checkpoint() is not None)
    assert [cp.tree_size for cp in audit_log.checkpoints()] == [5]


async def test_the_worker_checkpoints_when_the_interval_passes(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    policy = CheckpointPolicy(interval=0.3, entries=1000, poll=0.05)
    checkpointer = Checkpointer(audit_log, key)
    append_many(audit_log, 2)
    started = time.monotonic()
    await _run_until(checkpointer, policy, lambda: audit_log.latest_checkpoint() is not None)
    assert audit_log.latest_checkpoint().tree_size == 2  # type: ignore[union-attr]
    assert time.monotonic() - started >= 0.3


async def test_the_worker_signs_what_is_left_when_it_stops(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    policy = CheckpointPolicy(interval=3600, entries=1000, poll=0.05)
    append_many(audit_log, 3)
    await _run_until(Checkpointer(audit_log, key), policy, lambda: True)
    assert audit_log.latest_checkpoint().tree_size == 3  # type: ignore[union-attr]


# --- the key ------------------------------------------------------------------------------------


def test_the_key_is_created_on_first_use_under_closeloop_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.db'}")
    log = AuditLog.from_url(settings.resolved_database_url)
    assert keys.signing_key(None, tmp_path, create=False) is None

    checkpointer, policy = from_settings(log, settings)

    path = tmp_path / "keys" / "audit-signing-key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_id(keys.signing_key(None, tmp_path, create=False)) == key_id(checkpointer.key)  # type: ignore[arg-type]
    assert (policy.interval, policy.entries) == (60.0, 1000)  # the documented defaults


def test_the_workers_checkpointer_remembers_what_it_signed_beside_its_key(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.db'}")
    log = AuditLog.from_url(settings.resolved_database_url)
    append_many(log, 3)
    checkpointer, _ = from_settings(log, settings)
    made = checkpointer.checkpoint().checkpoint
    assert checkpointer.memory is not None and made is not None
    assert checkpointer.memory.path == (
        tmp_path / "keys" / f"audit-signer-{key_id(checkpointer.key)}.json"
    )
    assert checkpointer.memory.last() == made


def test_the_key_can_come_from_configuration_as_pem_or_path(
    tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    pem = private_key_pem(key).decode()
    path = tmp_path / "key.pem"
    path.write_text(pem)

    assert key_id(keys.signing_key(pem, tmp_path, create=True)) == key_id(key)  # type: ignore[arg-type]
    assert key_id(keys.signing_key(str(path), tmp_path, create=True)) == key_id(key)  # type: ignore[arg-type]
    assert not (tmp_path / "keys").exists()  # a configured key never creates another
    with pytest.raises(keys.KeyConfigError, match="does not exist"):
        keys.signing_key(str(tmp_path / "missing.pem"), tmp_path, create=True)


def test_settings_never_show_the_key(key: Ed25519PrivateKey) -> None:
    pem = private_key_pem(key).decode()
    assert "PRIVATE" not in repr(Settings(audit_signing_key=pem))


# --- publishing -------------------------------------------------------------------------------


def _tansu(port: int) -> contextlib.AbstractContextManager[str]:
    """A real Tansu broker on `port` with the checkpoint topic (its data lives in memory)."""
    return tansu(port, AUDIT_CHECKPOINTS)


@pytest.fixture(scope="module")
def kafka_bootstrap() -> Iterator[str]:
    with _tansu(free_port()) as bootstrap:
        yield bootstrap


def _published(bootstrap: str) -> list[tuple[bytes, dict[str, object]]]:
    return published(bootstrap, AUDIT_CHECKPOINTS)


def test_checkpoints_are_published_for_witnesses(
    audit_log: AuditLog, key: Ed25519PrivateKey, kafka_bootstrap: str
) -> None:
    before = len(_published(kafka_bootstrap))
    append_many(audit_log, 4)
    publisher = CheckpointPublisher(kafka_bootstrap)
    result = Checkpointer(audit_log, key, publisher=publisher).checkpoint()

    assert result.publish_error is None and len(result.published) == 1
    assert audit_log.unpublished_checkpoints() == []
    messages = _published(kafka_bootstrap)[before:]
    assert len(messages) == 1
    message_key, event = messages[0]
    assert message_key == key_id(key).encode()
    assert list(validator_for(AUDIT_CHECKPOINTS).iter_errors(event)) == []
    witnessed = SignedCheckpoint.from_json(event)
    assert witnessed == result.checkpoint
    verify_checkpoint_signature(key.public_key(), witnessed.checkpoint, witnessed.signature)


def test_a_broker_outage_keeps_the_checkpoint_and_publishes_it_later(
    audit_log: AuditLog, key: Ed25519PrivateKey, kafka_bootstrap: str
) -> None:
    append_many(audit_log, 2)
    down = CheckpointPublisher(f"127.0.0.1:{free_port()}", timeout=1.0)
    result = Checkpointer(audit_log, key, publisher=down).checkpoint()

    assert result.checkpoint is not None  # stored and signed all the same
    assert result.publish_error and "bootstrap" in result.publish_error.lower()
    assert audit_log.unpublished_checkpoints() == [result.checkpoint]

    before = len(_published(kafka_bootstrap))
    up = Checkpointer(audit_log, key, publisher=CheckpointPublisher(kafka_bootstrap))
    later = up.checkpoint()  # nothing new to sign, but the pending one goes out

    assert later.checkpoint is None
    assert [p.number for p in later.published] == [result.checkpoint.number]
    assert audit_log.unpublished_checkpoints() == []
    assert len(_published(kafka_bootstrap)) == before + 1


def test_the_worker_settings_publish_to_the_configured_broker(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'a.db'}",
        kafka_bootstrap=kafka_bootstrap,
    )
    log = AuditLog.from_url(settings.resolved_database_url)
    append_many(log, 1)
    checkpointer, _ = from_settings(log, settings)
    assert checkpointer.checkpoint().published
    quiet = Settings(home=tmp_path, audit_publish_checkpoints=False)
    assert from_settings(log, quiet)[0].publisher is None


def test_checkpoints_a_restarted_broker_lost_are_published_again(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    """Issue 11, attack 8: a witness that joins after a broker restart still gets them all."""
    port = free_port()
    with _tansu(port) as bootstrap:
        checkpointer = Checkpointer(audit_log, key, publisher=CheckpointPublisher(bootstrap))
        append_many(audit_log, 3)
        checkpointer.checkpoint()
        append_many(audit_log, 3, start=3)
        checkpointer.checkpoint()
        assert [e["number"] for _, e in _published(bootstrap)] == [1, 2]
    with _tansu(port) as bootstrap:  # restarted: memory only, the topic is empty again
        assert _published(bootstrap) == []
        restarted = Checkpointer(audit_log, key, publisher=CheckpointPublisher(bootstrap))
        result = restarted.checkpoint()  # nothing new to sign; the lost ones go out again
        assert result.publish_error is None
        assert [e["number"] for _, e in _published(bootstrap)] == [1, 2]
        again = Checkpointer(audit_log, key, publisher=CheckpointPublisher(bootstrap))
        assert again.checkpoint().published == ()  # the broker has them now: no repeats
        assert [e["number"] for _, e in _published(bootstrap)] == [1, 2]
