"""The verifier's fast path accepts exactly the rows the full rules accept, no others."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest

from audit import canonical, entry_scan, merkle
from audit.tree import MerkleTree

# Data texts an attacker with database access could store, each hashed as stored.
DATA_TEXTS = [
    '{"channel":"web","step":1}',
    '{"lab":"QA-Lab Nürnberg","score":0.8}',
    '{"tags":["a",{"b":null,"c":true}],"x":false}',
    '{"b":1, "a":2}',  # spacing and order
    '{"b":1,"a":2}',  # order
    '{"decision":"reject","decision":"investigate"}',  # duplicate key
    '{"n":1e-400}',  # a number text that is not its own encoding
    '{"n":1.0}',
    '{"n":0.00001}',
    '{"n":12345678901234567}',  # beyond 2**53
    '{"n":9007199254740991}',  # 2**53 - 1, sixteen digits
    '{"n":-9007199254740992}',
    '{"n":-0}',
    '{"n":NaN}',
    '{"s":"\\u0041"}',
    '{"s":"\\u001f"}',
    '{"s":"\\ud800"}',
    '{"\U0001f600":1,"\ue000":2}',  # UTF-16 order differs from code point order
    '{"\ue000":2,"\U0001f600":1}',
    '{"s":"tab\\there"}',
    '{"a":1} ',
    ' {"a":1}',
    '{"a":1}x',
    "[1,2,3]",
    '"text"',
    "",
    "not json",
    "[" * 5000 + "]" * 5000,
]


def row(seq: int, data_text: Any, prev_hash: str, **changes: Any) -> tuple[Any, ...]:
    fields: dict[str, Any] = {
        "seq": seq, "complaint_id": "CMP-1", "entry_type": "complaint.received",
        "actor": "alice@example.com", "recorded_at": "2026-03-02T08:30:01.000000Z",
        "occurred_at": "2026-03-02T08:30:01.000000Z", "reason": 'Said "hi"\n',
        "data": data_text, "idempotency_key": f"k/{seq}", "prev_hash": prev_hash,
    }  # fmt: skip
    fields.update(changes)
    try:
        stored = hashlib.sha256(_bytes(fields)).hexdigest()
    except (ValueError, TypeError):
        stored = "f" * 64
    return (*fields.values(), stored)


def _bytes(f: dict[str, Any]) -> bytes:
    return canonical.fast_entry_bytes(
        f["seq"], f["complaint_id"], f["entry_type"], f["actor"], f["recorded_at"],
        f["occurred_at"], f["reason"], None, f["idempotency_key"], f["prev_hash"],
        exact_data_text=f["data"],
    )  # fmt: skip


def full_rules_accept(r: tuple[Any, ...]) -> bool:
    data, stored = r[7], r[10]
    try:
        if canonical.non_canonical_reason(data) is not None:
            return False
        fields = dict(zip(canonical.HASHED_FIELDS, r[:10], strict=True))
        return hashlib.sha256(_bytes(fields)).hexdigest() == stored
    except (ValueError, TypeError, RecursionError):
        return False


TYPICAL = DATA_TEXTS[:3]


@pytest.mark.parametrize("data", DATA_TEXTS)
def test_a_row_is_fast_only_where_the_full_rules_accept_it(data: str) -> None:
    r = row(1, data, canonical.GENESIS_HASH)
    (segment,) = entry_scan.scan([r])
    fast = isinstance(segment, entry_scan.Run)
    if fast or data in TYPICAL:  # the rest may take the full rules, which then decide
        assert fast == full_rules_accept(r) is True
    else:
        assert segment == r


@pytest.mark.parametrize(
    "changes",
    [{"actor": 5}, {"reason": b"bytes"}, {"data": 42}],
    ids=["int-actor", "bytes-reason", "int-data"],
)
def test_values_that_are_not_text_take_the_full_rules(changes: dict[str, Any]) -> None:
    r = row(1, '{"a":1}', canonical.GENESIS_HASH, **changes)
    if "data" in changes:
        r = (*r[:10], hashlib.sha256(str(r).encode()).hexdigest())
    assert not isinstance(entry_scan.scan([r])[0], entry_scan.Run)


def test_intact_rows_form_one_run_with_their_leaves() -> None:
    rows, prev = [], canonical.GENESIS_HASH
    for seq in range(1, 6):
        rows.append(row(seq, f'{{"step":{seq}}}', prev))
        prev = rows[-1][-1]
    (run,) = entry_scan.scan(rows)
    assert isinstance(run, entry_scan.Run)
    assert (run.first, run.count, run.last_hash, run.last_prev_hash) == (
        rows[0],
        5,
        rows[4][-1],
        rows[3][-1],
    )
    assert run.leaves == [merkle.leaf_hash(bytes.fromhex(r[-1])) for r in rows]


def test_a_bad_row_or_a_broken_link_ends_a_run() -> None:
    first = row(1, '{"a":1}', canonical.GENESIS_HASH)
    bad = row(2, '{"b":1,"a":2}', first[-1])
    after_bad = row(3, '{"a":3}', bad[-1])
    unlinked = row(4, '{"a":4}', "0" * 64)
    kinds = [
        type(s).__name__ if isinstance(s, entry_scan.Run) else s[0]
        for s in entry_scan.scan([first, bad, after_bad, unlinked])
    ]
    assert kinds == ["Run", 2, "Run", "Run"]


@pytest.mark.parametrize("splits", [[0], [1], [3, 7], [64, 65, 500], [999]])
def test_extending_a_tree_in_batches_gives_the_tree_of_appends(splits: list[int]) -> None:
    leaves = [os.urandom(32) for _ in range(1000)]
    batched, start = MerkleTree(), 0
    for end in [*splits, len(leaves)]:
        batched.extend(leaves[start:end])
        start = end
    one_by_one = MerkleTree(leaves)
    for size in (1, 2, 3, 500, 999, 1000):
        assert batched.root(size) == one_by_one.root(size)
    assert batched.consistency_proof(300, 1000) == one_by_one.consistency_proof(300, 1000)


@pytest.mark.parametrize("seq", [0, -1, 2**53, 2**64])
def test_a_seq_beyond_what_json_holds_takes_the_full_rules(seq: int) -> None:
    one = row(1, '{"a":1}', canonical.GENESIS_HASH)
    fields = dict(zip(canonical.HASHED_FIELDS, one[:10], strict=True))
    text = _bytes(fields).replace(b'"seq":1}', f'"seq":{seq}}}'.encode())
    r = (seq, *one[1:10], hashlib.sha256(text).hexdigest())  # as an attacker would hash it
    assert entry_scan.scan([r]) == [r]
