"""`closeloop complaint …` against complaint workflows on the time-skipping server.

A real worker runs the workflows with the real audit activity (SQLite); the status
publisher is an in-memory double (the end-to-end test covers Kafka, and `list`, which
needs the visibility store the time-skipping server lacks).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from click.testing import Result
from pydantic import BaseModel
from temporalio.testing import WorkflowEnvironment

from audit.store import EntryFilter
from closeloop.cli.complaint.client import visibility_query
from closeloop.cli.exit_status import ExitStatus
from schemas import decisions as d
from schemas.complaint_state import ComplaintState
from schemas.events import Customer, Product
from tests.closeloop.cli.complaint.harness import ACTOR, Cli, running_cli
from tests.closeloop.cli.harness import json_output


@pytest.fixture
async def cli(time_skipping_env: WorkflowEnvironment, sqlite_url: str) -> AsyncIterator[Cli]:
    async for running in running_cli(time_skipping_env, sqlite_url):
        yield running


async def test_a_decision_prints_the_new_state(cli):
    complaint_id = await cli.start()
    result = await cli.run(
        "triage",
        complaint_id,
        *ACTOR,
        "--comment",
        "Overheating risk",
        "--severity",
        "high",
        "--category",
        "product-safety",
        "--risk",
        "Continuous boiling",
        "--assignee",
        "qe.smith",
        "--not-reportable",
        "--justification",
        "No injury",
    )
    assert result.exit_code == 0, result.output
    assert f"{complaint_id}  triaged" in result.output
    assert "next due: conclude the investigation by" in result.output
    assert "allowed next: triage, investigate, investigate --decline" in result.output
    [entry] = cli.audit_log.entries(
        EntryFilter(complaint_id=complaint_id, entry_type="complaint.triaged")
    )
    assert entry.actor == "qe.smith"
    assert entry.reason == "Overheating risk"
    assert entry.data["actor"]["name"] == "Sam Smith"


async def test_a_refused_decision_prints_why_and_exits_1(cli):
    complaint_id = await cli.start()
    before = len(cli.audit_log.entries(EntryFilter(complaint_id=complaint_id)))
    result = await cli.run("close", complaint_id, *ACTOR, "--response", "We replaced the kettle")
    assert result.exit_code == 1
    assert (
        f"refused: complaint {complaint_id} is acknowledged; `closeloop complaint close` is not "
        "allowed"
    ) in result.output
    assert "`closeloop complaint add-info`, `closeloop complaint survey`" in result.output
    assert len(cli.audit_log.entries(EntryFilter(complaint_id=complaint_id))) == before


async def test_unknown_complaint(cli):
    result = await cli.run("show", "C-NOPE-1")
    assert result.exit_code == 1
    assert "no complaint C-NOPE-1" in result.output
    result = await cli.run("reject", "C-NOPE-1", *ACTOR, "--not-a-complaint", "--reason", "x")
    assert result.exit_code == 1
    assert "no complaint C-NOPE-1" in result.output


async def test_show_readable_and_json(cli):
    complaint_id = await cli.start()
    result = await cli.run("show", complaint_id)
    assert result.exit_code == 0, result.output
    assert "acknowledged" in result.output
    assert "Complaint received from call-centre" in result.output
    assert "triage by" in result.output  # what is due next
    result = await cli.run("show", complaint_id, "--json")
    state = ComplaintState.model_validate(json_output(result))
    assert state.complaint_id == complaint_id
    assert state.history[0].what.startswith("Complaint received")


async def test_a_retried_command_with_the_same_update_id_is_recorded_once(cli):
    complaint_id = await cli.start()
    args = [
        "add-info",
        complaint_id,
        *ACTOR,
        "--information",
        "Customer sent a photo",
        "--update-id",
        "op-retry-1",
        "--json",
    ]
    first = await cli.run(*args)
    second = await cli.run(*args)
    assert first.exit_code == second.exit_code == 0
    assert json_output(first) == json_output(second)  # the first receipt, again
    entries = cli.audit_log.entries(
        EntryFilter(complaint_id=complaint_id, entry_type="complaint.information_added")
    )
    assert [e.idempotency_key for e in entries] == [f"{complaint_id}:op-retry-1"]


async def test_usage_errors_exit_2(cli):
    result = await cli.run("triage", "C-1", *ACTOR, "--severity", "high")
    assert result.exit_code == 2
    result = await cli.run("reject", "C-1", *ACTOR, "--reason", "x")
    assert result.exit_code == 2
    assert "exactly one of --duplicate-of ID or --not-a-complaint" in result.output
    result = await cli.run(
        "plan-capa", "C-1", *ACTOR, "--action", "A1", "sideways", "bob", "14d", "Fix it"
    )
    assert result.exit_code == 2
    assert "--action A1 KIND: 'sideways' is not one of correction" in result.output


def test_visibility_query():
    query = visibility_query(
        status="investigating",
        overdue=True,
        severity=None,
        assignee="o'brien",
        product="KET-200",
        customer="CUST-1",
        category="product-safety",
        reportable=False,
        running_only=True,
    )
    assert query == (
        "WorkflowType = 'ComplaintWorkflow' AND ExecutionStatus = 'Running' AND "
        "CloseloopStatus = 'investigating' AND CloseloopCategory = 'product-safety' AND "
        "CloseloopProduct = 'KET-200' AND CloseloopCustomer = 'CUST-1' AND "
        "CloseloopAssignee = 'o\\'brien' AND CloseloopOverdue = true"
    )


def _internal_names() -> set[str]:
    models: list[type[BaseModel]] = [*d.DecisionInput.__subclasses__(), d.CapaActionPlan]
    fields = {name for model in models for name in model.model_fields if "_" in name}
    return fields | {decision.value for decision in d.Decision if "_" in decision.value}


INTERNAL = _internal_names()
MINIMAL: dict[str, list[str]] = {
    "ack": [],
    "triage": [
        *("--severity", "high", "--category", "c", "--risk", "r", "--assignee", "qe.a"),
        *("--reportable", "--justification", "injury", "--regulator", "FDA"),
    ],
    "investigate": ["--method", "five_whys", "--root-cause", "thermostat spec"],
    "investigate --decline": ["--decline", "known issue"],
    "plan-capa": ["--action", "A1", "corrective", "eng.park", "14d", "Fix the spec"],
    "progress": ["--action", "A1", "--note", "half done"],
    "complete-action": ["--action", "A1", "--evidence", "qms://ECO-1"],
    "extend": ["--stage", "closure", "--due", "90d", "--reason", "parts late"],
    "verify": ["--effective", "--evidence", "qms://VE-1"],
    "close": ["--response", "Replaced"],
    "reject": ["--not-a-complaint", "--reason", "a question"],
    "reopen": ["--explanation", "again"],
    "add-info": ["--information", "photo"],
    "report": ["--regulator", "FDA", "--reference", "MDR-1"],
    "survey": ["--csat", "4"],
}


class RefusalWalk:
    """Runs decisions and keeps every refusal's text, to check its words."""

    def __init__(self, cli: Cli, complaint_id: str) -> None:
        self.cli, self.complaint_id = cli, complaint_id
        self.refusals: list[str] = []

    async def run(self, command: str, *extra: str, refused: bool = False) -> Result:
        name = command.split()[0]
        args = [name, self.complaint_id, *ACTOR, *MINIMAL[command], *extra]
        result = await self.cli.run(*args)
        if refused:
            assert result.exit_code == ExitStatus.REFUSED, result.output
            assert "refused: " in result.output
            self.refusals.append(result.output[result.output.index("refused: ") :])
        else:
            assert result.exit_code == ExitStatus.OK, result.output
        return result


