"""The management-review pack (ISO 9001 9.3.2 c): one self-contained HTML file, and a PDF.

Everything is inline (CSS, SVG); nothing is fetched, so the file reads the same offline,
archived, or printed. Each chart names its figure's definition and the `as_of` state.
"""

from __future__ import annotations

import itertools
from datetime import date
from html import escape
from pathlib import Path

from closeloop.cli.kpi.computing import compute
from kpi import charts as svg
from kpi.figures import BY_NAME
from kpi.periods import parse_period
from kpi.service import Result

CSS = """
body{font-family:sans-serif;max-width:760px;margin:24px auto;color:#222}
h1{font-size:22px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ccc}
p.def{font-size:11px;color:#555}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}
section{page-break-inside:avoid}
"""


def _month_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def write(
    period: str, out: Path, *, pdf: bool, bundle: Path | None, retention_days: int
) -> list[Path]:
    start, after = parse_period(period)
    last_day = date.fromordinal(after.toordinal() - 1)
    whole = compute(bundle, retention_days, start=start, end=last_day, by=[])
    months = compute(bundle, retention_days, start=start, end=last_day, by=["month"])
    history = compute(
        bundle, retention_days, start=_month_before(start, 9), end=last_day, by=["month"]
    )
    categories = compute(bundle, retention_days, start=start, end=last_day, by=["category"])
    html = render(period, whole, months, history, categories)
    out.mkdir(parents=True, exist_ok=True)
    page = out / f"management-review-{period}.html"
    page.write_text(html, encoding="utf-8")
    written = [page]
    if pdf:
        from closeloop.cli.kpi.printing import to_pdf

        written.append(to_pdf(page, page.with_suffix(".pdf")))
    return written


def _definition(*names: str) -> str:
    parts = [
        f"<b>{n}</b>: {escape(BY_NAME[n].formula)}; time basis: {escape(BY_NAME[n].basis)}"
        for n in names
    ]
    return f'<p class="def">{"<br>".join(parts)}</p>'


def _series(result: Result, name: str) -> tuple[list[str], list[float | None]]:
    labels = [row.group.get("month", "") for row in result.rows]
    return labels, [row.figures[name] for row in result.rows]


def render(period: str, whole: Result, months: Result, history: Result, cats: Result) -> str:
    as_of = whole.as_of
    cp = as_of.checkpoint
    pinned = (
        f"as_of: audit log tree size {as_of.tree_size}, root hash <code>{as_of.root_hash}</code>; "
        + (f"latest signed {escape(cp.label)}" if cp else "no signed checkpoint yet")
    )
    total = whole.rows[0].figures if whole.rows else {}
    sections = [
        f"<h1>Management review: complaints and customer satisfaction, {period}</h1>",
        f'<p class="def">{pinned}</p>',
        _summary(total),
    ]
    labels, received = _series(history, "complaints_received")
    sections.append(
        _section(
            "Complaints received per month: the period and the nine months before, with the trend",
            svg.bars(labels, received, trend=True),
            _definition("complaints_received"),
        )
    )
    ranked = sorted(
        ((r.group["category"], r.figures["complaints_received"] or 0.0) for r in cats.rows),
        key=lambda item: -item[1],
    )
    sections.append(
        _section(
            "Pareto of categories (complaints received)",
            svg.bars([c for c, _ in ranked], [v for _, v in ranked], cumulative=True),
            _definition("complaints_received") + '<p class="def">category: set at triage; '
            "(none) = not triaged yet</p>",
        )
    )
    sections.append(
        _section(
            "Distribution of time to close (days)",
            _histogram(whole),
            _definition("time_to_close_median_d", "time_to_close_p90_d"),
        )
    )
    m_labels, csat = _series(months, "csat_mean")
    _, nps = _series(months, "nps")
    sections.append(
        _section(
            "CSAT per month (mean, 1-5)",
            svg.lines(m_labels, {"CSAT mean": csat}, low=1, high=5),
            _definition("csat_mean", "csat_top2_pct"),
        )
    )
    sections.append(
        _section(
            "NPS per month (-100 to 100)",
            svg.lines(m_labels, {"NPS": nps}, low=-100, high=100),
            _definition("nps"),
        )
    )
    _, ack = _series(months, "on_time_ack_pct")
    _, close = _series(months, "on_time_close_pct")
    sections.append(
        _section(
            "On-time rates per month (%)",
            svg.lines(
                m_labels, {"acknowledged on time": ack, "closed on time": close}, low=0, high=100
            ),
            _definition("on_time_ack_pct", "on_time_close_pct"),
        )
    )
    _, opened = _series(months, "open_at_end")
    _, overdue = _series(months, "overdue_open_pct")
    sections.append(
        _section(
            "Open cases at each month's end",
            svg.bars(m_labels, opened)
            + _table(m_labels, {"open at end": opened, "overdue %": overdue}),
            _definition("open_at_end", "overdue_open_pct"),
        )
    )
    _, capa = _series(months, "capa_effective_first_pct")
    _, cycle = _series(months, "capa_cycle_time_median_d")
    sections.append(
        _section(
            "CAPA effectiveness",
            _table(
                m_labels,
                {"effective at first verification %": capa, "cycle time median (d)": cycle},
            ),
            _definition("capa_effective_first_pct", "capa_cycle_time_median_d"),
        )
    )
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Management review {period}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _section(title: str, chart: str, definition: str) -> str:
    return f"<section><h2>{escape(title)}</h2>{chart}{definition}</section>"


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _summary(figures: dict[str, float | None]) -> str:
    names = [
        "complaints_received",
        "complaints_closed",
        "complaints_rejected",
        "open_at_end",
        "ack_time_median_h",
        "time_to_close_median_d",
        "on_time_close_pct",
        "reopen_rate_pct",
        "recurrence_rate_pct",
        "csat_top2_pct",
        "nps",
        "retention_pct",
        "complaints_per_million_units",
    ]
    cells = "".join(f"<tr><th>{n}</th><td>{_fmt(figures.get(n))}</td></tr>" for n in names)
    return f"<section><h2>The period at a glance</h2><table>{cells}</table></section>"


def _table(labels: list[str], columns: dict[str, list[float | None]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    rows = "".join(
        f"<tr><th>{escape(label)}</th>"
        + "".join(f"<td>{_fmt(values[i])}</td>" for values in columns.values())
        + "</tr>"
        for i, label in enumerate(labels)
    )
    return f"<table><tr><th>month</th>{head}</tr>{rows}</table>"


def _histogram(whole: Result) -> str:
    if not whole.groups:
        return "<p>no closures in the period</p>"
    days = whole.groups[0].values("close_days")
    edges = [0, 7, 14, 30, 60, 90, 180]
    labels = [f"{a}-{b} d" for a, b in itertools.pairwise(edges)] + ["180+ d"]
    counts = [0.0] * len(labels)
    for value in days:
        index = sum(1 for edge in edges[1:] if value >= edge)
        counts[index] += 1
    return svg.bars(labels, counts)
