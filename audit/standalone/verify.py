#!/usr/bin/env python3
# mypy: disallow-untyped-defs=False
"""Verify a Closeloop audit export bundle on your own machine, without trusting Closeloop.

Run it inside the bundle (or pass the bundle's folder):

    python verify.py --public-key FILE    # the public key you obtained yourself
    python verify.py --witness OLD.jsonl  # and checkpoints you kept from earlier
    python verify.py --internal-consistency-only   # the bundle's own key: proves less
    python verify.py --json               # machine-readable result

Exit status: 0 the bundle is intact, 1 something was changed (the first bad entry or
checkpoint is named), 2 the bundle cannot be read, the arguments are wrong, or no trusted
key was given (without --public-key the bundle's own key proves only that the bundle
agrees with itself: exit 0 for that only with --internal-consistency-only).

Needs Python 3.8 or newer and the `cryptography` package (for Ed25519); nothing else. It
does not import Closeloop: every rule is re-implemented here from the published format, so
it checks Closeloop instead of repeating it.

What it checks, from the first entry:

1. Each checkpoint's Ed25519 signature over the text
   "closeloop-audit-checkpoint/v1\\n<tree_size>\\n<root_hash>\\n<timestamp>\\n" with a
   trusted key; checkpoint numbers 1, 2, 3... without gaps; sizes that never shrink.
   A checkpoint that also carries a C2SP tlog-checkpoint signed note ("note": origin,
   size and base64 root, then "\u2014 <origin> base64(4-byte key id || signature)") must
   name the same size and root and be signed by the same key under its origin.
2. The chain (chain.txt: every entry of the log as "seq prev_hash entry_hash"): seqs
   1, 2, 3... without gaps, and each prev_hash equal to the previous entry's hash.
3. Each exported entry (entries.jsonl): its hash recomputed as SHA-256 of the RFC 8785
   canonical JSON of its ten fields equals the chain's hash for its seq.
4. The RFC 9162 Merkle tree whose leaves are SHA-256(0x00 || entry hash bytes): its root
   at each checkpoint's tree size equals the signed root, each consecutive pair of
   checkpoints has a valid consistency proof (proofs/consistency.jsonl), and every
   exported entry has a valid inclusion proof against the latest checkpoint
   (proofs/inclusion.jsonl, when the bundle has it).
5. Nothing was cut off: the log reaches the latest checkpoint's tree size, and the size
   of every checkpoint given with --witness (whose roots must match as well).
6. An entry whose data is not what was hashed is a problem, unless a later `audit.incident`
   entry signed by a trusted key acknowledges it (the incident procedure): then it is a
   warning on every run, and its stored hash stands as its leaf.
7. The bundle holds what manifest.json says: as many checkpoints, chain entries and
   entries; an unfiltered export holds every entry, once and in order; a filtered one
   states its filter and proves each entry it holds by inclusion.
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import json
import json.encoder
import math
import os
import sys
from json.encoder import encode_basestring  # type: ignore[attr-defined]

EXIT_OK, EXIT_TAMPERED, EXIT_USAGE = 0, 1, 2
GENESIS_HASH = "0" * 64
MESSAGE_HEADER = "closeloop-audit-checkpoint/v1"
MAX_SAFE_INTEGER = 2**53 - 1


class UsageError(Exception):
    """The bundle cannot be read (missing or malformed file) or an argument is wrong."""


# --- RFC 8785: JSON Canonicalization Scheme ------------------------------------------------
# Handles every value JSON parsing gives: objects, arrays, strings, integers within
# +-(2**53 - 1), finite floats, true, false, null.


def jcs(value):
    kind = type(value)
    if kind is str:
        # The standard library's escaper follows RFC 8785 section 3.2.2.2 exactly:
        # '"' and '\\', \b \f \n \r \t, other controls as \u00xx, all else literal.
        return encode_basestring(value)
    if kind is dict:
        members = sorted(value.items(), key=lambda item: item[0].encode("utf-16-be"))
        return "{" + ",".join(encode_basestring(k) + ":" + jcs(v) for k, v in members) + "}"
    if kind is list:
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is outside the range JSON numbers hold exactly")
        return str(value)
    if kind is float:
        return _es_number(value)
    raise ValueError(f"{kind.__name__} is not a JSON type")


def _es_number(value):
    """ECMAScript Number.prototype.toString, as RFC 8785 section 3.2.2.3 requires."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{value!r} is not allowed in JSON")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr() gives the shortest round-tripping digits, the same digits ECMAScript picks.
    mantissa, _, exp = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    exponent = int(exp) if exp else 0
    if whole == "0":
        digits = fraction.lstrip("0")
        point = exponent - (len(fraction) - len(digits))
    else:
        digits = whole + fraction
        point = exponent + len(whole)
    digits = digits.rstrip("0") or "0"
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    shown = point - 1
    tail = "." + digits[1:] if count > 1 else ""
    return f"{sign}{digits[0]}{tail}e{'+' if shown > 0 else '-'}{abs(shown)}"


