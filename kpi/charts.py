"""Inline SVG charts (the review pack, the console): no scripts, no fonts or images to fetch."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

W, H, PAD, BOTTOM = 640, 240, 40, 50
BAR, LINE, TREND = "#3b6ea8", "#c0392b", "#7f8c8d"


def _frame(body: str, top: float) -> str:
    axis = f'<line x1="{PAD}" y1="{H - BOTTOM}" x2="{W - 10}" y2="{H - BOTTOM}" stroke="#333"/>'
    scale = f'<text x="4" y="{PAD - 8}" font-size="10">max {top:g}</text>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
        f'height="{H}" font-family="sans-serif">{axis}{scale}{body}</svg>'
    )


def _x(i: int, n: int) -> float:
    return PAD + (W - PAD - 10) * (i + 0.5) / max(n, 1)


def _y(value: float, top: float) -> float:
    return H - BOTTOM - (H - BOTTOM - PAD) * (value / top if top else 0.0)


def _labels(labels: Sequence[str]) -> str:
    n = len(labels)
    return "".join(
        f'<text x="{_x(i, n):.1f}" y="{H - BOTTOM + 14}" font-size="9" text-anchor="end" '
        f'transform="rotate(-30 {_x(i, n):.1f} {H - BOTTOM + 14})">{escape(label[:24])}</text>'
        for i, label in enumerate(labels)
    )


def bars(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    trend: bool = False,
    cumulative: bool = False,
    top: float | None = None,
) -> str:
    """Bars (absent values leave a gap), optionally a least-squares trend or a Pareto line."""
    n = len(labels)
    present = [v for v in values if v is not None]
    top = top or max(present, default=0.0) or 1.0
    width = (W - PAD - 10) / max(n, 1) * 0.7
    body = []
    for i, value in enumerate(values):
        if value is None:
            continue
        y = _y(value, top)
        body.append(
            f'<rect x="{_x(i, n) - width / 2:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{H - BOTTOM - y:.1f}" fill="{BAR}"><title>{escape(labels[i])}: '
            f"{value:g}</title></rect>"
            f'<text x="{_x(i, n):.1f}" y="{y - 3:.1f}" font-size="9" '
            f'text-anchor="middle">{value:g}</text>'
        )
    if trend and len(present) >= 2:
        body.append(_trend(values, top))
    if cumulative and present:
        total, running, points = sum(present), 0.0, []
        for i, value in enumerate(values):
            running += value or 0.0
            points.append(f"{_x(i, n):.1f},{PAD + (H - BOTTOM - PAD) * (1 - running / total):.1f}")
        body.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{LINE}" '
            'stroke-width="2"/>'
            f'<text x="{W - 12}" y="{PAD - 8}" font-size="10" text-anchor="end" '
            f'fill="{LINE}">cumulative % (right: 100 %)</text>'
        )
    return _frame("".join(body) + _labels(labels), top)


def _trend(values: Sequence[float | None], top: float) -> str:
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    n = len(points)
    mean_x = sum(i for i, _ in points) / n
    mean_y = sum(v for _, v in points) / n
    spread = sum((i - mean_x) ** 2 for i, _ in points) or 1.0
    slope = sum((i - mean_x) * (v - mean_y) for i, v in points) / spread
    count = len(values)
    x0, x1 = 0, count - 1
    y0, y1 = mean_y + slope * (x0 - mean_x), mean_y + slope * (x1 - mean_x)
    return (
        f'<line x1="{_x(x0, count):.1f}" y1="{_y(max(y0, 0), top):.1f}" '
        f'x2="{_x(x1, count):.1f}" y2="{_y(max(y1, 0), top):.1f}" stroke="{TREND}" '
        'stroke-dasharray="6 4" stroke-width="2"><title>least-squares trend</title></line>'
    )


def lines(
    labels: Sequence[str], series: dict[str, Sequence[float | None]], *, low: float, high: float
) -> str:
    """One polyline per series on a fixed scale [low, high]; absent points break the line."""
    n = len(labels)
    colours = [BAR, LINE, TREND]
    body = []
    zero = H - BOTTOM - (H - BOTTOM - PAD) * ((0 - low) / (high - low))
    if low < 0 < high:
        body.append(f'<line x1="{PAD}" y1="{zero:.1f}" x2="{W - 10}" y2="{zero:.1f}" '
                    'stroke="#bbb"/>')  # fmt: skip
    for k, (name, values) in enumerate(series.items()):
        colour = colours[k % len(colours)]
        for i, value in enumerate(values):
            if value is None:
                continue
            y = H - BOTTOM - (H - BOTTOM - PAD) * ((value - low) / (high - low))
            body.append(
                f'<circle cx="{_x(i, n):.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                f"<title>{escape(name)} {escape(labels[i])}: {value:g}</title></circle>"
                f'<text x="{_x(i, n) + 6:.1f}" y="{y - 4:.1f}" font-size="9" '
                f'fill="{colour}">{value:g}</text>'
            )
        body.append(
            f'<text x="{PAD + 10 + 120 * k}" y="{PAD - 8}" font-size="11" '
            f'fill="{colour}">● {escape(name)}</text>'
        )
    return _frame("".join(body) + _labels(labels), high)
