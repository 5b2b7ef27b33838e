"""The signer's own memory of the last checkpoint it signed, kept outside the database.

Someone with full database access can delete every checkpoint, rewrite an entry and
recompute the chain forward; the log then looks like one that was never signed, and a
checkpointer that only reads the database would sign the rewrite with the real key
(issue 11, attack 1). The signer therefore remembers the last checkpoint it signed in a
file beside its key, and never signs a log whose entries no longer give that checkpoint's
root, or whose checkpoints no longer reach it. `closeloop audit verify` on the signer's
machine treats the memory as a witnessed checkpoint, so the deletion is a failure there too.

The file holds one checkpoint in the `audit.checkpoints.v1` JSON shape; it is replaced
atomically (write, fsync, rename) and only ever moves forward.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import ValidationError

from audit.checkpoints import SignedCheckpoint


class SignerMemoryError(ValueError):
    """The memory file exists but cannot be read: a person must look, not a retry."""


class SignerMemory:
    """The last checkpoint one signing key signed, in one file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def beside_key(cls, home: Path, key_id: str) -> SignerMemory:
        """`CLOSELOOP_HOME/keys/audit-signer-<key id>.json`: one memory per key."""
        return cls(home / "keys" / f"audit-signer-{key_id}.json")

    def last(self) -> SignedCheckpoint | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SignerMemoryError(f"cannot read the signer's memory {self.path}: {exc}") from None
        try:
            return SignedCheckpoint.from_json(json.loads(text))
        except (ValueError, ValidationError, RecursionError) as exc:
            raise SignerMemoryError(
                f"the signer's memory {self.path} is not a checkpoint: {exc}"
            ) from None

    def remember(self, signed: SignedCheckpoint) -> None:
        """Keep `signed` as the last one, unless a later one is already remembered."""
        last = self.last()
        if last is not None and (last.tree_size, last.number) > (signed.tree_size, signed.number):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            out.write(json.dumps(signed.to_json(), sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)
