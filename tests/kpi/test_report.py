"""`closeloop kpi report`: a self-contained HTML pack, rendered in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from playwright.sync_api import sync_playwright

from audit.store import AuditLog
from closeloop.cli import main
from closeloop.cli.kpi.printing import ARGS, CHROMIUM


@pytest.mark.clause("ISO 9001:2015 9.3.2", "ISO 10002:2018 8.6")
def test_report_is_self_contained_and_renders(home_log: AuditLog, tmp_path: Path) -> None:
    out = tmp_path / "pack"
    result = CliRunner().invoke(main, ["kpi", "report", "--period", "2026-Q3", "--out",
                                       str(out), "--pdf"])  # fmt: skip
    assert result.exit_code == 0, result.output
    page = out / "management-review-2026-Q3.html"
    html = page.read_text(encoding="utf-8")
    # Nothing to fetch: no scripts, links, images or URLs other than the SVG namespace.
    assert not re.search(r"<script|<link|<img|url\(|src=", html)
    assert set(re.findall(r"https?://[^\"' ]+", html)) == {"http://www.w3.org/2000/svg"}
    assert html.count("<svg") == 7
    assert "time basis" in html and f"tree size {home_log.count()}" in html
    pdf = out / "management-review-2026-Q3.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 800, "height": 1200})
        failed: list[str] = []
        tab.on("requestfailed", lambda request: failed.append(request.url))
        tab.goto(page.as_uri())
        charts = tab.locator("svg")
        assert charts.count() == 7
        assert charts.first.bounding_box() is not None
        heading = tab.locator("h1").inner_text()
        tab.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert "2026-Q3" in heading and failed == []
