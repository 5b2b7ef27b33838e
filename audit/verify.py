"""Verification: recompute the whole log and check it against the signed checkpoints.

In one streamed pass from the first entry it checks that

- every entry's hash is SHA-256 of its canonical encoding (content unchanged),
- every entry's `prev_hash` is the previous entry's hash (order unchanged), and seqs run
  1, 2, 3… without gaps (nothing removed),
- the RFC 9162 root of the recomputed leaves equals the signed root at every checkpoint's
  tree size (no consistent rewrite), every signature is valid for a trusted key, checkpoint
  numbers have no gaps, and each checkpoint is provably consistent with the next,
- the log still holds every entry the latest checkpoint signed (no truncated tail).

Each problem names the entry (seq) or checkpoint and says what is wrong; `first_problem`
is the one to act on. Where a pattern says more (an entry that hashes correctly under a
neighbouring seq was moved; an entry that the next one skips was inserted) the message
says so. A rewrite that recomputed every later hash leaves no trace in the entries
themselves: only the signed roots catch it, and they can narrow it down to the entries
between the last checkpoint that still matches and the first that does not.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import hashlib
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit import canonical, entry_scan, incidents, merkle
from audit.checkpoints import SignedCheckpoint
from audit.cosignature import Cosigner, check_cosignatures
from audit.report import Problem, Report
from audit.signing import CheckpointSignatureError, key_id, verify_checkpoint_signature
from audit.store import AuditLog
from audit.tlog_checkpoint import note_problem
from audit.tree import MerkleTree

Progress = Callable[[int, int], None]
"""Called with (entries checked, entries expected) every `progress_every` entries."""


def verify_log(
    log: AuditLog,
    public_keys: Sequence[Ed25519PublicKey],
    *,
    witnessed: Sequence[SignedCheckpoint] = (),
    cosigners: Sequence[Cosigner] = (),
    required_cosignatures: int = 0,
    progress: Progress | None = None,
    progress_every: int = 10_000,
    jobs: int = 1,
) -> Report:
    """Verify `log` against the checkpoints it stores (and any `witnessed` ones).

    With `cosigners`, the latest checkpoint must carry valid cosignatures of at least
    `required_cosignatures` of them (k of n witnesses). With `jobs` > 1, that many
    processes recompute the entries' hashes, each a share of the seqs; this process
    still applies every rule, in seq order, to what they found.
    """
    started = time.perf_counter()
    stored = log.checkpoints()  # read before the entries: entries only grow meanwhile
    total = log.count()
    trusted = {key_id(k): k for k in public_keys}
    acknowledged = incidents.read(log.rows_of_type(incidents.INCIDENT_TYPE), trusted)
    checker = _Checker(stored, witnessed, trusted, acknowledged)
    with _no_cyclic_gc():
        _check_entries(checker, _scanned(log, total, jobs), total, progress, progress_every)
    report = checker.finish()
    if cosigners:
        check = check_cosignatures(stored, cosigners, required_cosignatures)
        report.cosigned_by = list(check.cosigned_by)
        report.problems += [
            Problem(message, checkpoint=number) for number, message in check.problems
        ]
    if progress and report.entries % progress_every:
        progress(report.entries, report.entries)
    report.seconds = time.perf_counter() - started
    return report


def _check_entries(
    checker: _Checker,
    scanned: Iterable[list[entry_scan.Segment]],
    total: int,
    progress: Progress | None,
    progress_every: int,
) -> None:
    for segments in scanned:
        before = checker.report.entries
        checker.segments(segments)
        if progress:
            done = checker.report.entries
            for shown in range(before - before % progress_every + progress_every, done + 1,
                               progress_every):  # fmt: skip
                progress(shown, max(total, shown))


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The pass allocates millions of short-lived rows and no cycles: collecting only costs.

    GC is the whole process's: a threaded caller (the console) keeps it running.
    """
    enabled = gc.isenabled() and threading.active_count() == 1
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _scanned(log: AuditLog, total: int, jobs: int) -> Iterator[list[entry_scan.Segment]]:
    """`entry_scan.scan` of every stored row, in seq order, in `jobs` processes if > 1."""
    after = 0
    if jobs > 1 and total > 1:
        # Small shares keep the workers busy to the end and this process's memory low.
        share = max(1, min(_SHARE, -(-total // (jobs * 4))))
        ranges = [(log.url, start, min(start + share, total)) for start in range(0, total, share)]
        # fork is cheap and safe with one thread; a threaded caller (the console) spawns.
        method = "fork" if threading.active_count() == 1 else "spawn"
        with multiprocessing.get_context(method).Pool(jobs) as pool:
            yield from pool.imap(_scan_range, ranges)
        after = total
    for batch in log.iter_row_batches(after=after, batch_size=10_000):  # all, or appended since
        yield entry_scan.scan(batch)


_SHARE = 50_000
_worker_logs: dict[str, AuditLog] = {}


def _scan_range(job: tuple[str, int, int]) -> list[entry_scan.Segment]:
    """In a worker: the scan of the rows `after < seq <= upto`."""
    url, after, upto = job
    log = _worker_logs.get(url)
    if log is None:
        log = _worker_logs[url] = AuditLog.from_url(url, create=False)
    segments: list[entry_scan.Segment] = []
    for batch in log.iter_row_batches(after=after, upto=upto, batch_size=10_000):
        segments += entry_scan.scan(batch)
    return segments


class _Checker:
    """The single pass; kept apart from the database so its rules read in one place."""

    def __init__(
        self,
        stored: Sequence[SignedCheckpoint],
        witnessed: Iterable[SignedCheckpoint],
        keys: dict[str, Ed25519PublicKey],
        acknowledged: dict[int, incidents.Incident] | None = None,
    ) -> None:
        self.incidents = acknowledged or {}
        self.report = Report(checkpoints=len(stored), latest=stored[-1] if stored else None)
        self.keys = keys
        self.tree = MerkleTree()
        self.expected_seq = 1
        self.prev_hash = canonical.GENESIS_HASH  # the previous row's stored hash
        self.before_prev_hash: str | None = None
        self.prev_intact = True  # the previous row hashed to its stored hash
        self.gap_at: int | None = None  # first missing seq: leaves after it are misplaced
        self.stored = list(stored)
        self.witnessed = list(witnessed)
        self.by_size: dict[int, list[tuple[str, SignedCheckpoint]]] = {}
        self.sizes: list[int] = []  # sorted keys of by_size
        self.matched: dict[int, bool] = {}  # id(checkpoint) -> its root matched
        self.origins: dict[str, str] = {}  # key id -> the origin its first note named
        self._check_checkpoint_list()
        self.sizes = sorted(self.by_size)

    def _problem(self, message: str, *, seq: int | None = None, number: int | None = None) -> None:
        self.report.problems.append(Problem(message, seq=seq, checkpoint=number))

    # --- checkpoints, before any entry -----------------------------------------------------

    def _check_checkpoint_list(self) -> None:
        previous: SignedCheckpoint | None = None
        for cp in self.stored:
            if cp.malformed:
                self._problem(f"{cp.label}: malformed row: {cp.malformed}", number=cp.number)
            if previous is None and cp.number != 1:
                self._problem(f"checkpoints 1..{cp.number - 1} missing", number=1)
            elif previous is not None and cp.number != previous.number + 1:
                self._problem(
                    f"checkpoint {previous.number + 1} missing "
                    f"(gap between checkpoints {previous.number} and {cp.number})",
                    number=previous.number + 1,
                )
            if previous is not None and cp.tree_size < previous.tree_size:
                self._problem(
                    f"{cp.label}: smaller than {previous.label}: a log never shrinks",
                    number=cp.number,
                )
            self._check_signature(cp, cp.label)
            self.by_size.setdefault(cp.tree_size, []).append((cp.label, cp))
            previous = cp
        by_number = {cp.number: cp for cp in self.stored}
        for cp in self.witnessed:
            label = f"witnessed {cp.label}"
            self._check_signature(cp, label)
            own = by_number.get(cp.number)
            if own is None:
                self._problem(f"{label}: missing from the database", number=cp.number)
            elif own.fields() != cp.fields():
                self._problem(
                    f"{label}: the database's checkpoint {cp.number} differs from it "
                    f"(size {own.tree_size}, root {own.root_hash})",
                    number=cp.number,
                )
            self.by_size.setdefault(cp.tree_size, []).append((label, cp))

    def _check_signature(self, cp: SignedCheckpoint, label: str) -> None:
        key = self.keys.get(cp.checkpoint.key_id)
        if key is None:
            trusted = ", ".join(sorted(self.keys)) or "none"
            self._problem(
                f"{label}: signed by key {cp.checkpoint.key_id}, which is not a trusted key "
                f"(trusted: {trusted})",
                number=cp.number,
            )
            return
        try:
            verify_checkpoint_signature(key, cp.checkpoint, cp.signature)
        except (CheckpointSignatureError, ValueError):
            self._problem(
                f"{label}: signature invalid (the checkpoint was altered or not signed by "
                f"key {cp.checkpoint.key_id})",
                number=cp.number,
            )
        if cp.note is not None:
            self._check_note(cp, label, key)

    def _check_note(self, cp: SignedCheckpoint, label: str, key: Ed25519PublicKey) -> None:
        """The C2SP copy says the same, under the same key, and one log keeps one origin."""
        problem, origin = note_problem(cp.note or "", cp.tree_size, cp.root_hash, key)
        if problem:
            self._problem(f"{label}: {problem}", number=cp.number)
        if origin is not None:
            first = self.origins.setdefault(cp.checkpoint.key_id, origin)
            if origin != first:
                self._problem(
                    f"{label}: its note names log {origin!r}, earlier ones {first!r}",
                    number=cp.number,
                )

    # --- entries ---------------------------------------------------------------------------

    def segments(self, segments: Iterable[entry_scan.Segment]) -> None:
        """What `entry_scan.scan` made of consecutive rows, in order."""
        for segment in segments:
            if isinstance(segment, entry_scan.Run):
                self.run(segment)
            else:
                self.entry(segment)

    def run(self, run: entry_scan.Run) -> None:
        """Rows that are plainly intact and linked to each other: `entry` of each, at once.

        Only the first row's place (its seq and link to the row before) is unchecked; if
        it is off, that row takes the full rules and the rest follow it as checked.
        """
        seq, leaves, count = run.first[0], run.leaves, run.count
        if seq != self.expected_seq or run.first[9] != self.prev_hash:
            self.entry(run.first)
            seq, leaves, count = seq + 1, leaves[1:], count - 1
            if not count:
                return
        self.before_prev_hash, self.prev_hash = run.last_prev_hash, run.last_hash
        self.prev_intact = True
        self.expected_seq = seq + count
        self.report.entries += count
        if self.gap_at is None:
            old = self.tree.size
            self.tree.extend(leaves)
            sizes = self.sizes
            for i in range(bisect.bisect_right(sizes, old), len(sizes)):
                if sizes[i] > self.tree.size:
                    break
                for label, cp in self.by_size[sizes[i]]:
                    self._check_root(label, cp)

    def entry(self, row: Sequence[Any]) -> None:
        (seq, complaint_id, entry_type, actor, recorded_at, occurred_at, reason, data,
         idempotency_key, prev_hash, stored_hash) = row  # fmt: skip
        gap = seq != self.expected_seq
        if gap:
            self._gap(seq)
        fields = (complaint_id, entry_type, actor, recorded_at, occurred_at, reason)
        known = self.incidents.get(seq)
        acknowledged = known is not None and known.entry_hash == stored_hash
        try:
            not_canonical = canonical.non_canonical_reason(data)
            if not_canonical:
                self._data_finding(seq, not_canonical, acknowledged)
            recomputed = _hash_as(seq, fields, data, idempotency_key, prev_hash)
        except (ValueError, TypeError, RecursionError) as exc:
            self._data_finding(seq, f"cannot be encoded canonically ({exc})", acknowledged)
            recomputed = stored_hash if acknowledged else "0" * 64
        if recomputed != stored_hash:
            self._problem(
                f"entry {seq}: hash mismatch (stored {stored_hash}, recomputed {recomputed})"
                + _moved_hint(seq, fields, data, idempotency_key, prev_hash, stored_hash),
                seq=seq,
            )
        if prev_hash != self.prev_hash and not gap:  # a gap explains a broken link
            self._broken_link(seq, prev_hash)
        self.before_prev_hash, self.prev_hash = self.prev_hash, stored_hash
        self.prev_intact = recomputed == stored_hash
        self.expected_seq = seq + 1
        self.report.entries += 1
        if self.gap_at is None:
            self.tree.append(merkle.leaf_hash(bytes.fromhex(recomputed)))
            for label, cp in self.by_size.get(self.tree.size, ()):
                self._check_root(label, cp)

    def _data_finding(self, seq: int, finding: str, acknowledged: bool) -> None:
        """A bad entry: a problem, unless the key holder acknowledged it (audit.incidents)."""
        if not acknowledged:
            self._problem(f"entry {seq}: {finding}", seq=seq)
        elif seq not in self.report.incidents:
            self.report.incidents.append(seq)
            self.report.warnings.append(self.incidents[seq].describe())

    def _gap(self, seq: int) -> None:
        first, last = self.expected_seq, seq - 1
        if seq < first:  # cannot happen with a primary key; be explicit if it does
            self._problem(f"entry {seq}: out of order after entry {first - 1}", seq=seq)
            return
        what = f"entry {first} missing" if first == last else f"entries {first}..{last} missing"
        self._problem(f"{what} (gap between {first - 1} and {seq})", seq=first)
        if self.gap_at is None:
            self.gap_at = first

    def _broken_link(self, seq: int, prev_hash: str) -> None:
        if prev_hash == self.before_prev_hash and self.prev_intact and seq > 2:
            # The previous entry is well formed but the chain goes around it.
            self._problem(
                f"entry {seq - 1}: inserted: entry {seq} links to entry {seq - 2}, skipping it",
                seq=seq - 1,
            )
            return
        if prev_hash == canonical.GENESIS_HASH and seq != 1:
            hint = " (it claims to be the first entry)"
        else:
            hint = ""
        self._problem(
            f"entry {seq}: previous-hash link broken (prev_hash {prev_hash} is not "
            f"entry {seq - 1}'s hash {self.prev_hash}){hint}",
            seq=seq,
        )

    def _check_root(self, label: str, cp: SignedCheckpoint) -> None:
        recomputed = self.tree.root(cp.tree_size).hex()
        self.matched[id(cp)] = recomputed == cp.root_hash
        if recomputed == cp.root_hash:
            return
        if any(
            self.matched.get(id(other)) and other.tree_size == cp.tree_size for other in self.stored
        ):
            self._problem(
                f"{label}: root mismatch (signed {cp.root_hash}, entries give {recomputed}): "
                "a checkpoint of another tree, since another checkpoint of the same size "
                "matches",
                number=cp.number,
            )
            return
        # The entries this checkpoint signed that no earlier matching checkpoint covers.
        good = [
            other.tree_size
            for other in self.stored
            if self.matched.get(id(other)) and other.tree_size < cp.tree_size
        ]
        first = max(good, default=0) + 1
        since = f"checkpoint at size {first - 1} still matches" if first > 1 else "from the start"
        explained = any(
            p.seq is not None and first <= p.seq <= cp.tree_size for p in self.report.problems
        )
        self._problem(
            f"{label}: root mismatch (signed {cp.root_hash}, entries give {recomputed}): "
            f"{_span(first, cp.tree_size)} that {'was' if first == cp.tree_size else 'were'} "
            f"signed ({since})",
            seq=None if explained else first,
            number=cp.number,
        )

    # --- after the last entry --------------------------------------------------------------

    def finish(self) -> Report:
        report = self.report
        size = self.expected_seq - 1
        report.root_hash = self.tree.root().hex()
        everything = self.stored + self.witnessed
        longest = max(everything, key=lambda cp: cp.tree_size, default=None)
        if longest is not None and longest.tree_size > size:
            label = ("witnessed " if longest in self.witnessed else "") + longest.label
            self._problem(
                f"entries {size + 1}..{longest.tree_size} missing: {label} signed "
                f"{longest.tree_size} entries but the log ends at entry {size} "
                "(tail truncated)",
                seq=size + 1,
            )
        if self.gap_at is not None:
            report.warnings.append(
                f"Merkle roots not checked past entry {self.gap_at - 1}: entries are missing"
            )
        else:
            self._check_consistency()
        if not self.stored:
            report.warnings.append(
                "no checkpoints: the chain is intact, but a consistent rewrite of the whole "
                "log would go unnoticed; run `closeloop audit checkpoint`"
            )
        elif report.latest and report.latest.tree_size < size:
            report.warnings.append(
                f"entries {report.latest.tree_size + 1}..{size} are not signed by a checkpoint "
                "yet (the worker signs them shortly; or run `closeloop audit checkpoint`)"
            )
        return report

    def _check_consistency(self) -> None:
        """Prove each stored checkpoint consistent with the next, from the recomputed tree."""
        for old, new in zip(self.stored, self.stored[1:], strict=False):
            if old.malformed or new.malformed:
                continue  # already a finding; its fields cannot take part in a proof
            if old.tree_size == 0 or new.tree_size > self.tree.size:
                continue
            if new.tree_size < old.tree_size:
                continue  # reported as shrinking already
            proof = self.tree.consistency_proof(old.tree_size, new.tree_size)
            self.report.consistency_proofs += 1
            try:
                merkle.verify_consistency(
                    old.tree_size,
                    new.tree_size,
                    old.checkpoint.root_bytes(),
                    new.checkpoint.root_bytes(),
                    proof,
                )
            except (merkle.ProofError, ValueError) as exc:
                if self.matched.get(id(old)) is False or self.matched.get(id(new)) is False:
                    continue  # a root mismatch is reported already; this adds nothing
                self._problem(
                    f"{new.label}: not consistent with {old.label}: {exc}", number=new.number
                )


def _span(first: int, last: int) -> str:
    if first == last:
        return f"entry {first} is not the entry"
    return f"entries {first}..{last} are not the entries"


def _moved_hint(
    seq: int,
    fields: tuple[str, ...],
    data: str,
    idempotency_key: str,
    prev_hash: str,
    stored_hash: str,
) -> str:
    """If the row hashes to its stored value under a neighbouring seq, it was moved."""
    for other in (seq - 1, seq + 1):
        if other < 1:
            continue
        try:
            if _hash_as(other, fields, data, idempotency_key, prev_hash) == stored_hash:
                return f": it hashes correctly as seq {other}, so it was moved from seq {other}"
        except (ValueError, TypeError):
            return ""
    return ""


def _hash_as(
    seq: int, fields: tuple[str, ...], data: str, idempotency_key: str, prev_hash: str
) -> str:
    """The hash of exactly the stored text (checked canonical before, or reported)."""
    complaint_id, entry_type, actor, recorded_at, occurred_at, reason = fields
    encoded = canonical.fast_entry_bytes(
        seq, complaint_id, entry_type, actor, recorded_at, occurred_at, reason, None,
        idempotency_key, prev_hash, exact_data_text=data,
    )  # fmt: skip
    return hashlib.sha256(encoded).hexdigest()