HASHED_FIELDS = (
    "seq", "complaint_id", "entry_type", "actor", "recorded_at", "occurred_at",
    "reason", "data", "idempotency_key", "prev_hash",
)  # fmt: skip
_HASHED_SET = frozenset(HASHED_FIELDS)


def entry_hash(entry, seq=None, simple=False):
    """SHA-256 of the canonical JSON of the entry's ten hashed fields (hex).

    `simple`: the entry's JSON line passed `read_entry`'s test, so the standard library's
    encoder with sorted keys gives the same bytes as `jcs`, only faster.
    """
    if len(entry) == len(HASHED_FIELDS) + 1 and "entry_hash" in entry:
        fields = entry.copy()  # the line's own members: the ten fields and entry_hash
        del fields["entry_hash"]
    else:
        fields = {name: entry[name] for name in HASHED_FIELDS}
    if seq is not None:
        fields["seq"] = seq
    text = "".join(_ENCODE(fields, 0)) if simple else jcs(fields)  # type: ignore[arg-type]
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# The standard library's encoder with sorted keys writes exactly RFC 8785 when the JSON
# has no characters outside the Basic Multilingual Plane (for those, code-point order is
# UTF-16 order), no \u escapes, only integers within +-(2**53 - 1), and only floats whose
# repr ECMAScript writes alike (not integral, 1e-4 <= |x| < 1e16). Else: the full `jcs`.
_BMP_END = "\U00010000"


class _NotSimple(Exception):
    pass


def _simple_int(text):
    value = int(text)
    if len(text) > 15 and abs(value) > MAX_SAFE_INTEGER:
        raise _NotSimple
    return value


def _simple_float(text):
    value = float(text)
    if value.is_integer() or not 1e-4 <= abs(value) < 1e16:
        raise _NotSimple
    return value


def _not_simple(_text):
    raise _NotSimple


_SIMPLE_DECODER = json.JSONDecoder(
    parse_float=_simple_float, parse_int=_simple_int, parse_constant=_not_simple
)
_SCAN = _SIMPLE_DECODER.scan_once  # type: ignore[attr-defined]  # C scanner, no decode()
_SORTED_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
# The C encoder that _SORTED_ENCODER.encode ends in, without the Python layers above it
# (parsed JSON has no cycles, so no markers); the pure-Python one where there is no C.
_ENCODE = _SORTED_ENCODER.iterencode
if getattr(json.encoder, "c_make_encoder", None) is not None:
    _ENCODE = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, None, encode_basestring, None, ":", ",", True, False, False
    )


def read_entry(line):
    """(entry, simple): the parsed JSON line, and whether the fast encoder may hash it."""
    if "\\u" not in line and (line.isascii() or max(line) < _BMP_END):
        try:
            value, end = _SCAN(line, 0)
            if not line[end:].strip(" \t\n\r"):
                return value, True
        except (_NotSimple, StopIteration, ValueError, RecursionError):
            pass  # json.loads below says what is wrong, or takes the full path
    return json.loads(line), False


# --- RFC 9162: Merkle tree hashing and proofs -----------------------------------------------


def leaf_hash(entry_hash_hex):
    return hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash_hex)).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


class Tree:
    """Leaves plus every aligned perfect subtree's root, for roots at any earlier size."""

    def __init__(self):
        self.levels: list[list[bytes]] = [[]]

    @property
    def size(self):
        return len(self.levels[0])

    def append(self, leaf):
        levels = self.levels
        levels[0].append(leaf)
        height = 0
        while len(levels[height]) % 2 == 0:
            if height + 1 == len(levels):
                levels.append([])
            below = levels[height]
            levels[height + 1].append(node_hash(below[-2], below[-1]))
            height += 1

    def extend(self, leaves):
        """`append` of each leaf, each level's new nodes hashed in one pass."""
        levels = self.levels
        levels[0].extend(leaves)
        sha256, height = hashlib.sha256, 0
        while len(levels[height]) >= 2:
            if height + 1 == len(levels):
                levels.append([])
            below, above = levels[height], levels[height + 1]
            start = 2 * len(above)
            if start + 1 >= len(below):
                break
            above.extend(
                [
                    sha256(b"\x01" + below[i] + below[i + 1]).digest()
                    for i in range(start, len(below) - 1, 2)
                ]
            )
            height += 1

    def root(self, size=None):
        size = self.size if size is None else size
        if size == 0:
            return hashlib.sha256(b"").digest()
        peaks, position = [], 0
        for height in range(size.bit_length() - 1, -1, -1):
            if size & (1 << height):
                peaks.append(self.levels[height][position >> height])
                position += 1 << height
        result = peaks[-1]
        for peak in reversed(peaks[:-1]):
            result = node_hash(peak, result)
        return result


