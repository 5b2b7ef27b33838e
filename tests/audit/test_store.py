"""Appending and reading entries: what is stored is exactly what was hashed."""

from __future__ import annotations

import pytest

from audit import canonical
from audit.store import AuditLog, AuditLogMissing, EntryFilter
from audit.verify import verify_log
from tests.audit.conftest import T0, append_many, new_entry


@pytest.mark.clause("ISO 9001:2015 10.2.2", "21 CFR 11.10(e)")
def test_entries_chain_from_the_genesis_hash(audit_log: AuditLog) -> None:
    first, second = append_many(audit_log, 2)
    assert (first.seq, first.prev_hash) == (1, canonical.GENESIS_HASH)
    assert (second.seq, second.prev_hash) == (2, first.entry_hash)
    assert first.entry_hash == canonical.entry_hash(first.hashed_fields())


@pytest.mark.clause("ISO 10002:2018 8.1")
def test_what_is_read_back_is_what_was_hashed(audit_log: AuditLog) -> None:
    written = audit_log.append(new_entry(2), now=T0)
    (read,) = audit_log.entries()
    assert read == written
    assert read.recorded_at == T0
    assert canonical.entry_hash(read.hashed_fields()) == read.entry_hash


def test_data_is_stored_canonically(audit_log: AuditLog) -> None:
    entry = audit_log.append(new_entry(0).model_copy(update={"data": {"b": 1.0, "a": [2.50, "ü"]}}))
    row = next(iter(audit_log.iter_rows()))
    assert row.data == '{"a":[2.5,"ü"],"b":1}'
    assert entry.data == {"a": [2.5, "ü"], "b": 1}


def test_reading_streams_across_batches(audit_log: AuditLog) -> None:
    append_many(audit_log, 23)
    seqs = [e.seq for e in audit_log.iter_entries(batch_size=5)]
    assert seqs == list(range(1, 24))
    filtered = audit_log.iter_entries(EntryFilter(complaint_id="CMP-1001"), batch_size=2)
    assert [e.seq for e in filtered] == [6, 7, 8, 9, 10]


def test_opening_a_database_without_the_log_is_refused(tmp_path) -> None:
    with pytest.raises(AuditLogMissing, match="the audit tables do not exist"):
        AuditLog.from_url(f"sqlite:///{tmp_path / 'empty.db'}", create=False)


NASTY = [
    'quote " backslash \\ slash /',
    "controls \b\f\n\r\t \x01 \x1f and DEL \x7f",
    "line separators \u2028 \u2029, BOM \ufeff",
    "astral 😀 𝄞, combining é, CJK 漢字, RTL שלום",
]


@pytest.mark.parametrize("text", NASTY)
def test_any_text_is_hashed_the_same_by_every_encoder(audit_log: AuditLog, text: str) -> None:
    """On PostgreSQL the database builds the hash input; Python verification must agree."""
    entry = new_entry(0).model_copy(
        update={"actor": text, "reason": text, "data": {text: [text, 1.5e-7, 2**53 - 1]}}
    )
    written = audit_log.append(entry)
    assert audit_log.get(written.seq) == written
    assert canonical.entry_hash(written.hashed_fields()) == written.entry_hash
    assert verify_log(audit_log, []).ok


def test_a_long_read_never_blocks_appends(audit_log: AuditLog) -> None:
    """An auditor streaming the log (verify, export) while workers keep appending."""
    append_many(audit_log, 30)
    reading = audit_log.iter_rows(batch_size=10)
    next(reading)  # the read is under way
    appended = audit_log.append(new_entry(30))  # would wait for the reader if it held a lock
    assert appended.seq == 31
    assert len(list(reading)) >= 29
