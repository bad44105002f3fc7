"""Charts drawn on the server as SVG, for the dashboards: no script, no chart library, nothing from
another site, and every picture readable without seeing it.

Each chart is an ``<svg role="img">`` whose ``<title>`` and ``<desc>`` (``aria-labelledby``) say what
it shows, with its values written as text beside the bars and in each bar's own ``<title>``; the page
shows the same numbers in a table below it. Only SVG presentation attributes are used (``fill``,
``stroke``): the pages' policy (``style-src 'self'``) refuses ``style=`` attributes.

A value of ``None`` is a small cell the ministry may not see: no bar is drawn and its text (``< 10``)
is written instead, so a suppressed count is never given away by a bar's length.

Colours are from the Okabe-Ito palette, which people with the common colour-vision deficiencies tell
apart; a bar's meaning never rests on its colour alone (the legend and the texts say it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BLUE = "#0072B2"
ORANGE = "#D55E00"
GREY = "#595959"
GRID = "#d0d0d0"
TEXT = "#1a1a1a"
FONT = "system-ui, sans-serif"


@dataclass(frozen=True)
class Bar:
    """One category: its label, its value (``None`` when suppressed) and the value as the page writes
    it (grouped digits in the page's language, or ``< 10``)."""

    label: str
    value: int | None
    text: str


@dataclass(frozen=True)
class Column:
    """One day of a time chart: the label under it, the series' values (``None`` when suppressed) and
    their texts, and the capacity drawn as an outline behind them (``None`` when there is none)."""

    label: str
    values: tuple[int | None, ...]
    texts: tuple[str, ...]
    capacity: int | None = None
    capacity_text: str = ""


def _scale_max(values: Sequence[int | None]) -> int:
    largest = max((value for value in values if value is not None), default=0)
    return max(largest, 1)


def _open(chart_id: str, kind: str, width: int, height: int, title: str, desc: str) -> list[str]:
    # In a scrolling box of its own: on a phone the picture keeps a size its texts can be read at
    # (site.css gives each kind a minimum width) and is scrolled sideways, as a wide table is.
    return [
        f'<div class="chart-scroll" tabindex="0" role="region" aria-label="{escape(title)}">',
        f'<svg id="{chart_id}" class="chart {kind}" role="img" viewBox="0 0 {width} {height}"'
        f' aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg"'
        f' font-family="{FONT}" font-size="{16 if kind == "bars" else 14}" fill="{TEXT}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def bar_chart(chart_id: str, title: str, desc: str, bars: Sequence[Bar], *, width: int = 680) -> Markup:
    """Horizontal bars, one per category, longest scale at the largest value, each value written at
    the end of its bar."""
    label_w, value_w, row_h, top = 350, 100, 32, 8
    height = top + row_h * max(len(bars), 1) + 8
    plot_w = width - label_w - value_w
    largest = _scale_max([bar.value for bar in bars])
    parts = _open(chart_id, "bars", width, height, title, desc)
    for index, bar in enumerate(bars):
        y = top + index * row_h
        length = 0 if bar.value is None else round(plot_w * bar.value / largest)
        parts.append("<g>")
        parts.append(f"<title>{escape(bar.label)}: {escape(bar.text)}</title>")
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 21}" text-anchor="end">{escape(_short(bar.label, 40))}</text>'
        )
        if length:
            parts.append(f'<rect x="{label_w}" y="{y + 5}" width="{length}" height="20" fill="{BLUE}"/>')
        weight = ' font-style="italic"' if bar.value is None else ' font-weight="bold"'
        parts.append(f'<text x="{label_w + length + 6}" y="{y + 21}"{weight}>{escape(bar.text)}</text>')
        parts.append("</g>")
    parts.append(f'<line x1="{label_w}" y1="{top}" x2="{label_w}" y2="{height - 8}" stroke="{GREY}"/>')
    parts.append("</svg></div>")
    return Markup("".join(parts))


def column_chart(
    chart_id: str,
    title: str,
    desc: str,
    columns: Sequence[Column],
    series: Sequence[str],
    capacity_label: str,
    *,
    width: int = 960,
) -> Markup:
    """Columns over time: for each day, one column per series side by side (the first blue, the second
    orange), the day's capacity as a dashed outline behind them, a legend on top, the largest value
    written on the axis. Each day's group has its own ``<title>`` with every value (a pointer or a
    screen reader gets them; the table below the chart lists them too)."""
    left, right, top, bottom = 56, 12, 40, 52
    height = 320
    plot_h = height - top - bottom
    plot_w = width - left - right
    largest = _scale_max(
        [value for column in columns for value in column.values] + [column.capacity for column in columns]
    )
    slot = plot_w / max(len(columns), 1)
    bar_w = max(min(slot * 0.8 / max(len(series), 1), 28.0), 2.0)
    colours = (BLUE, ORANGE)
    parts = _open(chart_id, "columns", width, height, title, desc)
    x = left
    for name, colour in zip(series, colours, strict=False):
        parts.append(f'<rect x="{x}" y="10" width="14" height="14" fill="{colour}"/>')
        parts.append(f'<text x="{x + 20}" y="22">{escape(name)}</text>')
        x += 28 + 9 * len(name)
    parts.append(
        f'<rect x="{x}" y="10" width="14" height="14" fill="none" stroke="{GREY}" stroke-dasharray="3 2"/>'
    )
    parts.append(f'<text x="{x + 20}" y="22">{escape(capacity_label)}</text>')
    for fraction in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 5:.1f}" text-anchor="end" font-size="12">'
            f"{round(largest * fraction)}</text>"
        )
    every = max(1, -(-len(columns) * 80 // plot_w))  # a label every 80 px at least: they never overlap
    for index, column in enumerate(columns):
        x0 = left + index * slot
        parts.append("<g>")
        values = [f"{name}: {text}" for name, text in zip(series, column.texts, strict=True)]
        if column.capacity is not None:
            values.append(f"{capacity_label}: {column.capacity_text}")
        parts.append(f"<title>{escape(column.label)}: {escape('; '.join(values))}</title>")
        if column.capacity:
            cap_h = plot_h * column.capacity / largest
            parts.append(
                f'<rect x="{x0 + slot * 0.05:.1f}" y="{top + plot_h - cap_h:.1f}" width="{slot * 0.9:.1f}"'
                f' height="{cap_h:.1f}" fill="none" stroke="{GREY}" stroke-dasharray="3 2"/>'
            )
        group_w = bar_w * len(series)
        for number, (value, colour) in enumerate(zip(column.values, colours, strict=False)):
            bx = x0 + (slot - group_w) / 2 + number * bar_w
            if value:  # a withheld value (None) has no bar: its length would give it away
                h = plot_h * value / largest
                parts.append(
                    f'<rect x="{bx:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}"'
                    f' fill="{colour}"/>'
                )
        if index % every == 0:
            parts.append(
                f'<text x="{x0 + slot / 2:.1f}" y="{top + plot_h + 18}" text-anchor="middle"'
                f' font-size="12">{escape(column.label)}</text>'
            )
        parts.append("</g>")
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="{GREY}"/>'
    )
    parts.append("</svg></div>")
    return Markup("".join(parts))


def _short(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
