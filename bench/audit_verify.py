"""Verification speed over a large log: `closeloop audit verify` and the standalone verifier.

    .venv/bin/python bench/audit_verify.py                             # 100,000 entries, SQLite
    .venv/bin/python bench/audit_verify.py --database-url postgresql://postgres@127.0.0.1:5432/test
    git show 485435d:audit/standalone/verify.py > /tmp/verify_before.py
    .venv/bin/python bench/audit_verify.py --baseline-verifier /tmp/verify_before.py

Builds a valid log quickly (the chain is computed in Python and bulk-inserted, with a
signed checkpoint every 1,000 entries, as the worker would make them), then times a full
`verify_log` (every hash, link, root, signature and consistency proof) and, on an export
of the same log, the auditor's standalone `verify.py`. A PostgreSQL URL names the server:
the run uses a scratch database it creates and drops.

Baselines in the same run: the full rules applied to every row (`verify`'s path before
its fast path, still there for every row that is not plainly intact), SHA-256 of every
entry's canonical bytes alone (the floor: what "at hashing speed" means), and with
`--baseline-verifier` an older `verify.py` on the same bundle. Figures per CPU-second
count: the machine is shared, so wall time says more about the neighbours than about us.
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

from audit import canonical, incidents, jcs, merkle
from audit.export import export_bundle
from audit.signing import Checkpoint, key_id, sign_checkpoint
from audit.store import AuditLog
from audit.tables import AuditEntryRow
from audit.tree import MerkleTree
from audit.verify import _Checker, verify_log

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


def full_rules_only(log: AuditLog, key: Ed25519PrivateKey) -> int:
    """`verify_log` as it was before its fast path: the full rules on every stored row."""
    stored = log.checkpoints()
    trusted = {key_id(key.public_key()): key.public_key()}
    acknowledged = incidents.read(log.rows_of_type(incidents.INCIDENT_TYPE), trusted)
    checker = _Checker(stored, (), trusted, acknowledged)
    for row in log.iter_rows(batch_size=10_000):
        checker.entry(row)
    report = checker.finish()
    assert report.ok, report.problems[:3]
    return report.entries


def hashing_only(log: AuditLog) -> tuple[int, float]:
    """CPU-seconds of SHA-256 over every entry's canonical bytes (built beforehand, untimed)."""
    count, seconds = 0, 0.0
    for batch in log.iter_row_batches(batch_size=10_000):
        encoded = [
            canonical.fast_entry_bytes(
                r[0], r[1], r[2], r[3], r[4], r[5], r[6], None, r[8], r[9], exact_data_text=r[7]
            )
            for r in batch
        ]
        cpu = time.process_time()
        for item in encoded:
            hashlib.sha256(item).hexdigest()
        seconds += time.process_time() - cpu
        count += len(encoded)
    return count, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--checkpoint-every", type=int, default=1000)
    parser.add_argument(
        "--baseline-verifier",
        type=Path,
        help="an older verify.py to run on the same bundle, for before/after in one run",
    )
    parser.add_argument(
        "--skip-full-rules", action="store_true", help="skip the full-rules baseline"
    )
    parser.add_argument(
        "--jobs", type=int, default=0, help="also time `verify --jobs N` (wall and all CPUs)"
    )
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

        parallel = None
        if args.jobs > 1:
            cpu, children = time.process_time(), _children_cpu()
            with_jobs = verify_log(log, [key.public_key()], jobs=args.jobs)
            parallel = (with_jobs.seconds, time.process_time() - cpu + _children_cpu() - children)
            assert with_jobs.ok and with_jobs.root_hash == report.root_hash

        full_cpu = None
        if not args.skip_full_rules:
            cpu = time.process_time()
            full_rules_only(log, key)
            full_cpu = time.process_time() - cpu
        hashed, hash_cpu = hashing_only(log)

        bundle = Path(folder) / "bundle"
        export_bundle(log, bundle, key.public_key())
        trusted_key = Path(folder) / "trusted.pem"  # the auditor's own copy, outside the bundle
        trusted_key.write_bytes((bundle / "public_key.pem").read_bytes())
        standalone_seconds, standalone_cpu = _standalone(bundle / "verify.py", bundle, trusted_key)
        before = None
        if args.baseline_verifier:
            before = _standalone(args.baseline_verifier.resolve(), bundle, trusted_key)
        log.dispose()

    backend = make_url(url).get_backend_name()
    print(
        f"database: {backend}, {report.entries:,} entries, {report.checkpoints} checkpoints "
        f"(built in {built:.1f} s)"
    )
    n = report.entries
    print(
        f"closeloop audit verify:  {n / report.seconds:9,.0f} entries/s wall, "
        f"{n / verify_cpu:9,.0f} per CPU-second  ({report.seconds:.2f} s, "
        f"{report.consistency_proofs} consistency proofs)"
    )
    if parallel is not None:
        print(
            f"  with --jobs {args.jobs}:  {n / parallel[0]:9,.0f} entries/s wall, "
            f"{n / parallel[1]:9,.0f} per CPU-second of all processes "
            f"({parallel[0]:.2f} s; wall {report.seconds / parallel[0]:.2f}x one process)"
        )
    if full_cpu is not None:
        print(
            f"  baseline, full rules on every row:  {n / full_cpu:9,.0f} per CPU-second  "
            f"(ratio ours/baseline {full_cpu / verify_cpu:.2f})"
        )
    print(
        f"  floor, SHA-256 of each entry only:  {hashed / hash_cpu:9,.0f} per CPU-second  "
        f"(ours at {hash_cpu / verify_cpu:.2f} of hashing speed)"
    )
    print(
        f"standalone verify.py:    {n / standalone_seconds:9,.0f} entries/s wall, "
        f"{n / standalone_cpu:9,.0f} per CPU-second  ({standalone_seconds:.2f} s, "
        "including Python start-up and reading the bundle)"
    )
    if before is not None:
        print(
            f"  baseline, {args.baseline_verifier}:  {n / before[1]:9,.0f} per CPU-second  "
            f"(ratio ours/baseline {before[1] / standalone_cpu:.2f})"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: this process {peak:,.0f} MB, largest verify.py {children:,.0f} MB")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def _standalone(verifier: Path, bundle: Path, trusted_key: Path) -> tuple[float, float]:
    """(wall seconds, CPU-seconds) of one standalone run on `bundle`."""
    started, children = time.perf_counter(), _children_cpu()
    run = subprocess.run(
        [sys.executable, str(verifier), str(bundle), "--quiet", "--public-key", str(trusted_key)],
        cwd=bundle,
        capture_output=True,
        text=True,
    )
    seconds, cpu = time.perf_counter() - started, _children_cpu() - children
    assert run.returncode == 0, run.stdout + run.stderr
    return seconds, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