class ProofError(Exception):
    pass


def verify_inclusion(leaf, index, size, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if any(len(p) != 32 for p in proof) or len(root) != 32 or len(leaf) != 32:
        raise ProofError("a hash in the proof is not 32 bytes")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError(f"inclusion proof gives root {r.hex()}, not {root.hex()}")


def verify_consistency(old_size, new_size, old_root, new_root, proof):
    """RFC 9162 section 2.1.4.2; equal sizes need an empty proof and equal roots."""
    if old_size < 1 or new_size < old_size:
        raise ProofError(f"sizes {old_size} -> {new_size} cannot be proven consistent")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise ProofError(f"same tree size {old_size} but different roots or a proof")
        return
    if not proof or any(len(p) != 32 for p in proof):
        raise ProofError("consistency proof is empty or malformed")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root or sr != new_root:
        raise ProofError("consistency proof does not lead to the signed roots")


# --- Ed25519 checkpoint signatures -------------------------------------------------------


def load_public_key(path):
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        raise UsageError("needs the `cryptography` package: pip install cryptography") from None
    try:
        with open(path, "rb") as handle:
            key = serialization.load_pem_public_key(handle.read())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is not a readable PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{path} is not an Ed25519 public key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16], key


def signed_message(cp):
    lines = (MESSAGE_HEADER, str(cp["tree_size"]), cp["root_hash"], cp["timestamp"])
    return "".join(line + "\n" for line in lines).encode("ascii")


def signature_valid(key, cp):
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(bytes.fromhex(cp["signature"]), signed_message(cp))
    except (InvalidSignature, ValueError, UnicodeError):
        return False
    return True


