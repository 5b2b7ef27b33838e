"""Verification speed over a large log: `closeloop audit verify` and the standalone verifier.

    .venv/bin/python bench/audit_verify.py                             # 100,000 entries, SQLite
    .venv/bin/python bench/audit_verify.py --database-url postgresql://postgres@127.0.0.1:5432/test

Builds a valid log quickly (the chain is computed in Python and bulk-inserted, with a
signed checkpoint every 1,000 entries, as the worker would make them), then times a full
`verify_log` (every hash, link, root, signature and consistency proof) and, on an export
of the same log, the auditor's standalone `verify.py`. A PostgreSQL URL names the server:
the run uses a scratch database it creates and drops.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from scratch import scratch_database  # bench/ is on sys.path when run as a script
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from audit import canonical, jcs, merkle
from audit.export import export_bundle
from audit.signing import Checkpoint, key_id, sign_checkpoint
from audit.store import AuditLog
from audit.tables import AuditEntryRow
from audit.tree import MerkleTree
from audit.verify import verify_log

T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
STEPS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("complaint.received", "stream:intake", "Received from web-shop", {"channel": "web"}),
    ("complaint.acknowledged", "workflow:complaint", "Acknowledged", {"sla_hours": 24}),
    ("complaint.triaged", "alice@example.com", "Major", {"severity": "major", "score": 0.8}),
    ("investigation.started", "bob@example.com", "Lab analysis", {"lab": "QA-Lab Nürnberg"}),
    ("capa.opened", "bob@example.com", "Root cause found", {"capa_id": "CAPA-7", "tags": ["a"]}),
]


def build(log: AuditLog, key: Ed25519PrivateKey, count: int, every: int) -> None:
    """A valid log of `count` entries with a checkpoint every `every` entries."""
    prev_hash, tree, batch = canonical.GENESIS_HASH, MerkleTree(), []
    with log.engine.begin() as connection:
        for seq in range(1, count + 1):
            entry_type, actor, reason, data = STEPS[seq % len(STEPS)]
            when = canonical.format_time(T0 + timedelta(seconds=seq))
            data = {**data, "step": seq}
            fields: dict[str, Any] = {
                "seq": seq, "complaint_id": f"CMP-{100000 + seq // 5}",
                "entry_type": entry_type, "actor": actor, "recorded_at": when,
                "occurred_at": when, "reason": reason, "data": data,
                "idempotency_key": f"bench/{seq}", "prev_hash": prev_hash,
            }  # fmt: skip
            prev_hash = hashlib.sha256(canonical.fast_entry_bytes(**fields)).hexdigest()
            tree.append(merkle.leaf_hash(bytes.fromhex(prev_hash)))
            batch.append({**fields, "data": jcs.encode(data), "entry_hash": prev_hash})
            if len(batch) == 5000 or seq == count:
                connection.execute(insert(AuditEntryRow), batch)
                batch = []
    for size in [*range(every, count + 1, every), count]:
        checkpoint = Checkpoint(
            tree_size=size,
            root_hash=tree.root(size).hex(),
            timestamp=T0 + timedelta(seconds=size),
            key_id=key_id(key),
        )
        log.store_checkpoint(checkpoint, sign_checkpoint(key, checkpoint))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    args = parser.parse_args()

    key = Ed25519PrivateKey.generate()
    with scratch_database(args.database_url) as url, tempfile.TemporaryDirectory() as folder:
        log = AuditLog.from_url(url)
        started = time.perf_counter()
        build(log, key, args.entries, args.checkpoint_every)
        built = time.perf_counter() - started

        cpu = time.process_time()
        report = verify_log(log, [key.public_key()])
        verify_cpu = time.process_time() - cpu
        assert report.ok, report.problems[:3]

        bundle = Path(folder) / "bundle"
        export_bundle(log, bundle, key.public_key())
        trusted_key = Path(folder) / "trusted.pem"  # the auditor's own copy, outside the bundle
        trusted_key.write_bytes((bundle / "public_key.pem").read_bytes())
        started, children = time.perf_counter(), _children_cpu()
        standalone = subprocess.run(
            [sys.executable, "verify.py", "--quiet", "--public-key", str(trusted_key)],
            cwd=bundle,
            capture_output=True,
            text=True,
        )
        standalone_seconds = time.perf_counter() - started
        standalone_cpu = _children_cpu() - children
        assert standalone.returncode == 0, standalone.stdout + standalone.stderr
        log.dispose()

    backend = make_url(url).get_backend_name()
    print(
        f"database: {backend}, {report.entries:,} entries, {report.checkpoints} checkpoints "
        f"(built in {built:.1f} s)"
    )
    n = report.entries
    print(
        f"closeloop audit verify:  {n / report.seconds:8,.0f} entries/s wall, "
        f"{n / verify_cpu:8,.0f} per CPU-second  ({report.seconds:.2f} s, "
        f"{report.consistency_proofs} consistency proofs)"
    )
    print(
        f"standalone verify.py:    {n / standalone_seconds:8,.0f} entries/s wall, "
        f"{n / standalone_cpu:8,.0f} per CPU-second  ({standalone_seconds:.2f} s, "
        "including Python start-up and reading the bundle)"
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
