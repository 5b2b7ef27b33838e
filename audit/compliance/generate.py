"""Rewrite `docs/compliance.md` and the shipped `matrix.json` from the catalogue and the
tests' clause markers: `python -m audit.compliance.generate` (from the repository root)."""

from __future__ import annotations

import sys
from pathlib import Path

from audit.compliance.markers import marked_tests
from audit.compliance.matrix import MATRIX_JSON, build, to_json, to_markdown

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "compliance.md"


def main() -> int:
    rows, unknown = build(marked_tests(REPO))
    for mark in unknown:
        print(f"{mark.test}: unknown clause {mark.clause!r}", file=sys.stderr)
    if unknown:
        return 1
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(to_markdown(rows), encoding="utf-8")
    MATRIX_JSON.write_text(to_json(rows), encoding="utf-8")
    print(f"wrote {DOC.relative_to(REPO)} and {MATRIX_JSON.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
