"""Decisions signed through the console's forms, on a real worker and dev server."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType

from audit.store import EntryFilter
from tests.console.conftest import PASSWORD, csrf_of

UPDATE_ID = re.compile(r'name="update_id" value="([^"]+)"')
STATE_HASH = re.compile(r'name="state_hash" value="([^"]*)"')


async def form_of(browser, complaint_id: str, decision: str) -> dict[str, str]:
    """The hidden fields of a decision form, as the browser got them."""
    page = await browser.get(f"/complaints/{complaint_id}/decide/{decision}")
    assert page.status_code == 200, page.text
    update_id, state_hash = UPDATE_ID.search(page.text), STATE_HASH.search(page.text)
    assert update_id and state_hash, page.text
    return {
        "csrf_token": await csrf_of(browser, f"/complaints/{complaint_id}/decide/{decision}"),
        "update_id": update_id.group(1),
        "state_hash": state_hash.group(1),
    }


async def sign(browser, complaint_id: str, decision: str, fields: dict[str, str], **extra):
    hidden = await form_of(browser, complaint_id, decision)
    data = {**hidden, "password": PASSWORD, **fields, **extra}
    return await browser.post(f"/complaints/{complaint_id}/decide/{decision}", data=data)


TRIAGE = {
    "severity": "high", "category": "product-safety",
    "risk_rationale": "Continuous boiling can overheat the base", "assignee": "ann.op",
    "reportable_justification": "No injury", "comment": "Overheating risk",
}  # fmt: skip


@pytest.mark.clause("21 CFR 11.50")
async def test_a_complaint_goes_from_receipt_to_closure_through_signed_forms(console):
    complaint_id = await console.start()
    due = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    steps = [
        ("ann.op", "triage", TRIAGE, "triaged"),
        ("ann.op", "investigate", {"method": "five_whys", "root_causes": "Thermostat strip\n",
                                   "final": "1", "capa_needed": "1"}, "investigating"),
        ("lee.qm", "plan_capa", {"action.id": "A1", "action.description": "Replace supplier",
                                 "action.kind": "corrective", "action.owner": "ann.op",
                                 "action.due_at": due}, None),
        ("ann.op", "complete_action", {"action_id": "A1", "evidence": "erp://ncr/1"}, None),
        ("lee.qm", "verify", {"effective": "1", "evidence": "qms://ve/1",
                              "override_wait_reason": "Lab retest already passed"}, None),
        ("lee.qm", "close", {"customer_response": "We replaced your kettle."}, "closed"),
    ]  # fmt: skip
    for username, decision, fields, status in steps:
        async with console.signed_in(username) as browser:
            if decision == "verify":
                await console.wait_for(complaint_id, lambda s: "verify" in s.allowed_decisions)
            response = await sign(browser, complaint_id, decision, fields)
            assert response.status_code == 303, (decision, response.text[-1500:])
            if status:
                state = await console.wait_for(complaint_id, lambda s, st=status: s.status == st)
                assert state.status == status, decision
    async with console.signed_in("ada.aud") as auditor:
        page = await auditor.get(f"/complaints/{complaint_id}")
    assert 'id="status">closed<' in page.text
    # The signed record: printed name, id, and meaning, as the workflow recorded them.
    assert "Lee Quality (lee.qm)" in page.text and "Ann Operator (ann.op)" in page.text
    state = await console.state(complaint_id)
    signed = [h for h in state.history if h.decision == "close"]
    assert signed and signed[0].actor == "lee.qm" and signed[0].actor_name == "Lee Quality"
    assert signed[0].meaning and signed[0].meaning.value in page.text


@pytest.mark.clause("21 CFR 11.200")
async def test_a_wrong_password_at_signing_sends_nothing_and_writes_nothing(console):
    complaint_id = await console.start()
    entries_before = len(console.identity.audit_log.entries())
    async with console.signed_in("ann.op") as browser:
        hidden = await form_of(browser, complaint_id, "triage")
        before = len(console.identity.audit_log.entries())
        response = await browser.post(
            f"/complaints/{complaint_id}/decide/triage",
            data={**hidden, **TRIAGE, "password": "not my password"},
        )
    assert response.status_code == 401
    assert "nothing was signed" in response.text
    assert "Continuous boiling can overheat the base" in response.text  # the form kept its input
    history = await console.client.get_workflow_handle(complaint_id).fetch_history()
    updates = [
        e for e in history.events
        if e.event_type in (EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
                            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED)
    ]  # fmt: skip
    assert updates == []
    assert len(console.identity.audit_log.entries()) == before
    assert before >= entries_before
    assert (await console.state(complaint_id)).status == "acknowledged"


@pytest.mark.clause("21 CFR 11.100")
async def test_the_signer_is_the_session_user_never_a_form_field(console):
    complaint_id = await console.start()
    async with console.signed_in("ann.op") as browser:
        response = await sign(
            browser, complaint_id, "triage", TRIAGE, actor="lee.qm", **{"actor.id": "lee.qm"}
        )
    assert response.status_code == 303
    state = await console.wait_for(complaint_id, lambda s: s.triage is not None)
    assert state.triage.by.id == "ann.op" and state.triage.by.name == "Ann Operator"
    entries = console.identity.audit_log.entries(EntryFilter(complaint_id=complaint_id))
    assert entries[-1].actor == "ann.op"


@pytest.mark.clause("21 CFR 11.70")
async def test_a_signature_over_a_state_that_changed_meanwhile_is_refused(console):
    complaint_id = await console.start()
    async with console.signed_in("ann.op") as browser:
        stale = await form_of(browser, complaint_id, "triage")
        first = await sign(browser, complaint_id, "triage", TRIAGE)
        assert first.status_code == 303
        await console.wait_for(complaint_id, lambda s: s.status == "triaged")
        hidden = await form_of(browser, complaint_id, "investigate")
        response = await browser.post(
            f"/complaints/{complaint_id}/decide/investigate",
            data={**hidden, "state_hash": stale["state_hash"], "password": PASSWORD,
                  "method": "five_whys", "root_causes": "x"},
        )  # fmt: skip
    assert response.status_code == 409
    assert "refused:" in response.text and "Traceback" not in response.text
    assert (await console.state(complaint_id)).status == "triaged"


async def test_bad_input_in_every_form_names_the_field_on_the_form(console):
    from console.forms import FORMS

    complaint_id = await console.start()
    async with console.signed_in("lee.qm") as browser:
        for decision, form in FORMS.items():
            required = [f for f in form.fields if not f.optional and f.kind != "bool"]
            response = await sign(browser, complaint_id, decision.value, {})
            assert "Traceback" not in response.text and "{field:" not in response.text
            if not required:
                continue
            assert response.status_code == 400, (decision, response.status_code)
            assert f"{required[0].label}: required" in response.text, decision
            assert "Traceback" not in response.text
        bad_date = await sign(
            browser, complaint_id, "plan_capa",
            {"action.id": "A1", "action.description": "d", "action.kind": "corrective",
             "action.owner": "x", "action.due_at": "next tuesday"},
        )  # fmt: skip
        assert (
            bad_date.status_code == 400 and "Due date (UTC): a date as YYYY-MM-DD" in bad_date.text
        )
        no_score = await sign(browser, complaint_id, "record_survey", {"csat": "", "nps": ""})
        assert no_score.status_code == 400
        assert "CSAT (1-5)" in no_score.text and "{field:" not in no_score.text
        not_a_number = await sign(browser, complaint_id, "record_survey", {"csat": "five"})
        assert "CSAT (1-5): a whole number" in not_a_number.text
        out_of_range = await sign(browser, complaint_id, "record_survey", {"nps": "11"})
        assert out_of_range.status_code == 400 and "NPS (0-10):" in out_of_range.text
        bad_id = await sign(
            browser, complaint_id, "complete_action", {"action_id": "no spaces!", "evidence": "e"}
        )
        assert bad_id.status_code == 400 and "Action id:" in bad_id.text


async def test_the_list_shows_running_complaints_with_their_filters(console):
    complaint_id = await console.start()
    async with console.signed_in("ada.aud") as browser:
        deadline = time.monotonic() + 60
        while True:  # visibility is eventually consistent
            page = await browser.get("/complaints", params={"status": "acknowledged"})
            if complaint_id in page.text or time.monotonic() > deadline:
                break
        assert page.status_code == 200 and complaint_id in page.text
        closed = await browser.get("/complaints", params={"status": "closed"})
        assert complaint_id not in closed.text


async def test_the_complaint_page_shows_its_audit_timeline_and_the_entry_its_proof(console):
    from audit import keys
    from audit.checkpointer import Checkpointer

    complaint_id = await console.start()
    await console.wait_for(complaint_id, lambda s: s.status == "acknowledged")
    key = keys.signing_key(None, console.settings.home_dir, create=True)
    assert key is not None
    Checkpointer(console.identity.audit_log, key).checkpoint(force=True)
    async with console.signed_in("ada.aud") as browser:
        page = await browser.get(f"/complaints/{complaint_id}")
        assert "complaint.received" in page.text
        seq = console.identity.audit_log.entries(EntryFilter(complaint_id=complaint_id))[0].seq
        entry = await browser.get(f"/audit/entries/{seq}")
        assert entry.status_code == 200 and complaint_id in entry.text
        assert "Verified: entry" in entry.text and "Proof path" in entry.text
        missing = await browser.get("/audit/entries/999999")
        assert missing.status_code == 404
        verify = await browser.get("/audit/verify")
        assert verify.status_code == 200 and "OK:" in verify.text


async def test_an_auditor_downloads_an_export_that_its_own_verify_py_accepts(console, tmp_path):
    import io
    import subprocess
    import sys
    import zipfile

    from audit import keys
    from audit.checkpointer import Checkpointer
    from audit.signing import public_key_pem

    complaint_id = await console.start()
    await console.wait_for(complaint_id, lambda s: s.status == "acknowledged")
    key = keys.signing_key(None, console.settings.home_dir, create=True)
    assert key is not None
    Checkpointer(console.identity.audit_log, key).checkpoint(force=True)
    async with console.signed_in("ada.aud") as browser:
        response = await browser.get("/audit/export", params={"complaint_id": complaint_id})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    bundle = tmp_path / "bundle"
    zipfile.ZipFile(io.BytesIO(response.content)).extractall(bundle)
    # The auditor checks against the key they were given, not the one inside the bundle.
    trusted = tmp_path / "closeloop-audit.pem"
    trusted.write_bytes(public_key_pem(key))
    verified = subprocess.run(
        [sys.executable, "verify.py", "--quiet", "--public-key", str(trusted)], cwd=bundle,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert complaint_id in (bundle / "entries.jsonl").read_text()


@pytest.mark.clause("21 CFR 11.200")
async def test_a_user_with_totp_signs_only_with_a_current_code(console):
    from identity import totp
    from identity.roles import Role

    _, secret = console.identity.users.add(
        "two.factor", "Two Factor", Role.OPERATOR, PASSWORD, by="os:test", with_totp=True
    )
    assert secret
    complaint_id = await console.start()
    async with console.browser() as browser:
        token = await csrf_of(browser, "/login")
        refused = await browser.post(
            "/login", data={"csrf_token": token, "username": "two.factor", "password": PASSWORD}
        )
        assert refused.status_code == 401
        response = await browser.post(
            "/login",
            data={"csrf_token": token, "username": "two.factor", "password": PASSWORD,
                  "totp": totp.current_code(secret)},
        )  # fmt: skip
        assert response.status_code == 303
        form_page = await browser.get(f"/complaints/{complaint_id}/decide/triage")
        assert 'name="totp"' in form_page.text
        without = await sign(browser, complaint_id, "triage", TRIAGE)
        assert without.status_code == 401 and "nothing was signed" in without.text
        signed = await sign(browser, complaint_id, "triage", TRIAGE, totp=totp.current_code(secret))
        assert signed.status_code == 303
    state = await console.wait_for(complaint_id, lambda s: s.triage is not None)
    assert state.triage is not None and state.triage.by.id == "two.factor"
