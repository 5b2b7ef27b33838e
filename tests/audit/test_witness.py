"""The witness (c2sp.org/tlog-witness): it cosigns only what extends what it cosigned before.

First the protocol's rules on the witness alone (every status code the specification
names), then a real `closeloop audit witness` process on its own port and state folder,
with the worker's checkpointer submitting to it and `audit verify` requiring k of n
cosignatures.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from audit import note
from audit.checkpointer import Checkpointer
from audit.cosignature import Cosigner, cosign, cosigner_vkey
from audit.signing import public_key_pem
from audit.store import AuditLog
from audit.tlog_checkpoint import TreeHead, default_origin, sign_tree_head, signed_note
from audit.tree import MerkleTree
from audit.verify import verify_log
from audit.witness import SIZE_CONTENT_TYPE, Witness
from audit.witness_client import WitnessClient, WitnessEndpoint
from closeloop.cli import main
from tests.audit.conftest import append_many, bypassing_triggers
from tests.audit.test_tamper import rewrite_chain_consistently

LOG = "quality.example/complaints"


def tree_of(size: int, salt: bytes = b"") -> MerkleTree:
    return MerkleTree(bytes([i % 256]) * 31 + salt[:1].ljust(1, b"\0") for i in range(size))


def checkpoint_note(tree: MerkleTree, key: Ed25519PrivateKey, origin: str = LOG) -> str:
    head = TreeHead(origin, tree.size, tree.root())
    return signed_note(head, (sign_tree_head(head, key),))


def request(old: int, tree: MerkleTree, key: Ed25519PrivateKey, origin: str = LOG) -> bytes:
    proof = tree.consistency_proof(old, tree.size) if 0 < old < tree.size else []
    lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + checkpoint_note(tree, key, origin)).encode()


@pytest.fixture
def log_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def witness(log_key: Ed25519PrivateKey, tmp_path: Path) -> Witness:
    return Witness(
        "witness.example/w1",
        Ed25519PrivateKey.generate(),
        [note.Verifier(LOG, log_key.public_key())],
        tmp_path / "witness",
        clock=lambda: 1_790_000_000,
    )


# --- the protocol ----------------------------------------------------------------------------


def test_a_first_checkpoint_is_cosigned_and_the_cosignature_verifies(
    witness: Witness, log_key: Ed25519PrivateKey
) -> None:
    tree = tree_of(10)
    response = witness.add_checkpoint(request(0, tree, log_key))
    assert response.status == 200, response.body
    assert response.body.startswith("\u2014 witness.example/w1 ")
    cosigned = note.parse(checkpoint_note(tree, log_key).rstrip("\n") + "\n" + response.body)
    assert Cosigner.from_vkey(witness.vkey).cosigned_at(cosigned) == 1_790_000_000
    assert witness.latest(LOG) == (10, tree.root())


def test_a_checkpoint_that_extends_the_last_one_is_cosigned_with_a_consistency_proof(
    witness: Witness, log_key: Ed25519PrivateKey
) -> None:
    assert witness.add_checkpoint(request(0, tree_of(10), log_key)).status == 200
    response = witness.add_checkpoint(request(10, tree_of(17), log_key))
    assert response.status == 200, response.body
    assert witness.latest(LOG) == (17, tree_of(17).root())


def test_a_stale_old_size_gets_409_with_the_witness_size(
    witness: Witness, log_key: Ed25519PrivateKey
) -> None:
    witness.add_checkpoint(request(0, tree_of(10), log_key))
    response = witness.add_checkpoint(request(0, tree_of(12), log_key))
    assert (response.status, response.body, response.content_type) == (
        409,
        "10\n",
        SIZE_CONTENT_TYPE,
    )


def test_an_unknown_log_is_404(witness: Witness, log_key: Ed25519PrivateKey) -> None:
    response = witness.add_checkpoint(request(0, tree_of(3), log_key, origin="other.example/log"))
    assert response.status == 404


def test_a_checkpoint_not_signed_by_the_trusted_log_key_is_403(witness: Witness) -> None:
    response = witness.add_checkpoint(request(0, tree_of(3), Ed25519PrivateKey.generate()))
    assert response.status == 403
    assert "no signature of log" in response.body


def test_a_forged_signature_under_the_log_key_name_and_id_is_403(
    witness: Witness, log_key: Ed25519PrivateKey
) -> None:
    body = request(0, tree_of(3), log_key).decode()
    head, _, signature = body.rpartition(" ")
    raw = bytearray(base64.b64decode(signature))
    raw[10] ^= 1
    response = witness.add_checkpoint(f"{head} {base64.b64encode(raw).decode()}\n".encode())
    assert response.status == 403
    assert "invalid" in response.body


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"old 5\n\n", 400),  # no checkpoint at all
        (b"new 0\n\nx\n", 400),
        (b"old 01\n\nx\n", 400),
        (b"\xff\xfe", 400),
        (b"old 0\nnot-base64!\n\nx\n", 400),
    ],
)
def test_malformed_requests_are_400(witness: Witness, body: bytes, status: int) -> None:
    assert witness.add_checkpoint(body).status == status


def test_an_old_size_beyond_the_checkpoint_is_400(
    witness: Witness, log_key: Ed25519PrivateKey
) -> None:
    body = request(0, tree_of(4), log_key).replace(b"old 0", b"old 9")
    assert witness.add_checkpoint(body).status == 400


def test_an_empty_tree_must_have_the_empty_root_and_size_zero_needs_no_proof(
    witness: Witness, log_key: Ed25519PrivateKey
) -> None:
    head = TreeHead(LOG, 0, b"\x01" * 32)
    bad_root = "old 0\n\n" + signed_note(head, (sign_tree_head(head, log_key),))
    assert witness.add_checkpoint(bad_root.encode()).status == 422
    proof_from_zero = request(0, tree_of(4), log_key).replace(
        b"old 0\n", b"old 0\n" + base64.b64encode(b"\0" * 32) + b"\n"
    )
    assert witness.add_checkpoint(proof_from_zero).status == 422


def test_a_fork_of_the_same_size_is_refused_and_kept_as_evidence(
    witness: Witness, log_key: Ed25519PrivateKey
) -> None:
    witness.add_checkpoint(request(0, tree_of(8), log_key))
    fork = request(8, tree_of(8, salt=b"x"), log_key)  # same size, other root, real key
    response = witness.add_checkpoint(fork)
    assert response.status == 422
    assert witness.latest(LOG) == (8, tree_of(8).root())  # not rolled over to the fork
    (evidence,) = (witness.state_dir / "refusals.jsonl").read_text().splitlines()
    assert json.loads(evidence)["tree_size"] == 8
    assert json.loads(evidence)["checkpoint"] == fork.decode().split("\n\n", 1)[1]


def test_a_rewritten_history_signed_with_the_real_log_key_is_refused(
    witness: Witness, log_key: Ed25519PrivateKey
) -> None:
    witness.add_checkpoint(request(0, tree_of(8), log_key))
    rewritten = tree_of(12, salt=b"y")  # different first leaves, then grown
    response = witness.add_checkpoint(request(8, rewritten, log_key))
    assert response.status == 422
    assert "not consistent" in response.body


def test_a_restarted_witness_keeps_its_state(witness: Witness, log_key: Ed25519PrivateKey) -> None:
    witness.add_checkpoint(request(0, tree_of(6), log_key))
    again = Witness(
        "witness.example/w1", witness.key, list(witness.logs.values()), witness.state_dir
    )
    assert again.latest(LOG) == (6, tree_of(6).root())
    assert again.add_checkpoint(request(0, tree_of(7), log_key)).body == "6\n"


# --- a real witness process, the checkpointer and `audit verify` ------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def witness_process(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """`closeloop audit witness` on its own port and folder: (url, its vkey, folder)."""
    yield from _run_witness(tmp_path / "w1", "witness.example/w1", tmp_path)


def _run_witness(folder: Path, name: str, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    log_vkey = (tmp_path / "log.vkey").read_text().strip()
    env = {**os.environ, "CLOSELOOP_HOME": str(tmp_path / "witness-home")}
    base = [sys.executable, "-m", "closeloop", "audit", "witness", "--state-dir", str(folder)]
    base += ["--name", name, "--log-key", log_vkey]
    vkey = subprocess.run(
        [*base, "--print-key"], env=env, capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    port = free_port()
    process = subprocess.Popen(
        [*base, "--listen", f"127.0.0.1:{port}"], env=env, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/add-checkpoint", timeout=2)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                said = process.stderr.read() if process.stderr else ""
                raise RuntimeError(f"witness did not start: {said}") from None
            time.sleep(0.1)
    try:
        yield url, vkey, folder
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(autouse=True)
def _log_vkey(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    (tmp_path / "log.vkey").write_text(note.vkey(default_origin(key), key.public_key()))


def checkpointer_with(
    log: AuditLog, key: Ed25519PrivateKey, *witnesses: tuple[str, str]
) -> Checkpointer:
    endpoints = [WitnessEndpoint(url, Cosigner.from_vkey(vkey)) for url, vkey in witnesses]
    return Checkpointer(log, key, witnesses=WitnessClient(endpoints, timeout=30))


def test_checkpoints_are_cosigned_by_a_running_witness_and_verify_k_of_n(
    audit_log: AuditLog, key: Ed25519PrivateKey, witness_process: tuple[str, str, Path]
) -> None:
    url, vkey, _ = witness_process
    checkpointer = checkpointer_with(audit_log, key, (url, vkey))
    append_many(audit_log, 5)
    checkpointer.checkpoint()
    append_many(audit_log, 4, start=5)
    made = checkpointer.checkpoint().checkpoint
    assert made is not None and made.note is not None and "witness.example/w1" in made.note
    stored = audit_log.latest_checkpoint()
    assert stored is not None and stored.note == made.note  # kept, exported, published
    cosigner = Cosigner.from_vkey(vkey)
    report = verify_log(
        audit_log, [key.public_key()], cosigners=[cosigner], required_cosignatures=1
    )
    assert report.ok, report.problems
    assert report.cosigned_by == ["witness.example/w1"]

    other = Cosigner.from_vkey(_other_witness_vkey())
    two_of_two = verify_log(
        audit_log, [key.public_key()], cosigners=[cosigner, other], required_cosignatures=2
    )
    assert not two_of_two.ok
    assert "cosigned by 1 of the 2 trusted witnesses" in str(two_of_two.problems[-1])


def _other_witness_vkey() -> str:
    return cosigner_vkey("witness.example/w2", Ed25519PrivateKey.generate().public_key())


def test_a_consistent_rewrite_signed_with_the_log_key_is_not_cosigned(
    audit_log: AuditLog, key: Ed25519PrivateKey, witness_process: tuple[str, str, Path]
) -> None:
    """Issue 11 attack 1 with the real signing key: only the witness stands in the way."""
    url, vkey, folder = witness_process
    append_many(audit_log, 20)
    checkpointer_with(audit_log, key, (url, vkey)).checkpoint()
    with bypassing_triggers(audit_log) as connection:
        for table in ("cosignatures", "notes", "publications"):
            connection.execute(text(f"DELETE FROM audit_checkpoint_{table}"))
        connection.execute(text("DELETE FROM audit_checkpoints"))
        rewrite_chain_consistently(connection, None)  # type: ignore[arg-type]
    checkpointer_with(audit_log, key, (url, vkey)).checkpoint()  # re-signed by the real key
    report = verify_log(
        audit_log, [key.public_key()], cosigners=[Cosigner.from_vkey(vkey)], required_cosignatures=1
    )
    assert not report.ok
    assert "cosigned by 0 of the 1 trusted witnesses" in str(report.problems[-1])
    assert (folder / "refusals.jsonl").exists()


def test_audit_verify_requires_the_cosignatures_on_the_command_line(
    audit_log: AuditLog,
    key: Ed25519PrivateKey,
    witness_process: tuple[str, str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    url, vkey, _ = witness_process
    append_many(audit_log, 3)
    checkpointer_with(audit_log, key, (url, vkey)).checkpoint()
    key_file = tmp_path / "log.pem"
    key_file.write_bytes(public_key_pem(key))
    monkeypatch.setenv("CLOSELOOP_HOME", str(tmp_path / "auditor"))
    monkeypatch.setenv("CLOSELOOP_DATABASE_URL", database_url)
    args = ["audit", "verify", "--quiet", "--public-key", str(key_file), "--witness-key", vkey]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "latest checkpoint cosigned by: witness.example/w1" in result.output
    two = CliRunner().invoke(main, [*args, "--cosignatures", "2"])
    assert two.exit_code == 2 and "--cosignatures" in two.output
    bad = CliRunner().invoke(main, [*args[:-1], "not-a-vkey"])
    assert bad.exit_code == 2 and "--witness-key" in bad.output


def test_a_witness_that_restarted_from_a_copy_of_its_state_is_caught_up_by_409(
    audit_log: AuditLog, key: Ed25519PrivateKey, witness_process: tuple[str, str, Path]
) -> None:
    url, vkey, _ = witness_process
    append_many(audit_log, 4)
    checkpointer_with(audit_log, key, (url, vkey)).checkpoint()
    append_many(audit_log, 4, start=4)
    fresh = checkpointer_with(audit_log, key, (url, vkey))  # a restarted worker: sizes unknown
    made = fresh.checkpoint().checkpoint
    assert made is not None and made.note is not None
    assert Cosigner.from_vkey(vkey).cosigned_at(note.parse(made.note)) is not None


def test_a_forged_cosignature_is_a_finding(audit_log: AuditLog, key: Ed25519PrivateKey) -> None:
    witness_key = Ed25519PrivateKey.generate()
    cosigner = Cosigner.from_vkey(cosigner_vkey("witness.example/w1", witness_key.public_key()))
    append_many(audit_log, 3)
    made = Checkpointer(audit_log, key).checkpoint().checkpoint
    assert made is not None and made.note is not None
    line = cosign(note.parse(made.note).text, "witness.example/w1", witness_key, 1_790_000_000)
    # Flip every bit of one byte in the middle: an Ed25519 signature's last byte is often
    # already zero, so overwriting it with zero would sometimes forge nothing.
    tampered = bytearray(line.signature)
    tampered[20] ^= 0xFF
    forged = note.NoteSignature(line.name, line.key_id, bytes(tampered))
    audit_log.store_cosignature(made.number, "witness.example/w1", forged.line())
    report = verify_log(
        audit_log, [key.public_key()], cosigners=[cosigner], required_cosignatures=1
    )
    assert "cosignature of witness.example/w1 is invalid" in " ".join(map(str, report.problems))
