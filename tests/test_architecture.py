"""The layers stay one-way: the import contract in pyproject.toml holds for the whole tree.

The shell (`closeloop/`) sits on top, the engines (`streams/`, `workflows/`) below it,
then `activities/`, `audit/`, the shared `base/` and `schemas/` at the bottom. A module
that imports upwards, or two modules of one package that import each other, fail the build
here, so the structure a newcomer reads in the README is the one the code has.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contract_holds() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout


def test_every_top_folder_is_in_the_contract() -> None:
    """A new top-level package must take its place in the layers, or it escapes them."""
    import tomllib

    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    roots = set(config["tool"]["importlinter"]["root_packages"])
    packages = {
        path.parent.name
        for path in REPO_ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "bench"}
    }
    assert packages <= roots, f"not in the import contract: {sorted(packages - roots)}"
    layered = " ".join(config["tool"]["importlinter"]["contracts"][0]["layers"])
    assert all(root in layered for root in roots)