def note_problem(key, cp):
    """What is wrong with the checkpoint's C2SP signed note, or None (c2sp.org/signed-note)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    text = cp["note"]
    split = text.rfind("\n\n")
    if split < 0 or not text.endswith("\n"):
        return "its C2SP note is not a signed note (no blank line, or no final newline)"
    body, lines = text[: split + 1], text[split + 2 : -1].split("\n")
    head = body.split("\n")
    if len(head) != 4 or head[3] != "":
        return "its C2SP note is not origin, size and root"
    origin = head[0]
    try:
        root = base64.b64decode(head[2], validate=True).hex()
    except ValueError:
        return "its C2SP note's root is not base64"
    if head[1] != str(cp["tree_size"]) or root != cp["root_hash"]:
        return f"its C2SP note names size {head[1]} and root {root}, not the checkpoint's"
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_hash = hashlib.sha256(origin.encode() + b"\n\x01" + raw).digest()[:4]
    for line in lines:
        name, _, encoded = line[2:].partition(" ")
        if not line.startswith("\u2014 ") or name != origin:
            continue
        try:
            signed = base64.b64decode(encoded, validate=True)
        except ValueError:
            return "its C2SP note has a signature line that is not base64"
        if signed[:4] != key_hash:
            continue
        try:
            key.verify(signed[4:], body.encode("utf-8"))
        except InvalidSignature:
            return f"its C2SP note's signature of log {origin} is invalid"
        return None
    return f"its C2SP note has no signature of log {origin} by key {cp['key_id']}"


# --- acknowledged incidents ---------------------------------------------------------------


INCIDENT_MESSAGE = "closeloop-audit-incident/v1\n{seq}\n{entry_hash}\n"


def acknowledged_incidents(exported, keys):
    """{seq: (entry hash, acknowledging seq, reason)} from `audit.incident` entries whose
    signature over INCIDENT_MESSAGE verifies with a trusted key (README: the incident
    procedure). A bad entry so acknowledged is reported as a warning on every run."""
    from cryptography.exceptions import InvalidSignature

    found: dict = {}
    candidates = [(n, e) for n, e in exported.items() if e.get("entry_type") == "audit.incident"]
    for seq, entry in sorted(candidates):
        data = entry.get("data")
        if entry.get("entry_type") != "audit.incident" or not isinstance(data, dict):
            continue
        try:
            target, target_hash = int(data["seq"]), str(data["entry_hash"])
            key = keys.get(data["key_id"])
            if key is None or target >= seq:
                continue
            message = INCIDENT_MESSAGE.format(seq=target, entry_hash=target_hash)
            key.verify(bytes.fromhex(data["signature"]), message.encode("ascii"))
        except (KeyError, TypeError, ValueError, InvalidSignature):
            continue
        found.setdefault(target, (target_hash, seq, entry.get("reason", "")))
    return found


# --- reading the bundle ------------------------------------------------------------------


def read_jsonl(path, required=True):
    if not os.path.exists(path):
        if required:
            raise UsageError(f"{path} is missing: is this an audit export bundle?")
        return None
    items = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except RecursionError:
                raise UsageError(f"{path} line {number} is nested too deeply") from None
            except ValueError as exc:
                raise UsageError(f"{path} line {number} is not JSON: {exc}") from None
    return items


def read_entries(path):
    if not os.path.exists(path):
        raise UsageError(f"{path} is missing: is this an audit export bundle?")
    entries = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                entries.append(read_entry(line))
            except RecursionError:
                raise UsageError(f"{path} line {number} is nested too deeply") from None
            except ValueError as exc:
                raise UsageError(f"{path} line {number} is not JSON: {exc}") from None
    return entries


def read_chain(path):
    if not os.path.exists(path):
        raise UsageError(f"{path} is missing: is this an audit export bundle?")
    chain = []
    with open(path, encoding="ascii") as handle:
        for number, line in enumerate(handle, start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 3 or not parts[0].isdigit():
                raise UsageError(f"{path} line {number} is not 'seq prev_hash entry_hash'")
            chain.append((int(parts[0]), parts[1], parts[2]))
    return chain


# --- the checks --------------------------------------------------------------------------


class Result:
    def __init__(self):
        self.problems = []  # (seq or None, checkpoint number or None, message)
        self.warnings = []
        self.entries = 0
        self.exported = 0
        self.checkpoints = 0
        self.consistency_proofs = 0
        self.inclusion_proofs = 0
        self.root_hash = hashlib.sha256(b"").hexdigest()
        self.latest = None
        self.filters = {}

    def problem(self, message, seq=None, checkpoint=None):
        self.problems.append((seq, checkpoint, message))

    def first(self):
        named = [p for p in self.problems if p[0] is not None]
        if named:
            return min(named, key=lambda p: p[0])
        return self.problems[0] if self.problems else None


def label(cp):
    return f"checkpoint {cp['number']} (size {cp['tree_size']})"


def check_checkpoints(result, checkpoints, keys):
    previous = None
    for cp in checkpoints:
        if previous is None and cp["number"] != 1:
            result.problem(f"checkpoints 1..{cp['number'] - 1} missing", checkpoint=1)
        elif previous is not None and cp["number"] != previous["number"] + 1:
            result.problem(
                f"checkpoint {previous['number'] + 1} missing "
                f"(gap between checkpoints {previous['number']} and {cp['number']})",
                checkpoint=previous["number"] + 1,
            )
        if previous is not None and cp["tree_size"] < previous["tree_size"]:
            result.problem(
                f"{label(cp)}: smaller than {label(previous)}: a log never shrinks",
                checkpoint=cp["number"],
            )
        key = keys.get(cp["key_id"])
        if key is None:
            result.problem(
                f"{label(cp)}: signed by key {cp['key_id']}, which is not a trusted key "
                f"(trusted: {', '.join(sorted(keys)) or 'none'})",
                checkpoint=cp["number"],
            )
        elif not signature_valid(key, cp):
            result.problem(
                f"{label(cp)}: signature invalid (the checkpoint was altered or not signed by "
                f"key {cp['key_id']})",
                checkpoint=cp["number"],
            )
        elif "note" in cp and note_problem(key, cp):
            result.problem(f"{label(cp)}: {note_problem(key, cp)}", checkpoint=cp["number"])
        previous = cp


def read_manifest(path):
    """manifest.json: what the bundle claims to hold, which the checks below hold it to."""
    if not os.path.exists(path):
        raise UsageError(f"{path} is missing: is this an audit export bundle?")
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{path} is not JSON: {exc}") from None
    needed = ("entries", "log_size", "checkpoints", "filters")
    if not isinstance(manifest, dict) or any(name not in manifest for name in needed):
        raise UsageError(f"{path} is not an audit bundle manifest (needs {', '.join(needed)})")
    if not isinstance(manifest["filters"], dict):
        raise UsageError(f"{path}: filters is not an object")
    return manifest


def is_filtered(manifest):
    return any(value not in (None, "") for value in manifest["filters"].values())


def check_manifest(result, manifest, checkpoints, chain, order):
    """The files hold what the manifest says: nothing removed, added or swapped."""
    if manifest["checkpoints"] != len(checkpoints):
        result.problem(
            f"checkpoints.jsonl holds {len(checkpoints)} checkpoints but the manifest says "
            f"{manifest['checkpoints']}: checkpoints were removed or added"
        )
    latest = manifest.get("latest_checkpoint")
    if (checkpoints and latest != checkpoints[-1]) or (latest and not checkpoints):
        result.problem("the manifest's latest checkpoint is not the last in checkpoints.jsonl")
    if manifest["log_size"] != len(chain):
        result.problem(
            f"chain.txt holds {len(chain)} entries but the manifest says {manifest['log_size']}"
        )
    if manifest["entries"] != len(order):
        result.problem(
            f"entries.jsonl holds {len(order)} entries but the manifest says {manifest['entries']}"
        )


def check_completeness(result, manifest, order, size, checkpoints):
    """Missing, extra, duplicated or reordered entries fail, naming the seq.

    An unfiltered export holds every entry up to the end of its chain; a filtered one
    holds what its filter selected, each proven by inclusion (`_check_inclusion`).
    """
    seen, previous = set(), 0
    for seq in order:
        if seq in seen:
            result.problem(f"entry {seq}: exported twice in entries.jsonl", seq)
        elif seq < previous:
            result.problem(f"entry {seq}: out of order in entries.jsonl (after {previous})", seq)
        seen.add(seq)
        previous = max(previous, seq)
    if is_filtered(manifest):
        return
    missing = sorted(set(range(1, size + 1)) - seen)
    for first, last in _runs(missing):
        span = f"entry {first}" if first == last else f"entries {first}..{last}"
        result.problem(
            f"{span} missing from entries.jsonl: an unfiltered export holds every entry", first
        )


def _runs(numbers):
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return [tuple(run) for run in runs]


def check_witnessed(result, witnessed, checkpoints, keys):
    """Checkpoints the auditor kept: signed by a trusted key and agreeing with the bundle."""
    by_number = {cp["number"]: cp for cp in checkpoints}
    by_size: dict[int, list[dict]] = {}
    for cp in witnessed:
        name = "witnessed " + label(cp)
        key = keys.get(cp["key_id"])
        if key is None or not signature_valid(key, cp):
            result.problem(f"{name}: not validly signed by a trusted key", None, cp["number"])
            continue
        own = by_number.get(cp["number"])
        if own is not None and own != cp:
            result.problem(
                f"{name}: the bundle's checkpoint {cp['number']} differs from it",
                None,
                cp["number"],
            )
        by_size.setdefault(cp["tree_size"], []).append(cp)
    return by_size


def read_witnesses(paths):
    witnessed = []
    for path in paths:
        items = read_jsonl(path)
        for number, cp in enumerate(items, start=1):
            if not isinstance(cp, dict) or not _is_checkpoint(cp):
                raise UsageError(f"{path} line {number} is not a checkpoint")
        witnessed.extend(items)
    return witnessed


def check_bundle(bundle, keys, progress=None, witnessed=()):
    # Millions of parsed entries stay alive to the end and hold no reference cycles: the
    # cyclic garbage collector would only walk them again and again (a third of the time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _check_bundle(bundle, keys, progress, witnessed)
    finally:
        if enabled:
            gc.enable()


def _check_bundle(bundle, keys, progress, witnessed):
    result = Result()
    manifest = read_manifest(os.path.join(bundle, "manifest.json"))
    checkpoints = read_jsonl(os.path.join(bundle, "checkpoints.jsonl"))
    for number, cp in enumerate(checkpoints, start=1):
        if not isinstance(cp, dict) or not _is_checkpoint(cp):
            raise UsageError(f"checkpoints.jsonl line {number} is not a checkpoint")
    chain = read_chain(os.path.join(bundle, "chain.txt"))
    exported = {}
    simple = set()
    order = []  # seqs in the order entries.jsonl lists them
    for entry, fast in read_entries(os.path.join(bundle, "entries.jsonl")):
        if not isinstance(entry, dict) or not entry.keys() >= _HASHED_SET:
            raise UsageError("entries.jsonl has a line that is not an audit entry")
        if type(entry["seq"]) is not int:
            raise UsageError("entries.jsonl has an entry whose seq is not a number")
        order.append(entry["seq"])
        if entry["seq"] in exported:
            continue  # reported by check_completeness; the first copy is the one checked
        exported[entry["seq"]] = entry
        if fast:
            simple.add(entry["seq"])
    inclusion = read_jsonl(os.path.join(bundle, "proofs", "inclusion.jsonl"), required=False)
    consistency = read_jsonl(os.path.join(bundle, "proofs", "consistency.jsonl"), required=False)
    if is_filtered(manifest) and inclusion is None and checkpoints and exported:
        result.problem(
            "proofs/inclusion.jsonl is missing: a filtered export proves each entry by inclusion"
        )

    result.checkpoints = len(checkpoints)
    result.latest = checkpoints[-1] if checkpoints else None
    result.exported = len(exported)
    check_checkpoints(result, checkpoints, keys)
    check_manifest(result, manifest, checkpoints, chain, order)
    result.filters = {k: v for k, v in manifest["filters"].items() if v not in (None, "")}
    witnessed_by_size = check_witnessed(result, witnessed, checkpoints, keys)
    by_size: dict[int, list[dict]] = {}
    for cp in checkpoints:
        by_size.setdefault(cp["tree_size"], []).append(cp)
    matched: dict[int, bool] = {}  # checkpoint number -> root matched the recomputed tree

    tree = Tree()
    pending = []  # leaves not yet in the tree: its nodes are hashed a batch at a time
    signed_sizes = set(by_size) | set(witnessed_by_size)
    recomputed_hashes = {}
    incidents = acknowledged_incidents(exported, keys)
    expected, previous_hash, before_previous, previous_intact = 1, GENESIS_HASH, None, True
    gap_at = None
    for done, (seq, prev_hash, stored) in enumerate(chain, start=1):
        gap = seq != expected
        if gap:
            first, last = expected, seq - 1
            if seq < first:
                result.problem(f"entry {seq}: out of order after entry {first - 1}", seq)
            else:
                what = (
                    f"entry {first} missing"
                    if first == last
                    else f"entries {first}..{last} missing"
                )
                result.problem(f"{what} (gap between {first - 1} and {seq})", first)
                gap_at = first if gap_at is None else gap_at
        leaf_hex, intact = stored, True
        entry = exported.get(seq)
        known = incidents.get(seq)
        if entry is not None and known is not None and known[0] == stored:
            result.warnings.append(
                f"entry {seq}: acknowledged incident (entry {known[1]}: {known[2]}): "
                "its data is not what was hashed; the log's key holder vouched for its hash"
            )
            recomputed_hashes[seq] = stored
        elif entry is not None:
            try:
                recomputed = entry_hash(entry, simple=seq in simple)
            except (ValueError, TypeError, AttributeError) as exc:
                result.problem(f"entry {seq}: cannot be encoded canonically ({exc})", seq)
                recomputed = "0" * 64
            recomputed_hashes[seq] = recomputed
            leaf_hex, intact = recomputed, recomputed == stored
            if recomputed != stored:
                result.problem(
                    f"entry {seq}: hash mismatch (stored {stored}, recomputed {recomputed})"
                    + _moved_hint(entry, seq, stored),
                    seq,
                )
            if entry.get("entry_hash") != stored or entry["prev_hash"] != prev_hash:
                result.problem(f"entry {seq}: entries.jsonl and chain.txt disagree about it", seq)
        if prev_hash != previous_hash and not gap:
            if prev_hash == before_previous and previous_intact and seq > 2:
                result.problem(
                    f"entry {seq - 1}: inserted: entry {seq} links to entry {seq - 2}, skipping it",
                    seq - 1,
                )
            else:
                hint = (
                    " (it claims to be the first entry)"
                    if prev_hash == GENESIS_HASH and seq != 1
                    else ""
                )
                result.problem(
                    f"entry {seq}: previous-hash link broken (prev_hash {prev_hash} is not "
                    f"entry {seq - 1}'s hash {previous_hash}){hint}",
                    seq,
                )
        before_previous, previous_hash, previous_intact = previous_hash, stored, intact
        expected = seq + 1
        result.entries += 1
        if gap_at is None:
            try:
                pending.append(leaf_hash(leaf_hex))
            except ValueError:
                pending.append(hashlib.sha256(leaf_hex.encode("utf-8", "replace")).digest())
            if tree.size + len(pending) in signed_sizes:  # else hash the nodes later
                tree.extend(pending)
                pending = []
                _check_roots(result, tree, checkpoints, matched, by_size, witnessed_by_size)
        if progress and done % 50000 == 0:
            progress(done, len(chain))
    tree.extend(pending)

    chained = {seq for seq, _, _ in chain}
    for seq in sorted(set(exported) - chained):
        result.problem(f"entry {seq}: in entries.jsonl but not in chain.txt", seq)

    size = expected - 1
    result.root_hash = tree.root().hex()
    check_completeness(result, manifest, order, size, checkpoints)
    longest = max([*checkpoints, *witnessed], key=lambda cp: cp["tree_size"], default=None)
    if longest is not None and longest["tree_size"] > size:
        named = ("witnessed " if longest in witnessed else "") + label(longest)
        result.problem(
            f"entries {size + 1}..{longest['tree_size']} missing: {named} signed "
            f"{longest['tree_size']} entries but the log ends at entry {size} (tail truncated)",
            size + 1,
        )  # fmt: skip
    if gap_at is not None:
        result.warnings.append(
            f"Merkle roots not checked past entry {gap_at - 1}: entries are missing"
        )
    else:
        _check_consistency(result, checkpoints, consistency, tree, matched)
        _check_inclusion(result, inclusion, recomputed_hashes, tree, matched)
    if not checkpoints:
        result.warnings.append(
            "no checkpoints: the chain is intact, but a consistent rewrite of the whole "
            "log would go unnoticed"
        )
    elif checkpoints[-1]["tree_size"] < size:
        signed = checkpoints[-1]["tree_size"]
        result.warnings.append(f"entries {signed + 1}..{size} are not signed by a checkpoint yet")
    return result


def _check_roots(result, tree, checkpoints, matched, by_size, witnessed_by_size):
    """The recomputed root against every checkpoint of the tree's size so far."""
    for cp in by_size.get(tree.size, ()):
        _check_root(result, tree, cp, checkpoints, matched)
    for cp in witnessed_by_size.get(tree.size, ()):
        if tree.root().hex() != cp["root_hash"]:
            result.problem(
                f"witnessed {label(cp)}: root mismatch: the bundle's entries 1.."
                f"{cp['tree_size']} are not those the witness saw signed",
                None,
                cp["number"],
            )


