"""HTML to PDF in headless Debian Chromium (through Playwright, with no browser download)."""

from __future__ import annotations

from pathlib import Path

from closeloop.cli.kpi.errors import Unreachable

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def to_pdf(page: Path, target: Path) -> Path:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        raise Unreachable("--pdf needs Playwright: pip install 'closeloop[report]'") from None
    if not Path(CHROMIUM).exists():
        raise Unreachable(f"--pdf needs Chromium at {CHROMIUM}: apt-get install chromium")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                tab = browser.new_page()
                tab.goto(page.resolve().as_uri())
                tab.pdf(path=str(target), format="A4", print_background=True)
            finally:
                browser.close()
    except Error as exc:
        raise Unreachable(f"Chromium could not print the report: {exc.message}") from None
    return target