async def test_every_refusal_the_cli_can_meet_speaks_in_options_and_commands(cli):
    walk = RefusalWalk(cli, await cli.start())
    # Not allowed while acknowledged.
    for command in ("investigate", "investigate --decline", "plan-capa", "progress", "verify"):
        await walk.run(command, refused=True)
    for command in ("complete-action", "close", "reopen", "ack", "report"):
        await walk.run(command, refused=True)
    # Invalid input the workflow judges: awareness in the future, a stale review.
    await walk.run("triage", "--aware-at", "30d", refused=True)
    await walk.run("add-info", "--expect-hash", "0" * 64, refused=True)
    await walk.run("triage")
    # Reportable: the report's time must not be in the future; today's bare date is fine.
    await walk.run("report", "--submitted-at", "2d", refused=True)
    today = datetime.now(UTC).date().isoformat()
    await walk.run("report", "--submitted-at", today)
    # Due dates: into the past, or earlier without saying so.
    await walk.run("extend", "--due", "2020-01-01", refused=True)
    await walk.run("extend")
    await walk.run("extend", "--due", "60d", refused=True)
    # The same update id with other content is a conflict.
    await walk.run("add-info", "--update-id", "op-1")
    await walk.run("add-info", "--update-id", "op-1", "--source", "lab", refused=True)
    await walk.run("investigate")
    past = ["--action", "A2", "corrective", "eng.park", "2020-01-01", "Late"]
    await walk.run("plan-capa", *past, refused=True)  # a due date in the past
    await walk.run("plan-capa", "--action", "A1", "preventive", "x", "9d", "Twice", refused=True)
    await walk.run("plan-capa")
    await walk.run("complete-action", "--action", "A9", refused=True)
    await walk.run("complete-action")
    await walk.run("verify", refused=True)  # before the planned wait
    await walk.run("close", refused=True)  # not verified

    assert len(walk.refusals) >= 20
    for text in walk.refusals:
        words = set(re.findall(r"[a-z][a-z0-9_]*", text))
        assert not words & INTERNAL, (words & INTERNAL, text)
        assert "{field:" not in text and "{decision:" not in text, text
    joined = "\n".join(walk.refusals)
    assert "--aware-at" in joined
    assert "--submitted-at" in joined
    assert "--override-wait" in joined
    assert "--allow-earlier" in joined
    assert "--update-id" in joined
    assert "--action DUE" in joined
    assert "--action ID" in joined
    assert "--expect-hash" in joined
    assert "`closeloop complaint survey`" in joined


