"""`closeloop kpi show/explain` as a quality manager uses them, on the hand-built log."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from audit.store import AuditLog
from closeloop.cli import main
from closeloop.cli.exit_status import ExitStatus
from tests.kpi.builder import LogBuilder, at


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["kpi", *args])


def lines(result: Result) -> list[dict[str, object]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


@pytest.mark.clause("ISO 10002:2018 8.4")
def test_show_json_is_pinned_to_a_signed_checkpoint(home_log: AuditLog, tmp_path: Path) -> None:
    signed = CliRunner().invoke(main, ["audit", "checkpoint"])
    assert signed.exit_code == 0, signed.output
    header, *groups = lines(cli("show", "--from", "2026-07-01", "--to", "2026-09-30", "--json"))
    as_of = header["as_of"]
    assert isinstance(as_of, dict)
    assert as_of["tree_size"] == home_log.count()
    checkpoint = home_log.latest_checkpoint()
    assert checkpoint is not None and as_of["root_hash"] == checkpoint.root_hash
    assert as_of["checkpoint_covers"] is True
    [only] = groups
    assert only["group"] == {}
    figures = only["figures"]
    assert isinstance(figures, dict)
    assert figures["complaints_received"] == 4 and figures["nps"] == 0.0


def test_live_log_and_export_bundle_give_the_same_figures(
    home_log: AuditLog, tmp_path: Path
) -> None:
    assert CliRunner().invoke(main, ["audit", "checkpoint"]).exit_code == 0
    bundle = tmp_path / "bundle"
    exported = CliRunner().invoke(main, ["audit", "export", "--out", str(bundle)])
    assert exported.exit_code == 0, exported.output
    for by in ([], ["--by", "month"], ["--by", "product", "--by", "quarter"]):
        live = lines(cli("show", "--json", *by))
        again = lines(cli("show", "--json", *by, "--bundle", str(bundle)))
        assert live == again
        assert len(live) > 1


def test_repeated_show_folds_only_what_is_new(home_log: AuditLog, home: Path) -> None:
    first = lines(cli("show", "--json"))
    LogBuilder(home_log).received("G", at("2027-02-01T00:00"))
    second = lines(cli("show", "--json"))
    assert second[1]["figures"]["complaints_received"] == (  # type: ignore[index]
        first[1]["figures"]["complaints_received"] + 1  # type: ignore[index]
    )
    [saved] = (home / "kpi").glob("facts-*.sqlite")
    from kpi.ledger import load

    assert load(saved).facts.last_seq == home_log.count()


def test_csv_has_one_row_per_group(home_log: AuditLog) -> None:
    result = cli("show", "--from", "2026-07-01", "--to", "2026-09-30", "--by", "month", "--csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["month"] for r in rows] == ["2026-07", "2026-08", "2026-09"]
    assert rows[2]["ack_time_median_h"] == ""  # absent, not 0
    assert rows[0]["complaints_received"] == "3"


def test_explain_lists_the_seqs(home_log: AuditLog) -> None:
    _header, *found = lines(
        cli("explain", "csat_top2_pct", "--from", "2026-07-01", "--to", "2026-09-30",
            "--group", "product=mixer")
    )  # fmt: skip
    [mixer] = found
    surveys = [e.seq for e in home_log.entries() if e.entry_type == "complaint.survey"]
    assert mixer["group"] == {"product": "mixer"}
    assert (mixer["numerator"], mixer["denominator"]) == (1, 2)
    assert mixer["numerator_seqs"] == surveys[:1]
    assert mixer["denominator_seqs"] == surveys[:2]


def test_table_output_for_people(home_log: AuditLog) -> None:
    result = cli("show", "--by", "channel")
    assert result.exit_code == 0, result.output
    assert "as_of: tree size" in result.output and "channel=phone" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "--by", "colour"], "--by 'colour' is not a dimension"),
        (["show", "--from", "2026-13-01"], "--from '2026-13-01' is not a date"),
        (["show", "--from", "2026-09-01", "--to", "2026-08-01"], "the range is inverted"),
        (["show", "--json", "--csv"], "choose one output format"),
        (["explain", "happiness"], "'happiness' is not a figure"),
        (["explain", "nps", "--group", "product"], "is not DIMENSION=VALUE"),
        (["report", "--period", "2026-Q5", "--out", "x"], "is not YYYY, YYYY-Qn or YYYY-MM"),
    ],
)
def test_bad_input_is_a_usage_error(home_log: AuditLog, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_log_is_a_clear_error(home: Path) -> None:
    result = cli("show")
    assert result.exit_code == ExitStatus.USAGE and "no audit log at" in result.output


def test_bundle_that_is_not_one(home: Path, tmp_path: Path) -> None:
    result = cli("show", "--bundle", str(tmp_path))
    assert result.exit_code == ExitStatus.USAGE and "no entries.jsonl" in result.output


def test_the_command_group_is_fast_to_import() -> None:
    """`closeloop kpi --help` loads click only: no database, no Temporal, no pydantic."""
    import subprocess
    import sys

    code = (
        "import sys, closeloop.cli.kpi; "
        "print(sorted(m for m in ('sqlalchemy', 'temporalio', 'pydantic', 'kpi.service') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.strip() == "[]", loaded.stderr
