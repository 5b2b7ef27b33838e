"""docs/compliance.md cannot rot: it is generated from the clause catalogue and the tests'
clause markers, and this fails when it is stale, when a row names a test that does not
exist, when a clause has neither a test nor a note, or a marker names an unknown clause."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.compliance import catalogue
from audit.compliance.markers import Marked, existing_tests, marked_tests
from audit.compliance.matrix import MATRIX_JSON, build, shipped, to_json, to_markdown
from closeloop.cli import main

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "compliance.md"
REGENERATE = "run `python -m audit.compliance.generate` and commit the result"


@pytest.fixture(scope="module")
def rows():
    rows, unknown = build(marked_tests(REPO))
    assert unknown == [], f"markers naming clauses not in the catalogue: {unknown}"
    return rows


def test_the_committed_matrix_is_what_the_tests_say_today(rows):
    assert DOC.read_text(encoding="utf-8") == to_markdown(rows), (
        f"docs/compliance.md is stale: {REGENERATE}"
    )
    assert MATRIX_JSON.read_text(encoding="utf-8") == to_json(rows), (
        f"matrix.json is stale: {REGENERATE}"
    )


def test_every_test_a_row_names_exists(rows):
    existing = existing_tests(REPO)
    named = {test for row in rows for test in row.tests}
    assert named <= existing, named - existing
    # and the shipped matrix names none that has since gone
    assert {test for row in shipped() for test in row.tests} <= existing


def test_every_clause_has_a_test_or_says_what_the_user_must_do(rows):
    bare = [row.clause for row in rows if not row.tests and not row.not_covered]
    assert bare == [], f"clauses with no test and no 'not covered' note: {bare}"


def test_every_clause_of_issue_14_is_listed():
    ids = set(catalogue.BY_ID)
    expected = {
        f"ISO 9001:2015 {n}"
        for n in ("5.1.2", "8.2.1", "9.1.2", "9.3.2", "10.2.1", "10.2.2", "10.3")
    }
    expected |= {f"ISO 10002:2018 7.{n}" for n in range(1, 10)}
    expected |= {f"ISO 10002:2018 8.{n}" for n in range(1, 8)}
    expected |= {f"ISO 13485:2016 {n}" for n in ("8.2.2", "8.2.3", "8.4", "8.5.2", "8.5.3")}
    expected |= {"21 CFR 820.35", "21 CFR 803", "EU MDR Art. 87", "EU MDR Art. 88"}
    expected |= {f"21 CFR 11.10({letter})" for letter in "abcdefghijk"}
    expected |= {f"21 CFR 11.{n}" for n in (50, 70, 100, 200, 300)}
    assert ids == expected
    assert len(catalogue.CLAUSES) == len(ids), "a clause is listed twice"


def test_a_marker_naming_an_unknown_clause_is_reported():
    rows, unknown = build(
        [Marked("tests/x/test_y.py::test_z", ("ISO 9001:2015 10.2.1", "ISO 9999 1"))]
    )
    assert [(u.test, u.clause) for u in unknown] == [("tests/x/test_y.py::test_z", "ISO 9999 1")]
    assert next(r for r in rows if r.clause == "ISO 9001:2015 10.2.1").tests == [
        "tests/x/test_y.py::test_z"
    ]


def test_collection_refuses_an_unknown_clause(tmp_path: Path):
    (tmp_path / "test_bad.py").write_text(
        'import pytest\n\n@pytest.mark.clause("ISO 9999 1")\ndef test_x():\n    pass\n'
    )
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "--rootdir", str(REPO),
         "-c", str(REPO / "pyproject.toml"), "-p", "tests.conftest", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode != 0
    assert "unknown clause 'ISO 9999 1'" in ran.stdout + ran.stderr


def test_closeloop_compliance_prints_the_matrix_and_json():
    result = CliRunner().invoke(main, ["compliance"])
    assert result.exit_code == 0, result.output
    assert "21 CFR 11.10(i) — Training of people" in result.output
    assert (
        "[not covered]" in result.output
        and "yours: Closeloop keeps no training records" in result.output
    )
    assert "test: tests/workflows/test_reporting_clocks.py::" in result.output
    result = CliRunner().invoke(main, ["compliance", "--markdown"])
    assert result.output == DOC.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["compliance", "--json"])
    document = json.loads(result.output)
    assert len(document["rows"]) == len(catalogue.CLAUSES)
    assert {row["status"] for row in document["rows"]} == {"covered", "partly", "not covered"}
