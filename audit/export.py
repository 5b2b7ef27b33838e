"""Export bundles: everything an auditor needs to verify the log on their own machine.

Layout of a bundle (also described in the README.txt written into it):

    README.txt                how to verify, what each file holds
    verify.py                 the standalone verifier (standard library + cryptography)
    public_key.pem            the checkpoint signing key's public half
    manifest.json             when, what filters, how many entries, the latest checkpoint
    entries.jsonl             the selected entries, exactly as hashed (+ entry_hash)
    entries.csv               the same entries for spreadsheets (not used for verification)
    chain.txt                 every entry of the log as "seq prev_hash entry_hash"
    checkpoints.jsonl         every signed checkpoint (the audit.checkpoints.v1 format)
    proofs/consistency.jsonl  a consistency proof for each consecutive pair of checkpoints
    proofs/inclusion.jsonl    an inclusion proof of each selected entry in the latest checkpoint
    qmsr-records.jsonl        the 21 CFR 820.35(a) record of each exported complaint (derived)
    compliance.md, .json      the compliance matrix of the Closeloop version that exported

Why the whole chain even in a filtered export: with every entry's hash, the verifier
recomputes the Merkle root at each checkpoint size and checks it against the signature, so
it proves both that the selected entries are unchanged (their recomputed hashes sit in the
chain) and that the chain is the one that was signed. Hashes reveal nothing about the
entries that were left out. Inclusion proofs are written for filtered exports and for logs
of up to `MAX_UNFILTERED_PROOFS` entries; a complete export of a larger log omits them,
because recomputing the whole tree already proves every entry's inclusion.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit import canonical, merkle
from audit.checkpoints import SignedCheckpoint
from audit.compliance.matrix import shipped, to_json, to_markdown
from audit.qmsr_records import QmsrRecords
from audit.signing import key_id, public_key_pem
from audit.store import AuditLog, EntryFilter, entry_document
from audit.tree import MerkleTree

MAX_UNFILTERED_PROOFS = 10_000
BUNDLE_FORMAT = "closeloop-audit-bundle/v1"
CSV_COLUMNS = (
    "seq", "recorded_at", "occurred_at", "complaint_id", "entry_type", "actor", "reason",
    "data", "idempotency_key", "prev_hash", "entry_hash",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class BundleExists(FileExistsError):
    """The output folder is not empty; exports never overwrite evidence."""


@dataclass(frozen=True)
class ExportResult:
    out: Path
    entries: int
    log_size: int
    checkpoints: int
    inclusion_proofs: int
    latest: SignedCheckpoint | None


def standalone_verifier() -> str:
    """The source of `verify.py`, shipped as package data next to this module."""
    return (Path(__file__).resolve().parent / "standalone" / "verify.py").read_text(
        encoding="utf-8"
    )


def export_bundle(
    log: AuditLog,
    out: Path,
    public_key: Ed25519PublicKey,
    where: EntryFilter | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Write a bundle for the entries `where` selects (all by default) into `out`."""
    where = where or EntryFilter()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise BundleExists(f"{out} is not empty; export into a new folder")
    (out / "proofs").mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _message: None)

    checkpoints = log.checkpoints()  # first: entries only grow meanwhile
    latest = checkpoints[-1] if checkpoints else None
    say("writing chain.txt")
    tree = MerkleTree()
    with (out / "chain.txt").open("w", encoding="ascii", newline="\n") as chain:
        for row in log.iter_rows(batch_size=10_000):
            chain.write(f"{row.seq} {row.prev_hash} {row.entry_hash}\n")
            tree.append(merkle.leaf_hash(_unhex(row.entry_hash)))
    log_size = tree.size

    say("writing entries.jsonl and entries.csv")
    selected: list[int] = []
    records = QmsrRecords()
    with (
        (out / "entries.jsonl").open("w", encoding="utf-8", newline="\n") as jsonl,
        (out / "entries.csv").open("w", encoding="utf-8-sig", newline="") as csv_file,
    ):
        writer = csv.writer(csv_file)
        writer.writerow(CSV_COLUMNS)
        for row in log.iter_rows(where, batch_size=10_000):
            if row.seq > log_size:
                break  # appended after the chain was read: next export
            entry = entry_document(row)
            jsonl.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
            writer.writerow(csv_row(entry))
            selected.append(row.seq)
            records.add(entry)
    with (out / "qmsr-records.jsonl").open("w", encoding="utf-8", newline="\n") as handle:
        for record in records.documents():
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")

    with (out / "checkpoints.jsonl").open("w", encoding="utf-8", newline="\n") as handle:
        for cp in checkpoints:
            handle.write(json.dumps(cp.to_json(), sort_keys=True) + "\n")

    say("writing proofs")
    with (out / "proofs" / "consistency.jsonl").open("w", encoding="ascii") as handle:
        for old, new in itertools.pairwise(checkpoints):
            if not 0 < old.tree_size <= new.tree_size <= tree.size:
                continue  # a broken list: the verifier reports it
            proof = tree.consistency_proof(old.tree_size, new.tree_size)
            document = {
                "old_checkpoint": old.number,
                "new_checkpoint": new.number,
                "old_size": old.tree_size,
                "new_size": new.tree_size,
                "proof": [h.hex() for h in proof],
            }
            handle.write(json.dumps(document) + "\n")
    proofs = 0
    with_proofs = not where.is_empty() or log_size <= MAX_UNFILTERED_PROOFS
    with (out / "proofs" / "inclusion.jsonl").open("w", encoding="ascii") as handle:
        if latest is not None and with_proofs and latest.tree_size <= tree.size:
            for seq in selected:
                if seq > latest.tree_size:
                    break
                proof = tree.inclusion_proof(seq - 1, latest.tree_size)
                document = {
                    "seq": seq,
                    "leaf_index": seq - 1,
                    "tree_size": latest.tree_size,
                    "checkpoint": latest.number,
                    "proof": [h.hex() for h in proof],
                }
                handle.write(json.dumps(document) + "\n")
                proofs += 1
    if not with_proofs:
        (out / "proofs" / "inclusion.jsonl").unlink()

    matrix = shipped()
    (out / "compliance.md").write_text(to_markdown(matrix), encoding="utf-8")
    (out / "compliance.json").write_text(to_json(matrix), encoding="utf-8")
    (out / "public_key.pem").write_bytes(public_key_pem(public_key))
    verifier = out / "verify.py"
    verifier.write_text(standalone_verifier(), encoding="utf-8")
    verifier.chmod(0o755)
    manifest = {
        "format": BUNDLE_FORMAT,
        "exported_at": canonical.format_time(datetime.now(UTC)),
        "filters": _filters_json(where),
        "entries": len(selected),
        "log_size": log_size,
        "checkpoints": len(checkpoints),
        "latest_checkpoint": latest.to_json() if latest else None,
        "public_key_id": key_id(public_key),
        "inclusion_proofs": proofs if with_proofs else None,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (out / "README.txt").write_text(_readme(manifest), encoding="utf-8")
    return ExportResult(out, len(selected), log_size, len(checkpoints), proofs, latest)


def csv_row(entry: dict[str, Any]) -> list[str]:
    """An entry document as a CSV row in `CSV_COLUMNS` order, safe to open in a spreadsheet."""
    return [_csv_cell(entry, column) for column in CSV_COLUMNS]


def _csv_cell(entry: dict[str, Any], column: str) -> str:
    value = entry[column]
    if column == "data":
        return canonical.jcs.encode(value) if not isinstance(value, str) else value
    text = str(value)
    # A cell a spreadsheet would run as a formula is shown as text (OWASP CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


def _unhex(value: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:
        return value.encode("utf-8", "replace")


def _filters_json(where: EntryFilter) -> dict[str, str]:
    filters = {}
    for name, value in vars(where).items():
        if value is not None:
            filters[name] = canonical.format_time(value) if isinstance(value, datetime) else value
    return filters


def _readme(manifest: dict[str, Any]) -> str:
    latest = manifest["latest_checkpoint"]
    signed = (
        f"checkpoint {latest['number']}, {latest['tree_size']} entries, signed "
        f"{latest['timestamp']}"
        if latest
        else "none yet"
    )
    filters = ", ".join(f"{k}={v}" for k, v in manifest["filters"].items()) or "none (complete)"
    return f"""Closeloop audit log export
==========================

Exported:           {manifest["exported_at"]}
Filters:            {filters}
Entries exported:   {manifest["entries"]} of {manifest["log_size"]}
Latest checkpoint:  {signed}
Signing key id:     {manifest["public_key_id"]}

How to verify (on your own machine; needs Python 3.8+ and `pip install cryptography`):

    cd <this folder>
    python verify.py --public-key /path/to/the/public_key.pem/you/were/given

Without --public-key it checks against public_key.pem in this folder, which proves only
that the bundle agrees with itself (whoever changed it could have replaced the key): it
then exits 2 unless you pass --internal-consistency-only. Add --witness FILE with
checkpoints you kept from earlier (an older export's checkpoints.jsonl) to prove this
bundle extends them. Exit status 0 means intact; 1 means something was changed or left
out (the first bad entry or checkpoint is named); 2 means the bundle could not be read or
no trusted key was given.

Files
-----
entries.jsonl      the exported entries, one JSON object per line, exactly as hashed
entries.csv        the same entries for spreadsheets (for reading; verify.py ignores it;
                   a cell starting with = + - @ is prefixed with ' so it is not a formula)
chain.txt          every entry of the whole log: "seq prev_hash entry_hash"
checkpoints.jsonl  every signed checkpoint: tree size, Merkle root, time, key id, signature
proofs/            consistency proofs between consecutive checkpoints; inclusion proofs
                   of the exported entries in the latest checkpoint (when present)
qmsr-records.jsonl the 21 CFR 820.35(a) complaint record of each exported complaint,
                   derived from entries.jsonl (each item names its audit seq); the
                   complainant's name and contact are not in the log, only their digest
compliance.md      the compliance matrix of the Closeloop version that made this export:
                   each clause, the feature, the tests that prove it, what is yours
                   (compliance.json: the same for machines)
public_key.pem     the Ed25519 public key that signs checkpoints
manifest.json      this summary, for machines
verify.py          the verifier; read it: it is one file, standard library + cryptography

How the hashes are computed
---------------------------
entry_hash  = SHA-256 of the RFC 8785 (JCS) canonical JSON of the object with the fields
              seq, complaint_id, entry_type, actor, recorded_at, occurred_at, reason, data,
              idempotency_key, prev_hash (times as in the file: UTC, 6 decimals, Z).
prev_hash   = the previous entry's entry_hash; 64 zeros for entry 1.
Merkle tree = RFC 9162 over leaves SHA-256(0x00 || the 32 bytes of entry_hash), inner
              nodes SHA-256(0x01 || left || right); leaf index = seq - 1.
Checkpoint  = Ed25519 signature over the ASCII text
              "closeloop-audit-checkpoint/v1\\n<tree_size>\\n<root_hash>\\n<timestamp>\\n".
"""
