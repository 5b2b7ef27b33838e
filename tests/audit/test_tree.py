"""The fast in-memory tree gives the same roots and proofs as RFC 9162's own definitions, and the
standalone verifier's own RFC 9162 code passes every shared test vector."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from audit import merkle
from audit.tree import MerkleTree
from tests.audit import rfc9162
from tests.audit.conftest import load_standalone

standalone = load_standalone()
LEAVES = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(70)]


def test_roots_at_every_size_match_the_reference() -> None:
    tree = MerkleTree(LEAVES)
    for size in range(len(LEAVES) + 1):
        assert tree.root(size) == rfc9162.mth(LEAVES[:size]), size


def test_inclusion_proofs_match_the_reference() -> None:
    tree = MerkleTree(LEAVES)
    for size in range(1, 40):
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert proof == rfc9162.path(index, LEAVES[:size])
            merkle.verify_inclusion(LEAVES[index], index, size, proof, tree.root(size))


def test_consistency_proofs_match_the_reference() -> None:
    tree = MerkleTree(LEAVES)
    for new in range(1, 40):
        for old in range(1, new + 1):
            proof = tree.consistency_proof(old, new)
            assert proof == rfc9162.proof(old, LEAVES[:new])
            merkle.verify_consistency(old, new, tree.root(old), tree.root(new), proof)


def test_sizes_outside_the_tree_are_refused() -> None:
    tree = MerkleTree(LEAVES[:5])
    with pytest.raises(ValueError, match="outside"):
        tree.root(6)
    with pytest.raises(ValueError, match="outside"):
        tree.inclusion_proof(5, 5)
    with pytest.raises(ValueError):
        tree.consistency_proof(0, 5)


def test_the_standalone_tree_gives_the_same_roots() -> None:
    tree = standalone.Tree()
    for leaf in LEAVES:
        tree.append(leaf)
    assert [tree.root(n) for n in range(71)] == [rfc9162.mth(LEAVES[:n]) for n in range(71)]


VECTORS = Path(__file__).resolve().parents[3] / "shared" / "data" / "merkle-vectors"


def _vectors(kind: str) -> list[Path]:
    files = sorted((VECTORS / kind).glob("**/*.json"))
    if not files:
        raise FileNotFoundError(f"no Merkle vectors under {VECTORS / kind}")
    return files


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


@pytest.mark.parametrize("path", _vectors("inclusion"), ids=lambda p: p.parent.name + "/" + p.name)
def test_standalone_inclusion_vectors(path: Path) -> None:
    v = json.loads(path.read_text())
    proof = [_b64(h) for h in v["proof"] or []]
    args = (_b64(v["leafHash"]), v["leafIdx"], v["treeSize"], proof, _b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(standalone.ProofError):
            standalone.verify_inclusion(*args)
    else:
        standalone.verify_inclusion(*args)


@pytest.mark.parametrize(
    "path", _vectors("consistency"), ids=lambda p: p.parent.name + "/" + p.name
)
def test_standalone_consistency_vectors(path: Path) -> None:
    v = json.loads(path.read_text())
    proof = [_b64(h) for h in v["proof"] or []]
    args = (v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), proof)
    if v["wantErr"]:
        with pytest.raises(standalone.ProofError):
            standalone.verify_consistency(*args)
    else:
        standalone.verify_consistency(*args)
