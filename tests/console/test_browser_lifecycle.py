"""One complaint from receipt to closure in Debian's chromium, through the console's forms.

Every decision is signed on its own form by re-entering the password; the signer is the
signed-in user. At the end the complaint is closed and the audit log holds each decision
with that user's id and the meaning of the signature. Screenshots of every page go to the
test's tmp folder (never committed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import Page

from audit.store import EntryFilter
from tests.console.conftest import PASSWORD
from tests.console.test_browser import page, served, shot, sign_in

__all__ = ["page", "served"]  # the fixtures of the browser tests, shared

SIGNER, SIGNER_NAME = "lee.qm", "Lee Quality"
DUE = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
STEPS: list[tuple[str, dict[str, str], tuple[str, ...], str | None]] = [
    ("triage", {"select[name=severity]": "high", "input[name=category]": "product-safety",
                "textarea[name=risk_rationale]": "Continuous boiling can overheat the base",
                "input[name=assignee]": "ann.op",
                "textarea[name=reportable_justification]": "No injury reported"},
     (), "triaged"),
    ("investigate", {"select[name=method]": "five_whys",
                     "textarea[name=root_causes]": "Thermostat strip out of tolerance"},
     (), "investigating"),
    ("plan_capa", {"input[name='action.id']": "A1",
                   "textarea[name='action.description']": "Replace the thermostat supplier",
                   "select[name='action.kind']": "corrective",
                   "input[name='action.owner']": "ann.op", "input[name='action.due_at']": DUE},
     (), None),
    ("complete_action", {"input[name=action_id]": "A1", "textarea[name=evidence]": "erp://ncr/1"},
     (), None),
    ("verify", {"textarea[name=evidence]": "qms://ve/1",
                "input[name=override_wait_reason]": "Lab retest already passed"},
     ("input[name=effective]",), None),
    ("close", {"textarea[name=customer_response]": "We replaced your kettle."}, (), "closed"),
]  # fmt: skip


async def fill_form(page: Page, fields: dict[str, str], checks: tuple[str, ...]) -> None:
    for selector, value in fields.items():
        if selector.startswith("select"):
            await page.select_option(selector, value)
        else:
            await page.fill(selector, value)
    for selector in checks:
        await page.check(selector)
    await page.fill("input[name=password]", PASSWORD)  # the signature's second component


async def test_a_complaint_goes_from_receipt_to_closure_in_the_browser(console, page, tmp_path):
    complaint_id = await console.start()
    # Acknowledgement is automatic: the workflow acknowledges on receipt.
    state = await console.wait_for(complaint_id, lambda s: s.status == "acknowledged")
    assert state.status == "acknowledged"
    await sign_in(page, SIGNER)
    for number, (decision, fields, checks, status) in enumerate(STEPS, start=1):
        if decision == "verify":  # the CAPA action's completion reaches the case first
            await console.wait_for(complaint_id, lambda s: "verify" in s.allowed_decisions)
        await page.goto(f"/complaints/{complaint_id}")
        await page.click(f"ul.decisions a[href$='/decide/{decision}']")
        await page.wait_for_url(f"**/decide/{decision}")
        await fill_form(page, fields, checks)
        await shot(page, tmp_path, f"{number}-{decision}-form")
        await page.click("main button[type=submit]")
        await page.wait_for_url(f"**/complaints/{complaint_id}")
        if status:
            await console.wait_for(complaint_id, lambda s, st=status: s.status == st)
            await page.reload()
            assert await page.inner_text("#status") == status, decision
        await shot(page, tmp_path, f"{number}-{decision}-signed")
    assert await page.inner_text("#status") == "closed"
    assert f"{SIGNER_NAME} ({SIGNER})" in await page.inner_text("table.signatures")
    entries = console.identity.audit_log.entries(EntryFilter(complaint_id=complaint_id))
    signed = {e.data["decision"]: e for e in entries if "signature" in e.data}
    assert set(signed) >= {decision for decision, *_ in STEPS}
    for decision, *_ in STEPS:
        entry = signed[decision]
        assert entry.actor == SIGNER, decision
        assert entry.data["actor"]["id"] == SIGNER, decision
        assert entry.data["signature"]["meaning"], decision
        assert entry.data["signature"]["state_hash"], decision
    assert signed["close"].data["signature"]["meaning"] == "closed"
    assert signed["verify"].data["signature"]["meaning"] == "verified"
