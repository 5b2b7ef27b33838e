"""The kept state can be interrupted, damaged or outdated: the figures stay right.

A save killed half-way (a real process exit inside the transaction) leaves the state before
it; a file that is not a store, a truncated one, or one of another format is discarded and
the whole log folded again.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from pathlib import Path

import pytest

from audit.store import AuditLog
from kpi import service, store
from kpi.ledger import cache_path
from tests.kpi.builder import LogBuilder, at
from tests.kpi.test_incremental import add_one_of_every_kind, fresh, table

VIEWS: list[dict[str, object]] = [{}, {"by": ["month"]}, {"by": ["product", "category"]}]


def kept_then_more(story: LogBuilder, log: AuditLog, home: Path) -> int:
    """Keep the state and some views, then append entries; returns how many."""
    first, _ = service.from_log(log, home, label="test")
    for view in VIEWS:
        table(first, **view)
    first.store.close()  # type: ignore[union-attr]
    return add_one_of_every_kind(story)


def crash_in(target: str, url: str, home: Path) -> None:
    """In a child process: compute from the log and exit hard when `target` is called."""

    def die(*_args: object, **_kwargs: object) -> None:
        os._exit(7)

    module, name = target.rsplit(".", 1)
    if module == "Store":
        setattr(store.Store, name, die)
    else:
        setattr(store, name, die)
    log = AuditLog.from_url(url, create=False)
    service.from_log(log, home, label="test")
    os._exit(0)  # not reached if the crash happened


def run_and_crash(target: str, log: AuditLog, home: Path) -> None:
    child = multiprocessing.get_context("fork").Process(
        target=crash_in, args=(target, log.engine.url.render_as_string(False), home)
    )
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 7  # it died inside the save


def same_as_fresh(log: AuditLog, home: Path) -> int:
    again, _ = service.from_log(log, home, label="test")
    whole = fresh(log)
    for view in VIEWS:
        assert table(again, **view) == table(whole, **view), view
    return again.folded_now


def test_a_save_killed_half_way_leaves_the_state_before_it(
    story: LogBuilder, log: AuditLog, tmp_path: Path
) -> None:
    added = kept_then_more(story, log, tmp_path)
    # Dies after the complaints and the meta row are written, while writing the aggregates.
    run_and_crash("Store.put_view", log, tmp_path)
    assert same_as_fresh(log, tmp_path) == added  # the new entries are new again: rolled back


def test_a_first_save_killed_half_way_leaves_no_half_built_store(
    story: LogBuilder, log: AuditLog, tmp_path: Path
) -> None:
    run_and_crash("store._flush", log, tmp_path)
    assert not cache_path(tmp_path, "test").exists()
    assert same_as_fresh(log, tmp_path) == log.count()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other format"])
def test_a_damaged_or_outdated_store_is_refolded_from_the_log(
    story: LogBuilder, log: AuditLog, tmp_path: Path, damage: str
) -> None:
    kept_then_more(story, log, tmp_path)
    path = cache_path(tmp_path, "test")
    if damage == "garbage":
        path.write_bytes(b"not a store " * 1000)
    elif damage == "truncated":
        with sqlite3.connect(path) as db:  # everything in the main file first
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        with sqlite3.connect(path) as db:
            db.execute("UPDATE meta SET format = format - 1")
    assert same_as_fresh(log, tmp_path) == log.count()  # everything folded again


def test_a_rebuilt_log_is_noticed_and_refolded(log: AuditLog, tmp_path: Path) -> None:
    b = LogBuilder(log)
    b.received("A", at("2026-07-01T00:00"))
    service.from_log(log, tmp_path, label="test")
    other = AuditLog.from_url(f"sqlite:///{tmp_path / 'other.db'}")
    LogBuilder(other).received("B", at("2026-07-02T00:00"), product="kettle")
    again, _ = service.from_log(other, tmp_path, label="test")  # same label, other log
    assert again.folded_now == 1
    assert table(again, by=["product"]) == table(fresh(other), by=["product"])
    other.dispose()
