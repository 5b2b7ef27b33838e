"""Export bundles and the standalone verifier an auditor runs on their own machine."""

from __future__ import annotations

import ast
import csv
import json
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import export
from audit.export import BundleExists, export_bundle
from audit.signing import key_id, public_key_pem
from audit.store import AuditLog, EntryFilter
from tests.audit.conftest import STANDALONE, append_many, checkpoint, new_entry, run_standalone

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def log(sqlite_url: str, key: Ed25519PrivateKey) -> AuditLog:
    """Exports read what every database returns alike; one database is enough here."""
    audit_log = AuditLog.from_url(sqlite_url)
    append_many(audit_log, 12)
    checkpoint(audit_log, key)
    append_many(audit_log, 8, start=12)
    checkpoint(audit_log, key)
    return audit_log


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.mark.clause("21 CFR 11.10(b)", "ISO 10002:2018 8.5")
def test_a_complete_bundle_holds_everything_and_verifies(
    log: AuditLog, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    result = export_bundle(log, bundle, key.public_key())

    assert sorted(p.name for p in bundle.iterdir()) == [
        "README.txt", "chain.txt", "checkpoints.jsonl", "compliance.json", "compliance.md",
        "entries.csv", "entries.jsonl", "manifest.json", "proofs", "public_key.pem",
        "qmsr-records.jsonl", "verify.py",
    ]  # fmt: skip
    assert (result.entries, result.log_size, result.checkpoints) == (20, 20, 2)
    assert len(_lines(bundle / "entries.jsonl")) == len(_lines(bundle / "chain.txt")) == 20
    assert len(_lines(bundle / "proofs" / "inclusion.jsonl")) == 20
    assert len(_lines(bundle / "proofs" / "consistency.jsonl")) == 1
    assert (bundle / "public_key.pem").read_bytes() == public_key_pem(key)
    assert key_id(key) in (bundle / "README.txt").read_text()
    matrix = (bundle / "compliance.md").read_text(encoding="utf-8")
    assert matrix == (REPO / "docs" / "compliance.md").read_text(encoding="utf-8")
    entry = json.loads(_lines(bundle / "entries.jsonl")[3])
    assert entry == log.entries()[3].hashed_fields() | {"entry_hash": log.entries()[3].entry_hash}

    verified = run_standalone(bundle)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "OK: 20 entries intact; 2 checkpoints valid, latest checkpoint 2 (size 20)" in (
        verified.stdout
    )


def test_a_filtered_bundle_proves_its_entries_against_the_whole_signed_log(
    log: AuditLog, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    result = export_bundle(log, bundle, key.public_key(), EntryFilter(complaint_id="CMP-1001"))

    seqs = [json.loads(line)["seq"] for line in _lines(bundle / "entries.jsonl")]
    assert seqs == [6, 7, 8, 9, 10] and result.entries == 5
    assert len(_lines(bundle / "chain.txt")) == 20
    assert [json.loads(p)["seq"] for p in _lines(bundle / "proofs" / "inclusion.jsonl")] == seqs
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["filters"] == {"complaint_id": "CMP-1001"}
    verified = run_standalone(bundle, "--json")
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["inclusion_proofs"] == 5


def test_the_csv_opens_safely_in_a_spreadsheet(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    audit_log = AuditLog.from_url(f"sqlite:///{tmp_path / 'a.db'}")
    hostile = new_entry(0).model_copy(update={"reason": '=HYPERLINK("http://x","y")'})
    audit_log.append(hostile)
    export_bundle(audit_log, tmp_path / "b", key.public_key())

    with (tmp_path / "b" / "entries.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["reason"] == '\'=HYPERLINK("http://x","y")'
    assert json.loads(rows[0]["data"])["summary"] == "Mixer jar cracked — glass in food"


TAMPERED_BUNDLES = {
    "entry edited": ("entries.jsonl", lambda lines: _edit(lines, 4, reason="Minor"), 5,
                     "entry 5: hash mismatch"),
    "chain line removed": ("chain.txt", lambda lines: lines[:9] + lines[10:], 10,
                           "entry 10 missing (gap between 9 and 11)"),
    "inclusion proof corrupted": ("proofs/inclusion.jsonl", lambda lines: _corrupt_proof(lines),
                                  3, "entry 3: inclusion proof in checkpoint 2 (size 20)"),
}  # fmt: skip


def _edit(lines: list[str], index: int, **changes: object) -> list[str]:
    lines[index] = json.dumps({**json.loads(lines[index]), **changes})
    return lines


def _corrupt_proof(lines: list[str]) -> list[str]:
    proof = json.loads(lines[2])
    proof["proof"][0] = "00" * 32
    lines[2] = json.dumps(proof)
    return lines


@pytest.mark.parametrize("case", TAMPERED_BUNDLES.values(), ids=TAMPERED_BUNDLES.keys())
def test_the_standalone_verifier_catches_an_edited_bundle(
    log: AuditLog, key: Ed25519PrivateKey, tmp_path: Path, case: tuple[object, ...]
) -> None:
    name, change, seq, says = case
    bundle = tmp_path / "bundle"
    export_bundle(log, bundle, key.public_key())
    path = bundle / str(name)
    path.write_text("\n".join(change(_lines(path))) + "\n", encoding="utf-8")  # type: ignore[operator]

    verified = run_standalone(bundle, "--json")

    assert verified.returncode == 1, verified.stdout + verified.stderr
    result = json.loads(verified.stdout)
    assert result["first_bad_seq"] == seq
    assert says in result["summary"]


def test_the_auditors_own_public_key_wins_over_the_bundles(
    log: AuditLog, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    """A bundle re-signed with a forger's key (and its public key) fails against the real one."""
    forger = Ed25519PrivateKey.generate()
    bundle = tmp_path / "bundle"
    export_bundle(log, bundle, forger.public_key())  # the bundle ships the wrong key
    real = tmp_path / "real.pem"
    real.write_bytes(public_key_pem(key))

    assert run_standalone(bundle).returncode == 1  # checkpoints not signed by the shipped key
    assert run_standalone(bundle, "--public-key", str(real)).returncode == 0


def test_an_unreadable_bundle_is_a_usage_error(
    log: AuditLog, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    export_bundle(log, bundle, key.public_key())
    (bundle / "checkpoints.jsonl").unlink()
    verified = run_standalone(bundle)
    assert verified.returncode == 2
    assert "checkpoints.jsonl is missing" in verified.stderr


def test_large_complete_exports_leave_inclusion_proofs_to_the_recomputed_tree(
    log: AuditLog, key: Ed25519PrivateKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "MAX_UNFILTERED_PROOFS", 10)
    result = export_bundle(log, tmp_path / "b", key.public_key())
    assert result.inclusion_proofs == 0
    assert not (tmp_path / "b" / "proofs" / "inclusion.jsonl").exists()
    assert run_standalone(tmp_path / "b").returncode == 0


def test_exports_never_overwrite_a_folder(
    log: AuditLog, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "evidence.txt").write_text("keep me")
    with pytest.raises(BundleExists):
        export_bundle(log, tmp_path / "b", key.public_key())


def test_the_standalone_verifier_needs_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(STANDALONE.read_text(), feature_version=(3, 8))  # runs on Python 3.8+
    imported = {
        ((node.module or "") if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}
