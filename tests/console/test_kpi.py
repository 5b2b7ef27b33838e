"""The KPI dashboard: every role reads it; its figures are the audit log's; bad dates named."""

from __future__ import annotations

import re

from tests.console.conftest import USERS


async def test_every_role_reads_the_dashboard_with_the_figures_of_the_log(console):
    complaint_id = await console.start()
    await console.wait_for(complaint_id, lambda s: s.status == "acknowledged")
    for username in USERS:
        async with console.signed_in(username) as browser:
            response = await browser.get("/kpi")
            assert response.status_code == 200, (username, response.text[:500])
            assert response.text.count("<svg") == 5
            assert "<script" not in response.text
            received = re.search(r"<th>complaints_received</th><td>(\d+)</td>", response.text)
            assert received and int(received.group(1)) >= 1


async def test_a_range_narrows_the_figures_and_bad_dates_are_named(console):
    async with console.signed_in("lee.qm") as browser:
        empty = await browser.get("/kpi", params={"start": "2001-01-01", "end": "2001-01-31"})
        assert empty.status_code == 200
        assert "<th>complaints_received</th><td>0</td>" in empty.text
        bad = await browser.get("/kpi", params={"start": "2026-13-01"})
        assert bad.status_code == 400
        assert "from: &#39;2026-13-01&#39; is not a date (YYYY-MM-DD)" in bad.text
        inverted = await browser.get("/kpi", params={"start": "2026-02-01", "end": "2026-01-01"})
        assert inverted.status_code == 400
        assert "to 2026-01-01 is before from 2026-02-01" in inverted.text
        hostile = await browser.get("/kpi", params={"start": '"><script>x</script>'})
        assert hostile.status_code == 400 and "<script>x" not in hostile.text