def _is_checkpoint(cp):
    try:
        return (
            cp.get("format") == MESSAGE_HEADER
            and type(cp["number"]) is int
            and type(cp["tree_size"]) is int
            and len(cp["root_hash"]) == 64
            and int(cp["root_hash"], 16) >= 0
            and isinstance(cp["timestamp"], str)
            and isinstance(cp["key_id"], str)
            and isinstance(cp["signature"], str)
            and isinstance(cp.get("note", ""), str)
        )
    except (KeyError, TypeError, ValueError):
        return False


def _moved_hint(entry, seq, stored):
    for other in (seq - 1, seq + 1):
        if other < 1:
            continue
        try:
            if entry_hash(entry, seq=other) == stored:
                return f": it hashes correctly as seq {other}, so it was moved from seq {other}"
        except (ValueError, TypeError, AttributeError):
            return ""
    return ""


def _check_root(result, tree, cp, checkpoints, matched):
    recomputed = tree.root().hex()
    matched[cp["number"]] = recomputed == cp["root_hash"]
    if recomputed == cp["root_hash"]:
        return
    if any(
        matched.get(other["number"]) and other["tree_size"] == cp["tree_size"]
        for other in checkpoints
    ):
        result.problem(
            f"{label(cp)}: root mismatch (signed {cp['root_hash']}, entries give {recomputed}): "
            "a checkpoint of another tree, since another checkpoint of the same size matches",
            None,
            cp["number"],
        )
        return
    good = [
        other["tree_size"]
        for other in checkpoints
        if matched.get(other["number"]) and other["tree_size"] < cp["tree_size"]
    ]
    first = max(good, default=0) + 1
    since = f"checkpoint at size {first - 1} still matches" if first > 1 else "from the start"
    explained = any(p[0] is not None and first <= p[0] <= cp["tree_size"] for p in result.problems)
    result.problem(
        f"{label(cp)}: root mismatch (signed {cp['root_hash']}, entries give {recomputed}): "
        f"{_span(first, cp['tree_size'])} that {'was' if first == cp['tree_size'] else 'were'} "
        f"signed ({since})",
        None if explained else first,
        cp["number"],
    )


