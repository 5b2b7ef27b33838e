"""`closeloop dlq` follows the exit-status table: an unreachable broker is 3, not 1."""

from __future__ import annotations

from click.testing import CliRunner

from closeloop.cli import main
from closeloop.cli.exit_status import ExitStatus
from closeloop.stack import free_port


def test_an_unreachable_broker_exits_3(tmp_path):
    env = {"CLOSELOOP_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}", "CLOSELOOP_HOME": str(tmp_path)}
    for args in (["dlq", "list"], ["dlq", "replay", "--dry-run"]):
        result = CliRunner().invoke(main, args, env=env, prog_name="closeloop")
        assert result.exit_code == ExitStatus.UNREACHABLE, result.output
        assert "could not read complaints.dlq.v1" in result.output
        assert "Traceback" not in result.output
