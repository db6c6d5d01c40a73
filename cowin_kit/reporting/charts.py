"""Charts as inline SVG, drawn on the server: the dashboard needs no chart library, no CDN
and no JavaScript. Flask-free: callers pass every text already translated and a ``fmt``
that writes a number in the reader's language.

Each chart is an ``<svg role="img">`` with a <title> and a <desc> (and a <title> per bar, a
tooltip), sized by the page: x positions are percentages of the width and heights are
pixels, so text keeps its size on a phone and the bars stretch on a wide screen. ``rtl``
mirrors a chart (bars grow from the right, labels on the right) for right-to-left
languages; text anchors are logical (start/end) and each text carries its direction.
Pages show the same numbers in a table next to each chart.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

Fmt = Callable[[float], str]

INK, MUTED, GRID = "#1b2430", "#5b6573", "#c9d1d9"
PALETTE = ("#0b6e4f", "#b5461a", "#5b4bb7", "#8a6d00", "#1f6fb2")  # 3:1 or more on white
FONT = 13  # px, labels
SMALL = 12  # px, values and axes
BAR_SPAN = 76.0  # % of the width the longest bar takes; the rest holds its value


def _n(value: float) -> str:
    """A coordinate: short, and never in exponent notation."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _x(pct: float, rtl: bool) -> str:
    return _n(100.0 - pct if rtl else pct) + "%"


def _text(x: str, y: float, content: str, *, rtl: bool, anchor: str = "start", dx: float = 0,
          size: int = SMALL, fill: str = MUTED, weight: str | None = None) -> str:
    """A text at (x, y); ``anchor`` is logical: start is the right edge in rtl, and a
    positive ``dx`` moves toward the end of the line."""
    attrs = [f'x="{x}"', f'y="{_n(y)}"', f'font-size="{size}"', f'fill="{fill}"',
             f'text-anchor="{anchor}"']
    if dx:
        attrs.append(f'dx="{_n(-dx if rtl else dx)}"')
    if rtl:
        attrs.append('direction="rtl"')
    if weight:
        attrs.append(f'font-weight="{weight}"')
    return f"<text {' '.join(attrs)}>{escape(content)}</text>"


def _svg(chart_id: str, title: str, desc: str, height: float, body: list[str],
         css_class: str) -> str:
    ident = escape(chart_id, quote=True)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {escape(css_class)}" '
            f'role="img" width="100%" height="{_n(height)}" '
            f'aria-labelledby="{ident}-title {ident}-desc">'
            f'<title id="{ident}-title">{escape(title)}</title>'
            f'<desc id="{ident}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>")


def _empty(chart_id: str, title: str, desc: str, empty_text: str, rtl: bool,
           css_class: str) -> str:
    return _svg(chart_id, title, desc, 48, [
        '<rect x="0" y="0" width="100%" height="48" fill="#f4f6f8" rx="6"/>',
        _text("50%", 29, empty_text, rtl=rtl, anchor="middle", size=FONT)], css_class)


def _peak(values: Sequence[float]) -> float:
    return max((v for v in values if v > 0), default=0)


