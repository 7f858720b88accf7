"""Server-side SVG charts for the console: horizontal bars and stacked bars, no JavaScript.

Charts are plain SVG markup with CSS classes (colours live in static/luutru.css), so they obey
the Content-Security-Policy (no inline style), print well and read without a script. Each chart
carries a ``<title>`` and an ``aria-label``; the page shows the numbers in a table beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

WIDTH = 640
LABEL_WIDTH = 190
VALUE_WIDTH = 70
ROW = 26
BAR = 18
PAD = 8


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float


@dataclass(frozen=True, slots=True)
class StackedBar:
    label: str
    parts: tuple[float, ...]  # one value per series, in the chart's series order


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")  # Vietnamese thousands separator


def _svg(height: int, title: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-label={quoteattr(title)} preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def _empty(title: str, empty_text: str) -> Markup:
    height = 2 * ROW + PAD
    body = [
        f'<rect class="chart-empty-box" x="0" y="0" width="{WIDTH}" height="{height}" rx="6"/>',
        f'<text class="chart-empty" x="{WIDTH // 2}" y="{height // 2 + 5}" text-anchor="middle">'
        f"{escape(empty_text)}</text>",
    ]
    return _svg(height, title, body)


def _label(y: float, text: str) -> str:
    short = text if len(text) <= 28 else text[:27] + "…"
    return (
        f'<text class="chart-label" x="{LABEL_WIDTH - PAD}" y="{y:.1f}" text-anchor="end">'
        f"<title>{escape(text)}</title>{escape(short)}</text>"
    )


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    empty_text: str,
    fmt: Callable[[float], str] = _number,
) -> Markup:
    """One horizontal bar per item, scaled to the largest; an empty or all-zero set shows ``empty_text``."""
    if not bars or max(b.value for b in bars) <= 0:
        return _empty(title, empty_text)
    top = max(b.value for b in bars)
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    body: list[str] = []
    for i, bar in enumerate(bars):
        y = PAD + i * ROW
        width = max(1.0, span * bar.value / top) if bar.value > 0 else 0.0
        body.append(_label(y + BAR - 4, bar.label))
        body.append(
            f'<rect class="chart-bar s{i % 6}" x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" '
            f'height="{BAR}" rx="3"><title>{escape(bar.label)}: {escape(fmt(bar.value))}</title></rect>'
        )
        body.append(
            f'<text class="chart-value" x="{LABEL_WIDTH + width + 6:.1f}" y="{y + BAR - 4}">'
            f"{escape(fmt(bar.value))}</text>"
        )
    return _svg(PAD * 2 + len(bars) * ROW, title, body)


def stacked_bar_chart(
    rows: Sequence[StackedBar],
    series: Sequence[str],
    *,
    title: str,
    empty_text: str,
) -> Markup:
    """One bar per row, split into ``series`` (classes ``part0``, ``part1``…), with a legend."""
    if not rows or max(sum(r.parts) for r in rows) <= 0:
        return _empty(title, empty_text)
    if any(len(r.parts) != len(series) for r in rows):
        raise ValueError("every row needs one value per series")
    top = max(sum(r.parts) for r in rows)
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    body: list[str] = []
    x = float(LABEL_WIDTH)
    for k, name in enumerate(series):  # legend
        body.append(f'<rect class="part{k}" x="{x:.1f}" y="{PAD}" width="12" height="12" rx="2"/>')
        body.append(f'<text class="chart-legend" x="{x + 16:.1f}" y="{PAD + 11}">{escape(name)}</text>')
        x += 24 + 8 * len(name)
    for i, row in enumerate(rows):
        y = PAD + (i + 1) * ROW
        body.append(_label(y + BAR - 4, row.label))
        x = float(LABEL_WIDTH)
        for k, value in enumerate(row.parts):
            if value <= 0:
                continue
            width = max(1.0, span * value / top)
            body.append(
                f'<rect class="part{k}" x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR}">'
                f"<title>{escape(row.label)} · {escape(series[k])}: {escape(_number(value))}</title></rect>"
            )
            x += width
        body.append(
            f'<text class="chart-value" x="{x + 6:.1f}" y="{y + BAR - 4}">{escape(_number(sum(row.parts)))}</text>'
        )
    return _svg(PAD * 2 + (len(rows) + 1) * ROW, title, body)


def human_bytes(value: float) -> str:
    """Bytes as B, KiB, MiB, GiB or TiB with one decimal."""
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["Bar", "StackedBar", "bar_chart", "human_bytes", "stacked_bar_chart"]
