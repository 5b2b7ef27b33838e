"""The console in Debian's chromium, driven by Playwright, over real HTTP (uvicorn).

Screenshots of each page go to the test's tmp folder (never committed); their paths are
printed so a person can look at them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Page, async_playwright

from audit import keys
from audit.checkpointer import Checkpointer
from closeloop.stack.processes import free_port
from tests.console.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip


@pytest.fixture(scope="module")
async def served(console) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(console.app, host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def page(served) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(base_url=served)
        yield await context.new_page()
        await browser.close()


async def sign_in(page: Page, username: str) -> None:
    await page.goto("/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url("**/complaints")


async def shot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


async def test_an_operator_signs_in_and_signs_decisions_in_the_browser(console, page, tmp_path):
    complaint_id = await console.start(summary='Kettle <b>keeps</b> boiling "forever"')
    await sign_in(page, "ann.op")
    await shot(page, tmp_path, "list")
    await page.goto(f"/complaints/{complaint_id}")
    await shot(page, tmp_path, "complaint")
    await page.click("a[href$='/decide/triage']")
    await page.select_option("select[name=severity]", "high")
    await page.fill("input[name=category]", "product-safety")
    await page.fill("textarea[name=risk_rationale]", "Continuous boiling can overheat the base")
    await page.fill("input[name=assignee]", "ann.op")
    await page.fill("textarea[name=reportable_justification]", "No injury")
    await page.fill("input[name=password]", "not my password")
    await page.click("main button[type=submit]")
    assert "nothing was signed" in await page.inner_text("main")
    await shot(page, tmp_path, "triage-wrong-password")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url(f"**/complaints/{complaint_id}")
    assert await page.inner_text("#status") == "triaged"
    assert "Ann Operator (ann.op)" in await page.inner_text("table.signatures")
    await shot(page, tmp_path, "complaint-triaged")
    # The summary rendered as text: no <b> element came from the complaint.
    assert await page.locator("p.summary b").count() == 0


async def test_an_auditor_opens_an_entry_with_its_proof_and_verifies(console, page, tmp_path):
    complaint_id = await console.start()
    await console.wait_for(complaint_id, lambda s: s.status == "acknowledged")
    key = keys.signing_key(None, console.settings.home_dir, create=True)
    assert key is not None
    Checkpointer(console.identity.audit_log, key).checkpoint(force=True)
    await sign_in(page, "ada.aud")
    await page.goto(f"/audit?complaint_id={complaint_id}")
    await shot(page, tmp_path, "audit-list")
    async with page.expect_download() as download_info:
        await page.click("#export")
    download = await download_info.value
    exported = tmp_path / "export.zip"
    await download.save_as(exported)
    assert exported.stat().st_size > 0 and download.suggested_filename.endswith(".zip")
    await page.click("td a >> nth=0")
    assert (await page.inner_text("#proof-status")).startswith("Verified: entry")
    await shot(page, tmp_path, "audit-entry-proof")
    await page.goto("/audit/verify")
    assert (await page.inner_text("#verify-status")).startswith("OK:")
    await shot(page, tmp_path, "verify")
    since = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    await page.goto(f"/audit?since={since}&actor=ada.aud")
    assert "identity.login" in await page.inner_text("table")


async def test_a_manager_opens_the_kpi_charts(console, page, tmp_path):
    complaint_id = await console.start()
    await console.wait_for(complaint_id, lambda s: s.status == "acknowledged")
    await sign_in(page, "lee.qm")
    await page.click("nav a[href='/kpi']")
    await page.wait_for_url("**/kpi")
    assert await page.locator("section.chart svg").count() == 5
    received = page.locator("#kpi-summary tr", has_text="complaints_received").locator("td")
    assert int(await received.inner_text()) >= 1
    await shot(page, tmp_path, "kpi")
