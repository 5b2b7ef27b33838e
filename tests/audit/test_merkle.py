"""RFC 9162 Merkle tree: the transparency-dev/merkle vectors, and generate-verify round trips."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from audit.merkle import (
    EMPTY_ROOT,
    MerkleAccumulator,
    ProofError,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from audit.tree import MerkleTree
from tests.audit import rfc9162


# The project's one prover is `MerkleTree`; these name what each test asks of it.
def root_hash(leaves: list[bytes]) -> bytes:
    return MerkleTree(leaves).root()


def inclusion_proof(leaves: list[bytes], index: int) -> list[bytes]:
    return MerkleTree(leaves).inclusion_proof(index)


def consistency_proof(leaves: list[bytes], old_size: int) -> list[bytes]:
    return MerkleTree(leaves).consistency_proof(old_size)


REPO_ROOT = Path(__file__).resolve().parents[2]
# CI clones the repo next to a copy of shared/, so look beside the repo, not at a fixed path.
VECTORS = REPO_ROOT.parent / "shared" / "data" / "merkle-vectors"


def _vector_files(kind: str) -> list[Path]:
    """Every vector of one kind; a missing folder is an error, never a silent skip."""
    folder = VECTORS / kind
    files = sorted(folder.glob("**/*.json"))
    if not files:
        raise FileNotFoundError(f"no Merkle vectors under {folder}: put shared/ beside the repo")
    return files


INCLUSION_VECTORS = _vector_files("inclusion")
CONSISTENCY_VECTORS = _vector_files("consistency")


def _id(path: Path) -> str:
    return path.relative_to(VECTORS).as_posix()


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _proof(vector: dict[str, Any]) -> list[bytes]:
    return [_b64(h) for h in vector["proof"] or []]


# The leaves behind the vectors' happy paths (RFC 6962 test data, transparency-dev/merkle).
REFERENCE_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
REFERENCE_LEAF_HASHES = [leaf_hash(d) for d in REFERENCE_LEAVES]
REFERENCE_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


# --- the shared vectors -------------------------------------------------------------------


def test_vectors_cover_both_outcomes() -> None:
    every = [_load(p) for p in INCLUSION_VECTORS + CONSISTENCY_VECTORS]
    assert any(v["wantErr"] for v in every)
    assert any(not v["wantErr"] for v in every)


@pytest.mark.parametrize("path", INCLUSION_VECTORS, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    v = _load(path)
    args = (_b64(v["leafHash"]), v["leafIdx"], v["treeSize"], _proof(v), _b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY_VECTORS, ids=_id)
def test_consistency_vector(path: Path) -> None:
    v = _load(path)
    args = (v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), _proof(v))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


@pytest.mark.parametrize(
    "path", [p for p in INCLUSION_VECTORS if p.name == "happy-path.json"], ids=_id
)
def test_generated_inclusion_proof_matches_vector(path: Path) -> None:
    v = _load(path)
    leaves = REFERENCE_LEAF_HASHES[: v["treeSize"]]
    assert root_hash(leaves) == _b64(v["root"])
    assert leaves[v["leafIdx"]] == _b64(v["leafHash"])
    assert inclusion_proof(leaves, v["leafIdx"]) == _proof(v)


@pytest.mark.parametrize(
    "path", [p for p in CONSISTENCY_VECTORS if p.name == "happy-path.json"], ids=_id
)
def test_generated_consistency_proof_matches_vector(path: Path) -> None:
    v = _load(path)
    leaves = REFERENCE_LEAF_HASHES[: v["size2"]]
    assert root_hash(leaves[: v["size1"]]) == _b64(v["root1"])
    assert root_hash(leaves) == _b64(v["root2"])
    assert consistency_proof(leaves, v["size1"]) == _proof(v)


# --- hashing ------------------------------------------------------------------------------


def test_hash_domain_separation() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert root_hash([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots(size: int) -> None:
    assert root_hash(REFERENCE_LEAF_HASHES[:size]).hex() == REFERENCE_ROOTS[size - 1]


def test_root_hash_matches_rfc_definition() -> None:
    leaves = _leaves(130)
    for n in range(131):
        assert root_hash(leaves[:n]) == rfc9162.mth(leaves[:n]), n


def test_accumulator_root_equals_root_hash_for_every_prefix() -> None:
    leaves = _leaves(300)
    acc = MerkleAccumulator()
    assert acc.size == 0 and acc.root() == EMPTY_ROOT
    for n, leaf in enumerate(leaves, start=1):
        acc.append(leaf)
        assert acc.size == n
        assert acc.root() == root_hash(leaves[:n]), n


def test_large_tree_is_fast_enough_and_consistent() -> None:
    # 100k+ entries is the production scale; this must stay well under a second or two.
    leaves = _leaves(100_003)
    acc = MerkleAccumulator()
    acc.extend(leaves)
    root = root_hash(leaves)
    assert acc.root() == root
    proof = inclusion_proof(leaves, 77_777)
    verify_inclusion(leaves[77_777], 77_777, len(leaves), proof, root)
    old_root = root_hash(leaves[:65_537])
    verify_consistency(65_537, len(leaves), old_root, root, consistency_proof(leaves, 65_537))


def test_accumulator_rejects_unhashed_leaf() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        MerkleAccumulator().append(b"raw entry bytes")


# --- generate -> verify round trips --------------------------------------------------------


@pytest.mark.parametrize("size", range(1, 65))
def test_inclusion_round_trip(size: int) -> None:
    leaves = _leaves(size + 1)
    root, bigger_root = root_hash(leaves[:size]), root_hash(leaves)
    for index in range(size):
        proof = inclusion_proof(leaves[:size], index)
        verify_inclusion(leaves[index], index, size, proof, root)
        # The same proof must not prove a different leaf, position or tree.
        other = leaves[index - 1] if size > 1 else leaf_hash(b"other")
        with pytest.raises(ProofError):
            verify_inclusion(other, index, size, proof, root)
        with pytest.raises(ProofError):
            verify_inclusion(leaves[index], index, size + 1, proof, bigger_root)
        if size > 1:
            with pytest.raises(ProofError):
                verify_inclusion(leaves[index], (index + 1) % size, size, proof, root)


@pytest.mark.parametrize("size", range(1, 65))
def test_consistency_round_trip(size: int) -> None:
    leaves = _leaves(size)
    new_root = root_hash(leaves)
    acc = MerkleAccumulator()
    for old_size in range(1, size + 1):
        acc.append(leaves[old_size - 1])
        old_root = acc.root()
        proof = consistency_proof(leaves, old_size)
        verify_consistency(old_size, size, old_root, new_root, proof)
        if old_size < size:
            with pytest.raises(ProofError):
                verify_consistency(old_size, size, new_root, new_root, proof)
            with pytest.raises(ProofError):
                verify_consistency(old_size, size, old_root, old_root, proof)
            flipped = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
            with pytest.raises(ProofError):
                verify_consistency(old_size, size, old_root, new_root, flipped)


def test_rewritten_history_fails_consistency() -> None:
    leaves = _leaves(20)
    old_root = root_hash(leaves[:13])
    forged = [*leaves[:5], leaf_hash(b"edited"), *leaves[6:]]
    with pytest.raises(ProofError, match="old root"):
        verify_consistency(13, 20, old_root, root_hash(forged), consistency_proof(forged, 13))


def test_proof_generation_rejects_bad_arguments() -> None:
    leaves = _leaves(4)
    for index in (-1, 4):
        with pytest.raises(ValueError, match="outside"):
            inclusion_proof(leaves, index)
    for old_size in (0, 5):
        with pytest.raises(ValueError, match="old size"):
            consistency_proof(leaves, old_size)
    assert consistency_proof(leaves, 4) == []


def test_root_does_not_commit_to_tree_size() -> None:
    # Why checkpoints sign tree_size next to the root: a root and an inclusion proof alone
    # fit more than one tree size (here 3 and 4), so the size must come from the signature.
    leaves = _leaves(3)
    root, proof = root_hash(leaves), inclusion_proof(leaves, 0)
    verify_inclusion(leaves[0], 0, 3, proof, root)
    verify_inclusion(leaves[0], 0, 4, proof, root)


def test_errors_say_what_failed() -> None:
    leaves = _leaves(8)
    root = root_hash(leaves)
    proof = inclusion_proof(leaves, 3)
    with pytest.raises(ProofError, match="outside a tree of size 8"):
        verify_inclusion(leaves[3], 8, 8, proof, root)
    with pytest.raises(ProofError, match="too short"):
        verify_inclusion(leaves[3], 3, 8, proof[:-1], root)
    with pytest.raises(ProofError, match="too long"):
        verify_inclusion(leaves[3], 3, 8, [*proof, root], root)
    with pytest.raises(ProofError, match="proof element 1 is 0 bytes"):
        verify_inclusion(leaves[3], 3, 8, [proof[0], b"", *proof[1:]], root)
    with pytest.raises(ProofError, match="backwards"):
        verify_consistency(5, 4, root, root, [])
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 8, EMPTY_ROOT, root, [])
