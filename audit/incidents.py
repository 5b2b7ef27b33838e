"""Acknowledged incidents: one bad row is reported for ever, but does not stop signing.

The checkpointer refuses to sign a log with an entry whose stored data is not its canonical
text (issue 11, attack 5). Without a way forward, one such row, written by anyone with the
writer role, would stop all signing, and every rewrite after it would go unnoticed
(attack 4). The incident procedure (README, "Incident: an entry that does not verify"):

1. `closeloop audit verify` names the entry; investigate it (who wrote it, from where).
2. The holder of the signing key runs `closeloop audit incident SEQ --reason "..."`. That
   appends an `audit.incident` entry whose data holds the bad entry's seq and hash, what is
   wrong with it, the reason, and an Ed25519 signature by the log's key over
   `closeloop-audit-incident/v1\\n<seq>\\n<entry hash>\\n` - so the writer role, which has
   no key, cannot acknowledge its own forgeries.
3. From then on the checkpointer signs past that one entry (its stored hash is still the
   Merkle leaf, so the tree is unchanged), and both verifiers report it as an acknowledged
   incident on every run, naming the entry that acknowledged it, instead of failing.

Only findings about an entry's own data can be acknowledged; a broken chain, a wrong hash
or a missing entry is tampering with the history itself and is never waved through.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.models import NewEntry
from audit.signing import key_id

INCIDENT_TYPE = "audit.incident"
INCIDENT_SUBJECT = "audit"  # audit entries need a complaint id: this is none
_MESSAGE = "closeloop-audit-incident/v1\n{seq}\n{entry_hash}\n"


@dataclass(frozen=True)
class Incident:
    """A bad entry the log's key holder acknowledged, and where."""

    seq: int
    entry_hash: str
    finding: str
    reason: str
    acknowledged_in: int  # the seq of the audit.incident entry

    def describe(self) -> str:
        return (
            f"entry {self.seq}: acknowledged incident (entry {self.acknowledged_in}: "
            f"{self.reason}): {self.finding}"
        )


def message(seq: int, entry_hash: str) -> bytes:
    return _MESSAGE.format(seq=seq, entry_hash=entry_hash).encode("ascii")


def acknowledgment(
    key: Ed25519PrivateKey,
    *,
    seq: int,
    entry_hash: str,
    finding: str,
    reason: str,
    now: datetime | None = None,
) -> NewEntry:
    """The `audit.incident` entry that acknowledges entry `seq` (append it to the log)."""
    return NewEntry(
        complaint_id=INCIDENT_SUBJECT,
        entry_type=INCIDENT_TYPE,
        actor=f"signer:{key_id(key)}",
        occurred_at=now or datetime.now(UTC),
        reason=reason,
        data={
            "seq": seq,
            "entry_hash": entry_hash,
            "finding": finding,
            "key_id": key_id(key),
            "signature": key.sign(message(seq, entry_hash)).hex(),
        },
        idempotency_key=f"audit-incident:{seq}:{entry_hash}",
    )


def read(
    rows: list[tuple[int, str, str]], keys: dict[str, Ed25519PublicKey]
) -> dict[int, Incident]:
    """Valid acknowledgments among (seq, reason, data text) rows of type `audit.incident`.

    Rows that are malformed or not signed by a trusted key acknowledge nothing.
    """
    found: dict[int, Incident] = {}
    for own_seq, reason, data_text in rows:
        try:
            data = json.loads(data_text)
            seq, entry_hash = int(data["seq"]), str(data["entry_hash"])
            public_key = keys.get(str(data["key_id"]))
            if public_key is None or seq >= own_seq:
                continue
            public_key.verify(bytes.fromhex(data["signature"]), message(seq, entry_hash))
        except (ValueError, KeyError, TypeError, InvalidSignature, RecursionError):
            continue
        found.setdefault(
            seq, Incident(seq, entry_hash, str(data.get("finding", "")), reason, own_seq)
        )
    return found