async def test_a_development_mode_decision_is_marked_unauthenticated_in_the_audit_log(cli):
    complaint_id = await cli.start()
    result = await cli.run("add-info", complaint_id, *ACTOR, "--information", "photo")
    assert result.exit_code == 0, result.output
    [entry] = cli.audit_log.entries(
        EntryFilter(complaint_id=complaint_id, entry_type="complaint.information_added")
    )
    assert entry.data["input"]["authenticated"] is False


async def test_a_signed_in_user_signs_without_actor_and_the_entry_is_not_marked(cli, tmp_path):
    from identity.roles import Role
    from identity.service import Identity

    identity = Identity.from_url(cli.environ["CLOSELOOP_DATABASE_URL"])
    user, _ = identity.users.add(
        "qe.smith", "Sam Smith", Role.OPERATOR, "x" * 4 + "-long-pass", by="t"
    )
    token, expires_at = identity.tokens.issue(user)
    identity.dispose()
    from closeloop.cli import credentials

    cli.environ = {k: v for k, v in cli.environ.items() if k != "CLOSELOOP_DEV_UNAUTHENTICATED"}
    cli.environ["CLOSELOOP_HOME"] = str(tmp_path)
    old_home = os.environ.get("CLOSELOOP_HOME")
    os.environ["CLOSELOOP_HOME"] = str(tmp_path)
    try:
        credentials.save(credentials.StoredToken(token, "qe.smith", expires_at.isoformat()))
    finally:
        if old_home is None:
            del os.environ["CLOSELOOP_HOME"]
        else:
            os.environ["CLOSELOOP_HOME"] = old_home
    complaint_id = await cli.start()
    refused = await cli.run("add-info", complaint_id, "--actor", "mallory", "--information", "x")
    assert refused.exit_code == 1 and "you are signed in as qe.smith" in refused.output
    result = await cli.run("add-info", complaint_id, "--information", "photo")
    assert result.exit_code == 0, result.output
    [entry] = cli.audit_log.entries(
        EntryFilter(complaint_id=complaint_id, entry_type="complaint.information_added")
    )
    assert entry.actor == "qe.smith"
    assert entry.data["actor"] == {"id": "qe.smith", "name": "Sam Smith"}
    assert "authenticated" not in entry.data["input"]


PER_MARKET_TRIAGE = [
    *("--severity", "critical", "--category", "product-safety", "--risk", "burn"),
    *("--assignee", "qe.smith", "--reportable", "--justification", "burn injury"),
    *("--market", "US", "--market", "eu", "--event-class", "serious_injury"),
]