def _span(first, last):
    if first == last:
        return f"entry {first} is not the entry"
    return f"entries {first}..{last} are not the entries"


def _check_consistency(result, checkpoints, proofs, tree, matched):
    given = {}
    for item in proofs or ():
        given[(item.get("old_size"), item.get("new_size"))] = item.get("proof") or []
    # zip rather than itertools.pairwise: this file runs on Python 3.8.
    for old, new in zip(checkpoints, checkpoints[1:]):  # noqa: B905, RUF007
        if old["tree_size"] == 0 or new["tree_size"] < old["tree_size"]:
            continue
        if new["tree_size"] > tree.size:
            continue
        if matched.get(old["number"]) is False or matched.get(new["number"]) is False:
            continue  # a root mismatch is reported already
        key = (old["tree_size"], new["tree_size"])
        if key not in given and old["tree_size"] != new["tree_size"]:
            result.problem(
                f"{label(new)}: the bundle has no consistency proof from {label(old)}",
                checkpoint=new["number"],
            )
            continue
        try:
            proof = [bytes.fromhex(h) for h in given.get(key, [])]
            verify_consistency(
                old["tree_size"],
                new["tree_size"],
                bytes.fromhex(old["root_hash"]),
                bytes.fromhex(new["root_hash"]),
                proof,
            )
            result.consistency_proofs += 1
        except (ProofError, ValueError) as exc:
            result.problem(
                f"{label(new)}: not consistent with {label(old)}: {exc}",
                checkpoint=new["number"],
            )


