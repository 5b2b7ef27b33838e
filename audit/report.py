"""What a verification found: the problems, warnings and figures that both CLI and JSON show.

Kept apart from the checking itself (`audit.verify`) so that the rules read in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audit import merkle
from audit.checkpoints import SignedCheckpoint


@dataclass(frozen=True)
class Problem:
    """One thing that does not hold. `seq` is the entry it names, if any."""

    message: str
    seq: int | None = None
    checkpoint: int | None = None

    def __str__(self) -> str:
        return self.message


@dataclass
class Report:
    """What verification found; `ok` only when nothing is wrong."""

    entries: int = 0
    checkpoints: int = 0
    consistency_proofs: int = 0
    root_hash: str = merkle.EMPTY_ROOT.hex()
    latest: SignedCheckpoint | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cosigned_by: list[str] | None = None  # trusted witnesses on the latest checkpoint
    incidents: list[int] = field(default_factory=list)  # acknowledged bad entries' seqs

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        """The earliest bad entry, else the first bad checkpoint."""
        named = [p for p in self.problems if p.seq is not None]
        if named:
            return min(named, key=lambda p: p.seq or 0)
        return self.problems[0] if self.problems else None

    @property
    def first_bad_seq(self) -> int | None:
        first = self.first_problem
        return first.seq if first else None

    def summary(self) -> str:
        if self.ok:
            signed = "no checkpoints yet"
            if self.latest:
                plural = "" if self.checkpoints == 1 else "s"
                signed = f"{self.checkpoints} checkpoint{plural} valid, latest {self.latest.label}"
            known = ""
            if self.incidents:
                seqs = ", ".join(map(str, self.incidents))
                known = f" ({len(self.incidents)} acknowledged incident(s): entry {seqs})"
            intact = f"{self.entries} entries intact{known}"
            return f"OK: {intact}; {signed}; root {self.root_hash}"
        return f"FAILED: {self.first_problem}"

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "checkpoints": self.checkpoints,
            "consistency_proofs": self.consistency_proofs,
            "root_hash": self.root_hash,
            "latest_checkpoint": self.latest.to_json() if self.latest else None,
            "first_bad_seq": self.first_bad_seq,
            "problems": [
                {"seq": p.seq, "checkpoint": p.checkpoint, "message": p.message}
                for p in self.problems
            ],
            "warnings": self.warnings,
            "acknowledged_incidents": self.incidents,
            **({"cosigned_by": self.cosigned_by} if self.cosigned_by is not None else {}),
            "seconds": round(self.seconds, 3),
        }
