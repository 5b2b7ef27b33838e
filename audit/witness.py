"""A transparency-log witness (c2sp.org/tlog-witness): `add-checkpoint`, without the HTTP.

A witness keeps, per log it knows, the latest checkpoint it cosigned. It cosigns a new one
only if the log's own key signed it and a consistency proof shows that it extends the one
before. So a rewritten history is refused even when whoever rewrote it holds the log's
signing key: the witness has already cosigned the old root, and no proof links a rewrite
to it. Refusals of a correctly signed checkpoint are evidence of misbehaviour; they are
kept (`refusals.jsonl`) and logged.

State lives in one JSON file, replaced atomically (write, fsync, rename) before the
cosignature is returned, and the check and the update happen under one lock, as the
protocol requires: a witness restart keeps its state, and two racing requests cannot roll
the recorded size back.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import cosignature, merkle, note
from audit.tlog_checkpoint import TreeHead

log = structlog.get_logger(__name__)

MAX_REQUEST_BYTES = 64 * 1024
MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class WitnessResponse:
    """What the HTTP layer sends back: status, body and its content type."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class _Request:
    old_size: int
    proof: list[bytes]
    checkpoint: str


class _Refused(Exception):
    def __init__(self, status: int, reason: str, *, evidence: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.evidence = evidence  # a correctly signed checkpoint that fails: keep it


class Witness:
    """One witness: its name and key, the logs it knows, and where it keeps its state."""

    def __init__(
        self,
        name: str,
        key: Ed25519PrivateKey,
        logs: list[note.Verifier],
        state_dir: Path,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        note.check_key_name(name)
        self.name = name
        self.key = key
        self.logs = {verifier.name: verifier for verifier in logs}
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def vkey(self) -> str:
        return cosignature.cosigner_vkey(self.name, self.key.public_key())

    def latest(self, origin: str) -> tuple[int, bytes] | None:
        """The size and root of the latest checkpoint cosigned for `origin`."""
        entry = self._load().get(origin)
        return (entry["size"], base64.b64decode(entry["root"])) if entry else None

    def add_checkpoint(self, body: bytes) -> WitnessResponse:
        """Handle one `add-checkpoint` request body; never raises for bad input."""
        try:
            request = _parse(body)
            return self._add(request)
        except _Refused as refused:
            if refused.status == 409:  # the protocol's one machine-read answer: the size
                return WitnessResponse(409, refused.reason + "\n", SIZE_CONTENT_TYPE)
            return WitnessResponse(refused.status, refused.reason + "\n")

    def _add(self, request: _Request) -> WitnessResponse:
        try:
            signed = note.parse(request.checkpoint)
            head = TreeHead.from_text(signed.text)
        except note.NoteError as exc:
            raise _Refused(400, f"malformed checkpoint: {exc}") from None
        verifier = self.logs.get(head.origin)
        if verifier is None:
            raise _Refused(404, f"unknown log {head.origin[:100]!r}")
        try:
            trusted = verifier.verifies(signed)
        except note.NoteError as exc:
            raise _Refused(403, str(exc)) from None
        if not trusted:
            raise _Refused(403, f"no signature of log {head.origin} by a key this witness trusts")
        with self._lock, self._locked_state() as state:
            try:
                self._check(request, head, state.get(head.origin))
            except _Refused as refused:
                if refused.evidence:
                    self._keep_refusal(head, request, refused.reason)
                raise
            state[head.origin] = {
                "size": head.tree_size,
                "root": base64.b64encode(head.root).decode(),
            }
            self._save(state)
        line = cosignature.cosign(signed.text, self.name, self.key, int(self._clock()))
        log.info("witness cosigned", origin=head.origin, tree_size=head.tree_size)
        return WitnessResponse(200, line.line())

    def _check(self, request: _Request, head: TreeHead, known: dict[str, Any] | None) -> None:
        old = request.old_size
        if old > head.tree_size:
            raise _Refused(400, f"old size {old} is larger than the checkpoint's {head.tree_size}")
        latest_size = known["size"] if known else 0
        if old != latest_size:
            raise _Refused(409, str(latest_size))
        if head.tree_size == 0 and head.root != merkle.EMPTY_ROOT:
            raise _Refused(422, "a checkpoint of size 0 must have the empty tree's root")
        if old == 0:
            if request.proof:
                raise _Refused(422, "a proof from size 0 must be empty")
            return
        assert known is not None
        latest_root = base64.b64decode(known["root"])
        try:
            merkle.verify_consistency(old, head.tree_size, latest_root, head.root, request.proof)
        except merkle.ProofError as exc:
            raise _Refused(
                422,
                f"checkpoint of size {head.tree_size} is not consistent with the one of size "
                f"{old} this witness cosigned: {exc}",
                evidence=True,
            ) from None

    # --- state ----------------------------------------------------------------------------

    @property
    def _state_file(self) -> Path:
        return self.state_dir / "state.json"

    def _load(self) -> dict[str, Any]:
        try:
            state: dict[str, Any] = json.loads(self._state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return state

    @contextlib.contextmanager
    def _locked_state(self) -> Iterator[dict[str, Any]]:
        """The state under an exclusive file lock: one witness process per state folder."""
        with open(self.state_dir / "state.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield self._load()
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _save(self, state: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix=".state.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(state, handle, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._state_file)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        directory = os.open(self.state_dir, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def _keep_refusal(self, head: TreeHead, request: _Request, reason: str) -> None:
        record = {
            "time": int(self._clock()),
            "origin": head.origin,
            "tree_size": head.tree_size,
            "old_size": request.old_size,
            "reason": reason,
            "checkpoint": request.checkpoint,
        }
        with open(self.state_dir / "refusals.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        log.warning(
            "witness refused a correctly signed checkpoint: possible log misbehaviour",
            origin=head.origin,
            tree_size=head.tree_size,
            reason=reason,
        )


def _parse(body: bytes) -> _Request:
    if len(body) > MAX_REQUEST_BYTES:
        raise _Refused(400, f"request is larger than {MAX_REQUEST_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused(400, "request is not UTF-8") from None
    header, separator, checkpoint = text.partition("\n\n")
    if not separator:
        raise _Refused(400, "request has no empty line before the checkpoint")
    lines = header.split("\n")
    old_line, proof_lines = lines[0], lines[1:]
    size = old_line.removeprefix("old ")
    if size == old_line or not size.isascii() or not size.isdigit() or size != str(int(size)):
        raise _Refused(400, "first line must be 'old <size>' in decimal")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise _Refused(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for number, line in enumerate(proof_lines, start=1):
        try:
            hash_ = base64.b64decode(line, validate=True)
        except binascii.Error:
            raise _Refused(400, f"proof line {number} is not base64") from None
        if len(hash_) != 32:
            raise _Refused(400, f"proof line {number} is not a 32-byte hash")
        proof.append(hash_)
    return _Request(int(size), proof, checkpoint)