def columns(points: Sequence[tuple[str, float]], *, chart_id: str, title: str, desc: str,
            empty_text: str, fmt: Fmt = str, rtl: bool = False, height: int = 160,
            tooltip: Callable[[str, str], str] | None = None) -> str:
    """Columns, one per point (label, value) in order, e.g. doses per day. The first, the
    middle and the last labels are written under the axis; every column has a tooltip
    ``tooltip(label, formatted value)`` (default "label: value")."""
    peak = _peak([v for _, v in points])
    if not points or not peak:
        return _empty(chart_id, title, desc, empty_text, rtl, "chart-columns")
    top, bottom = 20, 20 + height
    width = 100.0 / len(points)
    tip = tooltip or (lambda label, value: f"{label}: {value}")
    body = [_text(_x(0, rtl), 14, fmt(peak), rtl=rtl),
            f'<line x1="0" x2="100%" y1="{top}" y2="{top}" stroke="{GRID}" '
            f'stroke-dasharray="3 3"/>']
    for i, (label, value) in enumerate(points):
        h = height * max(value, 0) / peak
        x = i * width + width * 0.1
        if rtl:
            x = 100.0 - x - width * 0.8
        body.append(f'<rect class="bar" x="{_n(x)}%" y="{_n(bottom - h)}" '
                    f'width="{_n(width * 0.8)}%" height="{_n(h)}" fill="{PALETTE[0]}">'
                    f"<title>{escape(tip(label, fmt(value)))}</title></rect>")
    body.append(f'<line x1="0" x2="100%" y1="{bottom}" y2="{bottom}" stroke="{INK}"/>')
    ticks = {0: "start", len(points) - 1: "end"}
    if len(points) > 2:
        ticks[len(points) // 2] = "middle"
    for i, anchor in sorted(ticks.items()):
        x = {"start": 0.0, "end": 100.0, "middle": (i + 0.5) * width}[anchor]
        body.append(_text(_x(x, rtl), bottom + 16, points[i][0], rtl=rtl, anchor=anchor))
    return _svg(chart_id, title, desc, bottom + 22, body, "chart-columns")


def bars(items: Sequence[tuple[str, float]], *, chart_id: str, title: str, desc: str,
         empty_text: str, fmt: Fmt = str, rtl: bool = False) -> str:
    """Horizontal bars, one per item (label, value) in the order given (by product, by
    area): the label on a line of its own, the bar under it, its value at its end."""
    peak = _peak([v for _, v in items])
    if not items or not peak:
        return _empty(chart_id, title, desc, empty_text, rtl, "chart-bars")
    row, body = 40, []
    for i, (label, value) in enumerate(items):
        y = i * row
        span = BAR_SPAN * max(value, 0) / peak
        body.append(_text(_x(0, rtl), y + 14, label, rtl=rtl, size=FONT, fill=INK))
        body.append(f'<rect class="bar" x="{_x(span if rtl else 0, rtl)}" y="{y + 19}" '
                    f'width="{_n(span)}%" height="14" fill="{PALETTE[0]}">'
                    f"<title>{escape(label)}: {escape(fmt(value))}</title></rect>")
        body.append(_text(_x(span, rtl), y + 31, fmt(value), rtl=rtl, dx=6))
    return _svg(chart_id, title, desc, len(items) * row, body, "chart-bars")


def grouped_bars(groups: Sequence[tuple[str, Sequence[float]]], series: Sequence[str], *,
                 chart_id: str, title: str, desc: str, empty_text: str, fmt: Fmt = str,
                 rtl: bool = False) -> str:
    """Horizontal bars in groups (e.g. age bands), one bar per series (e.g. gender) in each,
    coloured by series, with a legend. ``groups`` are (label, one value per series)."""
    peak = _peak([v for _, values in groups for v in values])
    if not groups or not series or not peak:
        return _empty(chart_id, title, desc, empty_text, rtl, "chart-grouped")
    body, step = [], 100.0 / len(series)
    for k, name in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        shift = ' transform="translate(-12 0)"' if rtl else ""
        body.append(f'<rect x="{_x(k * step, rtl)}" y="4" width="12" height="12" '
                    f'fill="{colour}"{shift}/>')
        body.append(_text(_x(k * step, rtl), 15, name, rtl=rtl, dx=17, fill=INK))
    y, bar = 28, 12
    for label, values in groups:
        body.append(_text(_x(0, rtl), y + 14, label, rtl=rtl, size=FONT, fill=INK,
                          weight="600"))
        y += 19
        for k, value in enumerate(values):
            span = BAR_SPAN * max(value, 0) / peak
            body.append(f'<rect class="bar" x="{_x(span if rtl else 0, rtl)}" y="{y}" '
                        f'width="{_n(span)}%" height="{bar}" '
                        f'fill="{PALETTE[k % len(PALETTE)]}">'
                        f"<title>{escape(label)}, {escape(series[k])}: "
                        f"{escape(fmt(value))}</title></rect>")
            body.append(_text(_x(span, rtl), y + bar - 1, fmt(value), rtl=rtl, dx=6))
            y += bar + 3
        y += 8
    return _svg(chart_id, title, desc, y, body, "chart-grouped")


__all__ = ["bars", "columns", "grouped_bars"]
