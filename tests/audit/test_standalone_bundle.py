"""The bundle's verify.py trusts nothing in the bundle it can be handed, and a bundle proves
it is complete (issue 11, attack 6, and "a bundle must prove it is complete").

Each case runs on SQLite and on PostgreSQL: 20 entries, checkpoints after 10 and 20. The
auditor holds the public key from a second channel (outside the bundle).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.export import export_bundle
from audit.signing import public_key_pem
from audit.store import AuditLog, EntryFilter
from tests.audit.conftest import append_many, checkpoint, load_standalone


@pytest.fixture
def signed(audit_log: AuditLog, key: Ed25519PrivateKey) -> AuditLog:
    append_many(audit_log, 10)
    checkpoint(audit_log, key)
    append_many(audit_log, 10, start=10)
    checkpoint(audit_log, key)
    return audit_log


@pytest.fixture
def key_file(key: Ed25519PrivateKey, tmp_path: Path) -> Path:
    path = tmp_path / "from-the-signer.pem"
    path.write_bytes(public_key_pem(key))
    return path


def verify_py(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "verify.py", "--quiet", *args],
        cwd=bundle,
        capture_output=True,
        text=True,
        timeout=300,
    )


def bundle_of(log: AuditLog, key: Ed25519PrivateKey, out: Path, **filters: str) -> Path:
    export_bundle(log, out, key.public_key(), EntryFilter(**filters))  # type: ignore[arg-type]
    return out


def said(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout + result.stderr


# --- whose key -----------------------------------------------------------------------------


def test_without_a_trusted_key_only_internal_consistency_is_proven(
    signed: AuditLog, key: Ed25519PrivateKey, key_file: Path, tmp_path: Path
) -> None:
    bundle = bundle_of(signed, key, tmp_path / "b")
    untrusted = verify_py(bundle)
    assert untrusted.returncode == 2
    assert "only internal consistency" in said(untrusted)
    accepted = verify_py(bundle, "--internal-consistency-only")
    assert accepted.returncode == 0 and "internally consistent" in said(accepted)
    trusted = verify_py(bundle, "--public-key", str(key_file))
    assert trusted.returncode == 0 and "internal" not in said(trusted)


def test_a_bundle_resigned_with_another_key_fails_against_the_trusted_key(
    signed: AuditLog, key: Ed25519PrivateKey, key_file: Path, tmp_path: Path
) -> None:
    impostor = Ed25519PrivateKey.generate()
    bundle = tmp_path / "b"
    export_bundle(signed, bundle, impostor.public_key())  # ships the impostor's key
    assert verify_py(bundle, "--public-key", str(key_file)).returncode == 0
    assert verify_py(bundle, "--internal-consistency-only").returncode == 1  # not its signer


# --- complete bundles ----------------------------------------------------------------------


def _edit_lines(path: Path, edit: Callable[[list[str]], list[str]]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("".join(f"{line}\n" for line in edit(lines)), encoding="utf-8")


EDITS: dict[str, tuple[str, Callable[[list[str]], list[str]], str]] = {
    "one entry deleted": (
        "entries.jsonl", lambda lines: lines[:6] + lines[7:],
        "entry 7 missing from entries.jsonl: an unfiltered export holds every entry",
    ),
    "the tail deleted": (
        "entries.jsonl", lambda lines: lines[:15],
        "entries 16..20 missing from entries.jsonl",
    ),
    "an entry duplicated": (
        "entries.jsonl", lambda lines: [*lines[:5], lines[4], *lines[5:]],
        "entry 5: exported twice in entries.jsonl",
    ),
    "two entries swapped": (
        "entries.jsonl", lambda lines: [*lines[:8], lines[9], lines[8], *lines[10:]],
        "entry 9: out of order in entries.jsonl (after 10)",
    ),
    "checkpoints emptied": (
        "checkpoints.jsonl", lambda lines: [],
        "checkpoints.jsonl holds 0 checkpoints but the manifest says 2",
    ),
    "the latest checkpoint dropped": (
        "checkpoints.jsonl", lambda lines: lines[:1],
        "checkpoints.jsonl holds 1 checkpoints but the manifest says 2",
    ),
}  # fmt: skip


@pytest.mark.parametrize("edit", EDITS)
def test_an_edited_unfiltered_bundle_fails_naming_what_is_wrong(
    signed: AuditLog, key: Ed25519PrivateKey, key_file: Path, tmp_path: Path, edit: str
) -> None:
    name, change, finding = EDITS[edit]
    bundle = bundle_of(signed, key, tmp_path / "b")
    _edit_lines(bundle / name, change)
    result = verify_py(bundle, "--public-key", str(key_file))
    assert result.returncode == 1, said(result)
    assert finding in said(result)


def test_an_extra_entry_not_in_the_chain_fails(
    signed: AuditLog, key: Ed25519PrivateKey, key_file: Path, tmp_path: Path
) -> None:
    bundle = bundle_of(signed, key, tmp_path / "b")

    def add(lines: list[str]) -> list[str]:
        extra = json.loads(lines[-1]) | {"seq": 21, "reason": "invented"}
        return [*lines, json.dumps(extra)]

    _edit_lines(bundle / "entries.jsonl", add)
    result = verify_py(bundle, "--public-key", str(key_file))
    assert result.returncode == 1
    assert "entry 21" in said(result)


def test_a_filtered_bundle_states_its_filter_and_proves_each_entry(
    signed: AuditLog, key: Ed25519PrivateKey, key_file: Path, tmp_path: Path
) -> None:
    bundle = bundle_of(signed, key, tmp_path / "b", entry_type="complaint.triaged")
    result = verify_py(bundle, "--public-key", str(key_file))
    assert result.returncode == 0, said(result)
    assert "filtered export (entry_type=complaint.triaged): 4 entries shown in full" in said(result)
    (bundle / "proofs" / "inclusion.jsonl").unlink()
    unproven = verify_py(bundle, "--public-key", str(key_file))
    assert unproven.returncode == 1
    assert "a filtered export proves each entry by inclusion" in said(unproven)


def test_an_older_bundle_fails_against_a_later_witnessed_checkpoint(
    audit_log: AuditLog, key: Ed25519PrivateKey, key_file: Path, tmp_path: Path
) -> None:
    """A truncated tail with the later checkpoints dropped and the proofs regenerated is the
    bundle of an older log: only a checkpoint the auditor kept can tell (--witness)."""
    append_many(audit_log, 10)
    checkpoint(audit_log, key)
    old = bundle_of(audit_log, key, tmp_path / "old")
    append_many(audit_log, 10, start=10)
    checkpoint(audit_log, key)
    later = bundle_of(audit_log, key, tmp_path / "later")
    assert verify_py(old, "--public-key", str(key_file)).returncode == 0  # alone: fine
    witnessed = verify_py(
        old, "--public-key", str(key_file), "--witness", str(later / "checkpoints.jsonl")
    )
    assert witnessed.returncode == 1
    assert "entries 11..20 missing: witnessed checkpoint 2 (size 20)" in said(witnessed)
    agreeing = verify_py(
        later, "--public-key", str(key_file), "--witness", str(old / "checkpoints.jsonl")
    )
    assert agreeing.returncode == 0, said(agreeing)


# --- malformed input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("entries.jsonl", "[" * 100_000 + "\n"),
        ("checkpoints.jsonl", "{" * 100_000 + "\n"),
        ("manifest.json", "[" * 100_000),
        ("manifest.json", "{}"),
        ("chain.txt", "1 two three four\n"),
        ("entries.jsonl", "\udcff".encode("utf-8", "surrogateescape").decode("latin-1")),
    ],
)
def test_malformed_files_are_exit_2_never_a_traceback(
    signed: AuditLog, key: Ed25519PrivateKey, key_file: Path, tmp_path: Path, name: str, text: str
) -> None:
    bundle = bundle_of(signed, key, tmp_path / "b")
    (bundle / name).write_bytes(text.encode("latin-1") if "\xff" in text else text.encode())
    result = verify_py(bundle, "--public-key", str(key_file))
    assert result.returncode == 2, said(result)
    assert said(result).startswith("error: ") or "error: " in said(result)


def test_a_malformed_witness_file_is_exit_2(
    signed: AuditLog, key: Ed25519PrivateKey, key_file: Path, tmp_path: Path
) -> None:
    bundle = bundle_of(signed, key, tmp_path / "b")
    witness = tmp_path / "w.jsonl"
    witness.write_text('{"number": 1, "signature": "zz"}\n')
    result = verify_py(bundle, "--public-key", str(key_file), "--witness", str(witness))
    assert result.returncode == 2 and "is not a checkpoint" in said(result)


@pytest.mark.parametrize(
    "data",
    [
        '{"a":1,"b":"Nürnberg"}',
        '{"n":12345678901234567}',
        '{"n":9007199254740991}',
        '{"n":1.0}',
        '{"n":0.5}',
        '{"n":1e-7}',
        '{"s":"\\u00e9"}',
        '{"\U0001f600":1,"\ue000":2}',
    ],
)
def test_the_fast_encoder_hashes_lines_as_the_full_one_or_leaves_them_to_it(data: str) -> None:
    verifier = load_standalone()
    line = (
        '{"seq":3,"complaint_id":"CMP-1","entry_type":"t","actor":"a","recorded_at":"r",'
        f'"occurred_at":"o","reason":"x","data":{data},"idempotency_key":"k",'
        '"prev_hash":"p","entry_hash":"h"}\n'
    )
    entry, simple = verifier.read_entry(line)
    try:
        full = verifier.entry_hash(entry, simple=False)
    except ValueError:
        assert not simple  # beyond what JSON numbers hold: only the full encoder says so
        return
    assert verifier.entry_hash(entry, simple=simple) == full