def _check_inclusion(result, proofs, recomputed_hashes, tree, matched):
    latest = result.latest
    if proofs is None or latest is None or not matched.get(latest["number"]):
        return  # no proofs shipped, nothing signed, or the root mismatch says it all
    root = bytes.fromhex(latest["root_hash"])
    given = {item.get("seq"): item for item in proofs}
    for seq in sorted(recomputed_hashes):
        if seq > latest["tree_size"]:
            continue
        item = given.get(seq)
        if item is None or item.get("tree_size") != latest["tree_size"]:
            result.problem(
                f"entry {seq}: the bundle has no inclusion proof for it in {label(latest)}",
                seq,
            )
            continue
        try:
            verify_inclusion(
                leaf_hash(recomputed_hashes[seq]),
                seq - 1,
                latest["tree_size"],
                [bytes.fromhex(h) for h in item.get("proof") or []],
                root,
            )
            result.inclusion_proofs += 1
        except (ProofError, ValueError) as exc:
            result.problem(
                f"entry {seq}: inclusion proof in {label(latest)} does not verify: {exc}",
                seq,
            )


# --- the command ---------------------------------------------------------------------------


def summary(result):
    first = result.first()
    if first is not None:
        return "FAILED: " + first[2]
    latest = result.latest
    signed = "no checkpoints yet"
    if latest:
        plural = "" if result.checkpoints == 1 else "s"
        signed = f"{result.checkpoints} checkpoint{plural} valid, latest {label(latest)}"
    return f"OK: {result.entries} entries intact; {signed}; root {result.root_hash}"


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Verify a Closeloop audit export bundle (exit 0 intact, 1 tampered, "
        "2 unreadable or bad arguments)."
    )
    parser.add_argument(
        "bundle", nargs="?", default=os.path.dirname(os.path.abspath(__file__)),
        help="the bundle folder (default: the folder this file is in)",
    )  # fmt: skip
    parser.add_argument(
        "--public-key", action="append", default=[], metavar="PEM",
        help="a trusted Ed25519 public key (PEM); repeat for rotated keys. "
        "Default: the bundle's public_key.pem",
    )  # fmt: skip
    parser.add_argument(
        "--witness", action="append", default=[], metavar="JSONL",
        help="checkpoints you kept (JSON lines, e.g. checkpoints.jsonl of an earlier export "
        "or consumed from audit.checkpoints.v1); the bundle must agree with them and reach them",
    )  # fmt: skip
    parser.add_argument(
        "--internal-consistency-only", action="store_true",
        help="accept the bundle's own public_key.pem: proves only that the bundle agrees with "
        "itself, not that Closeloop signed it (anyone who changed it could replace the key)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_OK if exit_.code == 0 else EXIT_USAGE
    trusted = bool(args.public_key)
    try:
        key_files = args.public_key or [os.path.join(args.bundle, "public_key.pem")]
        keys = dict(load_public_key(path) for path in key_files)
        witnessed = read_witnesses(args.witness)

        def progress(done, total):
            if not args.quiet:
                sys.stderr.write(f"verified {done} of {total} entries\n")

        result = check_bundle(args.bundle, keys, progress, witnessed)
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except UnicodeDecodeError as exc:
        sys.stderr.write(f"error: the bundle holds a file that is not UTF-8 text: {exc}\n")
        return EXIT_USAGE
    except (RecursionError, ValueError, TypeError, KeyError, AttributeError) as exc:
        # Anything the checks above did not foresee is still a finding, never a traceback.
        result = Result()
        result.problem(f"the bundle is malformed: {type(exc).__name__}: {exc}")
    if not trusted:
        result.warnings.append(
            "no --public-key given: checked against the bundle's own public_key.pem, which "
            "proves only that the bundle is internally consistent, not that Closeloop signed "
            "it; pass --public-key FILE with the key you obtained yourself"
        )
    first = result.first()
    if args.json:
        document = {
            "ok": first is None,
            "entries": result.entries,
            "exported_entries": result.exported,
            "checkpoints": result.checkpoints,
            "consistency_proofs": result.consistency_proofs,
            "inclusion_proofs": result.inclusion_proofs,
            "root_hash": result.root_hash,
            "trusted_keys": sorted(keys),
            "trusted_key_given": trusted,
            "filters": result.filters,
            "first_bad_seq": first[0] if first else None,
            "problems": [{"seq": s, "checkpoint": c, "message": m} for s, c, m in result.problems],
            "warnings": result.warnings,
            "summary": summary(result),
        }
        print(json.dumps(document, indent=2))
    else:
        print(
            f"checked {result.entries} entries ({result.exported} exported in full), "
            f"checkpoints: {result.checkpoints}, consistency proofs: "
            f"{result.consistency_proofs}, inclusion proofs: {result.inclusion_proofs}"
        )
        print(
            f"trusted key id: {', '.join(sorted(keys))} (compare it with the key id you were given)"
        )
        if result.filters:
            shown = ", ".join(f"{k}={v}" for k, v in sorted(result.filters.items()))
            print(
                f"filtered export ({shown}): {result.exported} entries shown in full, each "
                "proven by inclusion; the others only by their hashes in chain.txt"
            )
        for warning in result.warnings:
            print("warning: " + warning)
        if result.problems:
            print("problems:")
            for _, _, message in result.problems:
                print("  " + message)
        print(summary(result))
    if first is not None:
        return EXIT_TAMPERED
    if not trusted and not args.internal_consistency_only:
        sys.stderr.write(
            "not verified: without --public-key only internal consistency is proven "
            "(pass --internal-consistency-only to accept that)\n"
        )
        return EXIT_USAGE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
