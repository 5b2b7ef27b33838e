"""`closeloop publish` refuses what would vanish unread, with the exit-status table's numbers."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from closeloop.cli import main
from closeloop.cli.exit_status import ExitStatus
from closeloop.stack import free_port
from schemas import topics
from schemas.contract import examples_dir


def publish(*args: str, bootstrap: str = "127.0.0.1:1") -> Result:
    return CliRunner().invoke(
        main,
        ["publish", *args],
        env={"CLOSELOOP_KAFKA_BOOTSTRAP": bootstrap},
        prog_name="closeloop",
    )


def example_file(tmp_path: Path) -> Path:
    sample = json.loads(
        (examples_dir(topics.COMPLAINTS_UPDATES) / "survey-responded.json").read_text()
    )
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(sample) + "\n")
    return path


def test_a_topic_nothing_consumes_is_refused_naming_the_inbound_topics(tmp_path):
    result = publish("--topic", "complaints.update.v1", str(example_file(tmp_path)))
    assert result.exit_code == ExitStatus.USAGE
    assert "'complaints.update.v1' is not one of" in result.output
    assert topics.COMPLAINTS_RECEIVED in result.output
    assert topics.COMPLAINTS_UPDATES in result.output
    assert "published" not in result.output
    for outbound in (topics.COMPLAINTS_STATUS, topics.COMPLAINTS_DLQ, topics.AUDIT_CHECKPOINTS):
        result = publish("--topic", outbound, "--example")
        assert result.exit_code == ExitStatus.USAGE, outbound


def test_a_missing_or_invalid_file_is_a_usage_class_error(tmp_path):
    result = publish(str(tmp_path / "nope.jsonl"))
    assert result.exit_code == ExitStatus.USAGE
    assert "no such file" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"event_id": 1}\n')
    result = publish(str(bad))
    assert result.exit_code == ExitStatus.USAGE
    assert "event #1" in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_broker_exits_3(tmp_path):
    result = publish("--example", bootstrap=f"127.0.0.1:{free_port()}")
    assert result.exit_code == ExitStatus.UNREACHABLE, result.output
    assert "could not publish" in result.output
