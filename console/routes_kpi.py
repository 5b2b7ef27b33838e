"""The KPI dashboard: the figures of `closeloop kpi show` as server-rendered SVG charts.

Every signed-in role may read it (operators, quality managers, auditors, administrators).
The numbers come from `kpi.service` over the audit log, exactly as the CLI computes them,
and the charts from `kpi.charts` (the review pack's): no script, nothing fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from console.context import ConsoleContext
from console.pages import page
from console.security import Viewing, context
from kpi import charts, service
from kpi.periods import KpiInputError

router = APIRouter()

SUMMARY = (
    "complaints_received",
    "complaints_closed",
    "open_at_end",
    "ack_time_median_h",
    "time_to_close_median_d",
    "on_time_close_pct",
    "reopen_rate_pct",
    "csat_mean",
    "nps",
)


@dataclass
class Dashboard:
    as_of: str
    summary: list[tuple[str, str]]
    charts: list[tuple[str, Markup]]


def _day(raw: str, field: str) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise KpiInputError(f"{field}: {raw[:40]!r} is not a date (YYYY-MM-DD)") from None


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _compute(ctx: ConsoleContext, start: date | None, end: date | None) -> Dashboard:
    settings = ctx.settings
    ledger, checkpoint = service.from_log(
        ctx.identity.audit_log, settings.home_dir, label=settings.resolved_database_url
    )
    whole = service.show(ledger, checkpoint, start=start, end=end)
    months = service.show(ledger, checkpoint, start=start, end=end, by=["month"])
    cats = service.show(ledger, checkpoint, start=start, end=end, by=["category"])
    labels = [r.group.get("month", "") for r in months.rows]

    def series(name: str) -> list[float | None]:
        return [r.figures[name] for r in months.rows]

    ranked = sorted(
        ((r.group["category"], r.figures["complaints_received"] or 0.0) for r in cats.rows),
        key=lambda item: -item[1],
    )
    # kpi.charts escapes every label it draws; the rest of the SVG is our own markup.
    drawn = [
        ("Complaints received per month, with the trend",
         charts.bars(labels, series("complaints_received"), trend=True)),
        ("Pareto of categories (complaints received)",
         charts.bars([c for c, _ in ranked], [v for _, v in ranked], cumulative=True)),
        ("On-time rates per month (%)",
         charts.lines(labels, {"acknowledged on time": series("on_time_ack_pct"),
                               "closed on time": series("on_time_close_pct")}, low=0, high=100)),
        ("CSAT per month (mean, 1-5)",
         charts.lines(labels, {"CSAT mean": series("csat_mean")}, low=1, high=5)),
        ("Open cases at each month's end", charts.bars(labels, series("open_at_end"))),
    ]  # fmt: skip
    figures = whole.rows[0].figures if whole.rows else {}
    as_of = whole.as_of
    pinned = f"audit log tree size {as_of.tree_size}, root hash {as_of.root_hash}" + (
        f"; latest signed {as_of.checkpoint.label}" if as_of.checkpoint else ""
    )
    return Dashboard(
        as_of=pinned,
        summary=[(name, _fmt(figures.get(name))) for name in SUMMARY],
        charts=[(title, Markup(svg)) for title, svg in drawn],  # noqa: S704 (escaped above)
    )


@router.get("/kpi")
async def kpi_page(request: Request, viewer: Viewing, start: str = "", end: str = "") -> Response:
    """Query parameters `start` and `end` (YYYY-MM-DD, both days included), like --from/--to."""
    start, end = start[:40], end[:40]
    try:
        first, last = _day(start, "from"), _day(end, "to")
        board = await run_in_threadpool(_compute, context(request), first, last)
    except KpiInputError as bad:
        message = str(bad).replace("--to", "to").replace("--from", "from")
        return page(
            request, "kpi.html", 400, viewer=viewer, error=message, board=None, start=start, end=end
        )
    return page(request, "kpi.html", viewer=viewer, error="", board=board, start=start, end=end)
