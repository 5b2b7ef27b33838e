"""Asking witnesses to cosign each new checkpoint (the client side of c2sp.org/tlog-witness).

The checkpointer calls `cosign` after it has stored a checkpoint. For each configured
witness it sends the checkpoint with a consistency proof from the size that witness last
cosigned; a witness that has moved on, restarted with older state, or never seen this log
answers 409 with its size, and the request is repeated once from there. A witness that is
down or refuses is logged and skipped: the checkpoint is stored either way, and the next
one is offered again (it covers this one by consistency).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import httpx
import structlog

from audit import cosignature, note
from audit.cosignature import Cosigner
from audit.tree import MerkleTree

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class WitnessEndpoint:
    """Where a witness listens (its submission prefix) and the key it cosigns with."""

    url: str
    cosigner: Cosigner


@dataclass(frozen=True)
class Cosigned:
    witness: str  # the witness's name
    line: str  # its signature line, ready to append to the note
    timestamp: int


class WitnessClient:
    def __init__(self, witnesses: list[WitnessEndpoint], *, timeout: float = 5.0) -> None:
        self.witnesses = witnesses
        self.timeout = timeout
        self._sizes: dict[str, int] = {}  # url -> the size that witness last cosigned

    def cosign(self, checkpoint_note: str, tree: MerkleTree, size: int) -> list[Cosigned]:
        """Cosignatures of the witnesses that accepted this checkpoint (never raises)."""
        cosigned = []
        for witness in self.witnesses:
            try:
                got = self._cosign_one(witness, checkpoint_note, tree, size)
            except (httpx.HTTPError, note.NoteError, ValueError) as exc:
                log.warning(
                    "witness did not cosign the checkpoint",
                    witness=witness.cosigner.name,
                    url=witness.url,
                    tree_size=size,
                    error=str(exc)[:300],
                )
                continue
            cosigned.append(got)
        return cosigned

    def _cosign_one(
        self, witness: WitnessEndpoint, checkpoint_note: str, tree: MerkleTree, size: int
    ) -> Cosigned:
        old = self._sizes.get(witness.url, 0)
        response = self._post(witness, old, checkpoint_note, tree, size)
        if response.status_code == 409:  # the witness says where it is: go from there
            old = int(response.text.strip())
            if old > size:
                raise ValueError(
                    f"the witness has cosigned size {old}, larger than the log's {size}: "
                    "the log was truncated or forked"
                )
            response = self._post(witness, old, checkpoint_note, tree, size)
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}: {response.text.strip()[:200]}")
        signed = note.parse(checkpoint_note.rstrip("\n") + "\n" + response.text)
        timestamp = witness.cosigner.cosigned_at(signed)
        if timestamp is None:
            raise ValueError("the response holds no cosignature by the configured witness key")
        own_id = cosignature.key_id(witness.cosigner.name, witness.cosigner.public_key)
        line = next(
            s for s in signed.signatures if s.name == witness.cosigner.name and s.key_id == own_id
        )
        self._sizes[witness.url] = size
        return Cosigned(witness.cosigner.name, line.line(), timestamp)

    def _post(
        self, witness: WitnessEndpoint, old: int, checkpoint_note: str, tree: MerkleTree, size: int
    ) -> httpx.Response:
        proof = tree.consistency_proof(old, size) if 0 < old < size else []
        lines = [f"old {old}", *(base64.b64encode(h).decode() for h in proof)]
        body = "\n".join(lines) + "\n\n" + checkpoint_note
        return httpx.post(
            witness.url.rstrip("/") + "/add-checkpoint",
            content=body.encode("utf-8"),
            timeout=self.timeout,
        )
