"""Checkpoints as C2SP signed notes: what standard transparency tools and witnesses read.

The format is checked three ways: against the examples of the C2SP specifications
themselves, against an independent parser (sigstore-python's signed-note reader), and
end to end through both of Closeloop's verifiers, which must refuse an altered note.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sigstore._internal.rekor import checkpoint as sigstore_checkpoint
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from audit import note
from audit.export import export_bundle
from audit.signing import public_key_pem
from audit.store import AuditLog, EntryFilter
from audit.tlog_checkpoint import (
    TreeHead,
    default_origin,
    open_checkpoint,
    sign_tree_head,
    signed_note,
)
from tests.audit.conftest import append_many, bypassing_triggers, checkpoint, verify

# c2sp.org/signed-note, "Verifier keys: Example": this vkey verifies this note.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOB"
    "H3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# c2sp.org/tlog-checkpoint, its opening example (the spec gives no key for it).
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URY"
    "N7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


# --- the specifications' own examples ------------------------------------------------------


def test_the_signed_note_spec_example_verifies_with_its_verifier_key() -> None:
    verifier = note.Verifier.from_vkey(SPEC_VKEY)
    assert verifier.verifies(note.parse(SPEC_NOTE))


def test_an_altered_spec_example_is_refused() -> None:
    verifier = note.Verifier.from_vkey(SPEC_VKEY)
    with pytest.raises(note.NoteError, match="invalid"):
        verifier.verifies(note.parse(SPEC_NOTE.replace("an example", "a forged")))


def test_the_tlog_checkpoint_spec_example_parses_into_origin_size_and_root() -> None:
    parsed = note.parse(SPEC_CHECKPOINT)
    head = TreeHead.from_text(parsed.text)
    assert head.origin == "example.com/behind-the-sofa"
    assert head.tree_size == 20852163
    assert head.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert parsed.signatures[0].name == "example.com/behind-the-sofa"
    assert parsed.encode() == SPEC_CHECKPOINT  # parsing loses nothing


def test_our_vkey_encoding_matches_the_spec_for_the_spec_key() -> None:
    verifier = note.Verifier.from_vkey(SPEC_VKEY)
    assert note.vkey(verifier.name, verifier.public_key) == SPEC_VKEY


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("no signatures\n", "no blank line"),
        ("text\n\n", "must end in a newline"),
        ("text\n\n- example.com/foo AAAA\n", "em dash"),
        ("text\n\n\u2014 example.com/foo not-base64!\n", "not base64"),
        ("text\n\n\u2014 example.com/foo AAAA\n", "too short"),
        ("text\n\n\u2014 example.com/foo\n", "no signature after"),
    ],
)
def test_malformed_notes_are_refused_with_the_reason(bad: str, reason: str) -> None:
    with pytest.raises(note.NoteError, match=reason):
        note.parse(bad)


@pytest.mark.parametrize("name", ["", "has space", "plus+sign"])
def test_key_names_with_spaces_or_plus_cannot_sign(name: str) -> None:
    with pytest.raises(note.NoteError, match="key name"):
        note.sign("text\n", name, Ed25519PrivateKey.generate())


def test_a_vkey_whose_id_does_not_match_its_key_is_refused() -> None:
    name, _, key = SPEC_VKEY.split("+")
    with pytest.raises(note.NoteError, match="does not match"):
        note.Verifier.from_vkey(f"{name}+00000000+{key}")


# --- the notes Closeloop signs -------------------------------------------------------------


def test_every_new_checkpoint_carries_a_note_signed_by_the_log_key(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    append_many(audit_log, 7)
    made = checkpoint(audit_log, key)
    assert made.note is not None
    log_key = note.Verifier(default_origin(key), key.public_key())
    head, _ = open_checkpoint(made.note, log_key)
    assert (head.tree_size, head.root.hex()) == (7, made.root_hash)
    stored = audit_log.latest_checkpoint()
    assert stored is not None and stored.note == made.note
    assert stored.to_json()["note"] == made.note  # published and exported with it
    assert verify(audit_log, key).ok


def test_an_independent_parser_reads_our_notes() -> None:
    """sigstore-python's reader of Rekor's signed notes, written without our code."""
    key = Ed25519PrivateKey.generate()
    head = TreeHead("closeloop.audit/test", 42, bytes(range(32)))
    theirs = sigstore_checkpoint.SignedCheckpoint.from_text(
        signed_note(head, (sign_tree_head(head, key),))
    )
    assert theirs.checkpoint.origin == "closeloop.audit/test"
    assert theirs.checkpoint.log_size == 42
    assert theirs.checkpoint.log_hash == bytes(range(32)).hex()
    (signature,) = theirs.signed_note.signatures
    assert signature.name == "closeloop.audit/test"
    assert signature.sig_hash == note.ed25519_key_id("closeloop.audit/test", key.public_key())
    key.public_key().verify(base64.b64decode(signature.signature), theirs.signed_note.note.encode())


def test_a_note_that_disagrees_with_its_checkpoint_fails_verification(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    append_many(audit_log, 5)
    made = checkpoint(audit_log, key)
    assert made.note is not None
    forged = made.note.replace("\n5\n", "\n4\n", 1)
    with bypassing_triggers(audit_log) as connection:
        connection.execute(text("UPDATE audit_checkpoint_notes SET note = :note"), {"note": forged})
    report = verify(audit_log, key)
    assert any(
        "checkpoint 1 (size 5): its C2SP note" in str(problem) for problem in report.problems
    ), report.problems


def test_a_note_cannot_be_added_to_an_older_checkpoint(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    append_many(audit_log, 3)
    checkpoint(audit_log, key)
    append_many(audit_log, 3, start=3)
    checkpoint(audit_log, key)
    with bypassing_triggers(audit_log) as connection:  # as if both were made without one
        connection.execute(text("DELETE FROM audit_checkpoint_notes"))
    refused = pytest.raises(DBAPIError, match="only the newest checkpoint can get its note")
    with refused, audit_log.engine.begin() as connection:
        connection.execute(text("INSERT INTO audit_checkpoint_notes VALUES (1, 'x')"))


def test_checkpoints_made_before_notes_existed_keep_verifying(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    append_many(audit_log, 4)
    checkpoint(audit_log, key)
    with bypassing_triggers(audit_log) as connection:  # a log from before this release
        connection.execute(text("DELETE FROM audit_checkpoint_notes"))
    stored = audit_log.latest_checkpoint()
    assert stored is not None and stored.note is None
    assert "note" not in stored.to_json()
    assert verify(audit_log, key).ok


def test_the_bundle_verifier_refuses_an_altered_note(
    audit_log: AuditLog, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    append_many(audit_log, 6)
    checkpoint(audit_log, key)
    bundle = tmp_path / "bundle"
    export_bundle(audit_log, bundle, key.public_key(), EntryFilter())
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(public_key_pem(key))

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "verify.py", "--quiet", "--public-key", str(key_file)],
            cwd=bundle, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    assert run().returncode == 0
    path = bundle / "checkpoints.jsonl"
    document = json.loads(path.read_text(encoding="utf-8"))
    signature_line = document["note"].split("\n\n")[1]
    document["note"] = "closeloop.audit/other\n6\n" + document["note"].split("\n")[2] + "\n\n"
    document["note"] += signature_line
    path.write_text(json.dumps(document) + "\n", encoding="utf-8")
    result = run()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "its C2SP note has no signature of log closeloop.audit/other" in result.stdout