@pytest.mark.clause("21 CFR 803", "EU MDR Art. 87")
async def test_triage_per_market_then_each_report_by_market_and_kind(cli):
    complaint_id = await cli.start()
    result = await cli.run("triage", complaint_id, *ACTOR, *PER_MARKET_TRIAGE)
    assert result.exit_code == ExitStatus.OK, result.output
    assert "reports owed: FDA MDR 30-day report by" in result.output
    assert "EU MDR serious incident report (death or serious deterioration) by" in result.output
    await cli.run("investigate", complaint_id, *ACTOR, "--decline", "known failure mode")

    result = await cli.run("close", complaint_id, *ACTOR, "--response", "Replaced")
    assert result.exit_code == ExitStatus.REFUSED
    assert "needs the FDA MDR 30-day report and the EU MDR serious incident report" in (
        result.output
    )
    assert "`closeloop complaint report` with its --market and --reference" in result.output

    result = await cli.run("report", complaint_id, *ACTOR, "--reference", "MDR-1")
    assert result.exit_code == ExitStatus.REFUSED
    assert "name the report's --market (reports owed: US mdr_30_day, EU serious_incident)" in (
        result.output
    )
    result = await cli.run(
        "report", complaint_id, *ACTOR, "--market", "US", "--kind", "mdr_5_day", "--reference", "X"
    )
    assert result.exit_code == ExitStatus.REFUSED
    assert "no report is owed for US mdr_5_day (--market, --kind)" in result.output

    for market, reference in (("US", "MDR-3001234567-2026-00042"), ("EU", "MIR-DE-0042")):
        result = await cli.run(
            "report", complaint_id, *ACTOR, "--market", market, "--reference", reference
        )
        assert result.exit_code == ExitStatus.OK, result.output
    assert "no report still owed" in result.output
    result = await cli.run("close", complaint_id, *ACTOR, "--response", "Replaced")
    assert result.exit_code == ExitStatus.OK, result.output


async def test_per_market_options_are_checked_naming_the_option(cli):
    complaint_id = await cli.start()
    result = await cli.run(
        "triage", complaint_id, *ACTOR, *PER_MARKET_TRIAGE[:-2], "--event-class", "explosion"
    )
    assert result.exit_code == ExitStatus.USAGE
    assert "--event-class" in result.output and "death" in result.output
    result = await cli.run("triage", complaint_id, *ACTOR, *PER_MARKET_TRIAGE[:-2])
    assert result.exit_code == ExitStatus.REFUSED
    assert "needs --event-class to know which reports are owed" in result.output
    result = await cli.run("report", complaint_id, *ACTOR, "--market", "JP", "--reference", "R")
    assert result.exit_code == ExitStatus.USAGE
    assert "--market" in result.output


@pytest.mark.clause("ISO 10002:2018 7.3")
@pytest.mark.clause("21 CFR 820.35")
async def test_show_lays_out_the_qmsr_record(cli):
    complaint_id = await cli.start(
        customer=Customer(
            id="CUST-7", name="Jane Roe", phone="+1 617 555 0100", address="12 Main St, Boston"
        ),
        product=Product(
            sku="INF-7",
            name="Infusion pump IP-7",
            lot="7654321D",
            serial="SN-42",
            udi="(01)00844588003288(10)7654321D(21)SN-42",
        ),
    )
    result = await cli.run("show", complaint_id)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "QMSR record (21 CFR 820.35(a))" in text
    assert "Infusion pump IP-7" in text
    assert "udi (01)00844588003288(10)7654321D(21)SN-42" in text and "serial SN-42" in text
    assert "Jane Roe; 12 Main St, Boston; +1 617 555 0100" in text
    assert "acknowledgment via phone" in text
    assert "820.35(a)(6) dates and results of the investigation: not recorded" in text
    [received] = cli.audit_log.entries(
        EntryFilter(complaint_id=complaint_id, entry_type="complaint.received")
    )
    assert received.data["qmsr"]["device"]["udi"].startswith("(01)00844588003288")
    assert received.data["qmsr"]["complainant_digest"].startswith("sha256:")
    audit_text = json.dumps(received.data)
    # The whole number: a timestamp may well hold "555" among its digits.
    assert "Jane Roe" not in audit_text and "617 555 0100" not in audit_text
    assert "Main St" not in audit_text
