"""`closeloop trends run/list/show/plan` as a quality manager uses them, on a hand-built log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from audit.store import AuditLog
from closeloop.cli import main
from closeloop.cli.exit_status import ExitStatus
from tests.trends.conftest import AS_OF
from trends import records


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["trends", *args])


def lines(result: Result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_run_list_and_show_agree_with_the_audit_log(home_log: AuditLog) -> None:
    header, *shown = lines(cli("run", "--as-of", AS_OF, "--json"))
    receipt = header["run"]
    assert receipt["signals"] == [s["signal"]["signal_id"] for s in shown]
    mixer = [s["signal"] for s in shown if s["signal"]["rule"] == "complaints-by-product"]
    assert [(s["period"], s["value"]) for s in mixer] == [
        ("2026-07", 40),
        ("2026-08", 41),
        ("2026-09", 39),
    ]
    assert receipt["published"] == 0  # CLOSELOOP_TRENDS_PUBLISH_SIGNALS=false here

    listed = lines(cli("list", "--json", "--rule", "complaints-by-product"))
    assert [x["signal"] for x in listed] == mixer
    assert all(x["published"] is False for x in listed)

    one = lines(cli("show", mixer[0]["signal_id"], "--json"))[0]
    assert one["signal"] == mixer[0]
    entry = home_log.get(one["seq"])
    assert entry is not None and entry.entry_type == "trends.signal"

    text = cli("show", mixer[0]["signal_id"])
    assert text.exit_code == 0
    assert "product=mixer in 2026-07 went up: 40" in text.output


def test_run_prints_a_summary_for_people(home_log: AuditLog) -> None:
    result = cli("run", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "window 2024-10-01 to 2026-10-01" in result.output
    assert "complaints-by-product" in result.output


def test_an_unknown_signal_is_no_and_a_malformed_id_is_a_usage_error(home_log: AuditLog) -> None:
    missing = cli("show", "sig-0000000000000000")
    assert missing.exit_code == ExitStatus.REFUSED
    assert "no signal sig-0000000000000000" in missing.output
    malformed = cli("show", "42")
    assert malformed.exit_code == ExitStatus.USAGE
    assert "not a signal id" in malformed.output


def test_a_bad_plan_is_refused_before_anything_is_written(
    home_log: AuditLog, tmp_path: Path
) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text(
        json.dumps({"version": "x", "rules": [{"name": "c", "method": "ewma", "lam": 0}]})
    )
    before = home_log.count()
    result = cli("run", "--plan", str(bad))
    assert result.exit_code == ExitStatus.USAGE
    assert "rule 'c' (#1), field lam" in result.output
    assert "Traceback" not in result.output
    assert home_log.count() == before
    check = cli("plan", "--check", str(bad))
    assert check.exit_code == ExitStatus.USAGE


def test_a_bad_date_is_a_usage_error(home_log: AuditLog) -> None:
    result = cli("run", "--as-of", "last tuesday")
    assert result.exit_code == ExitStatus.USAGE
    assert "--as-of" in result.output and "not a date" in result.output


def test_the_plan_in_force_comes_from_the_setting(
    home_log: AuditLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plan.toml"
    path.write_text('version = "mine"\n[[rules]]\nname = "all"\nmethod = "cusum"\n')
    monkeypatch.setenv("CLOSELOOP_MONITORING_PLAN", str(path))
    shown = json.loads(cli("plan").stdout)
    assert shown["source"] == str(path) and shown["plan"]["version"] == "mine"
    assert cli("run", "--as-of", AS_OF).exit_code == 0
    [plan_entry] = records.plans(home_log)
    assert plan_entry.data["plan_hash"] == shown["plan_hash"]
    assert plan_entry.data["source"] == str(path)


def test_without_a_log_the_commands_say_where_they_looked(home: Path) -> None:
    result = cli("list")
    assert result.exit_code == ExitStatus.USAGE
    assert "no audit log" in result.output


def test_an_unreachable_broker_keeps_the_signals_and_exits_3(
    home_log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CLOSELOOP_TRENDS_PUBLISH_SIGNALS", "true")
    monkeypatch.setenv("CLOSELOOP_KAFKA_BOOTSTRAP", f"127.0.0.1:{port}")
    result = cli("run", "--as-of", AS_OF)
    assert result.exit_code == ExitStatus.UNREACHABLE, result.output
    assert "audited but not published" in result.output
    assert records.signals(home_log)  # nothing lost: the next run sends them
    assert records.published_ids(home_log) == {}
