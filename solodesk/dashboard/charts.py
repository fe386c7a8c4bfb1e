"""Server-rendered bar charts: a pure function turns numbers into SVG geometry and markup.
No JavaScript, no library; the SVG scales with its container (viewBox + width 100 %) so it
reads on a 375 px phone, and every chart carries a title, a description and its values as a
table for screen readers and small screens.

The markup is built here with format_html (every value escaped) rather than in a template
loop: a chart is ~30 elements, and a template loop over them cost the dashboard ~1 ms per
chart; this costs ~0.1 ms. The figure around it is `dashboard/_bar_chart.html`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 360
HEIGHT = 180
TOP = 14  # room for the scale's label
BOTTOM = 18  # room for the month labels
GROUP_GAP = 0.25  # the share of a month's slot left empty between groups


@dataclass(frozen=True)
class Series:
    name: str
    css_class: str
    values: Sequence[Decimal | int]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css_class: str
    title: str  # shown on hover (SVG <title>)


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class TableRow:
    label: str
    values: list[str]


@dataclass(frozen=True)
class BarChart:
    key: str  # unique on the page: the SVG's title and desc ids derive from it
    title: str
    description: str
    width: int
    height: int
    baseline: float
    top: float
    scale_label: str
    bars: list[Bar]
    labels: list[Label]
    series: list[Series]
    table: list[TableRow]
    is_empty: bool


def _round(value: float) -> float:
    return round(value, 2)


def bar_chart(
    *,
    key: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    formatter: Callable[[Decimal | int], str] = str,
    table_labels: Sequence[str] | None = None,
) -> BarChart:
    """Grouped bars: one group per label, one bar per series, scaled to the largest value
    (zero or negative values draw no bar). Coordinates are rounded to 0.01 of a unit.
    `table_labels` name the rows of the fallback table (e.g. "Mar 2026" for the bar's "Mar")."""
    count = len(labels)
    plot_height = HEIGHT - TOP - BOTTOM
    baseline = HEIGHT - BOTTOM
    largest = max((max(s.values, default=0) for s in series), default=0)
    largest = max(largest, 0)
    slot = WIDTH / count if count else WIDTH
    bar_width = slot * (1 - GROUP_GAP) / max(len(series), 1)
    bars: list[Bar] = []
    for group, label in enumerate(labels):
        left = group * slot + slot * GROUP_GAP / 2
        for index, one in enumerate(series):
            value = one.values[group]
            if value <= 0 or largest <= 0:
                continue
            height = float(Decimal(value) / Decimal(largest)) * plot_height
            bars.append(
                Bar(
                    x=_round(left + index * bar_width),
                    y=_round(baseline - height),
                    width=_round(bar_width),
                    height=_round(height),
                    css_class=one.css_class,
                    title=f"{label}: {one.name} {formatter(value)}",
                )
            )
    return BarChart(
        key=key,
        title=title,
        description=description,
        width=WIDTH,
        height=HEIGHT,
        baseline=baseline,
        top=TOP,
        scale_label=formatter(largest),
        bars=bars,
        labels=[Label(x=_round(i * slot + slot / 2), text=text) for i, text in enumerate(labels)],
        series=list(series),
        table=[
            TableRow(label=text, values=[formatter(s.values[i]) for s in series])
            for i, text in enumerate(table_labels or labels)
        ],
        is_empty=largest <= 0,
    )


def _number(value: float) -> str:
    """SVG coordinates: plain, locale-free ("12.5", "40")."""
    return f"{value:g}"


def chart_svg(chart: BarChart) -> SafeString:
    """The chart as an accessible <svg>: role img, labelled by its <title> and <desc>."""
    bars = format_html_join(
        "",
        '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
        (
            (
                bar.css_class,
                _number(bar.x),
                _number(bar.y),
                _number(bar.width),
                _number(bar.height),
                bar.title,
            )
            for bar in chart.bars
        ),
    )
    labels = format_html_join(
        "",
        '<text class="label" x="{}" y="{}" text-anchor="middle">{}</text>',
        ((_number(label.x), chart.height - 5, label.text) for label in chart.labels),
    )
    return format_html(
        '<svg viewBox="0 0 {w} {h}" width="100%" role="img" '
        'aria-labelledby="{key}-title {key}-desc">'
        '<title id="{key}-title">{title}</title><desc id="{key}-desc">{desc}</desc>'
        '<line class="grid" x1="0" x2="{w}" y1="{top}" y2="{top}"></line>'
        '<text class="scale" x="0" y="{scale_y}">{scale}</text>'
        '<line class="axis" x1="0" x2="{w}" y1="{base}" y2="{base}"></line>'
        "{bars}{labels}</svg>",
        w=chart.width,
        h=chart.height,
        key=chart.key,
        title=chart.title,
        desc=chart.description,
        top=_number(chart.top),
        scale_y=_number(chart.top - 3),
        scale=chart.scale_label,
        base=_number(chart.baseline),
        bars=bars,
        labels=labels,
    )


def chart_table(chart: BarChart) -> SafeString:
    """The same values as a table (the fallback for screen readers and small screens)."""
    head = format_html_join(
        "", '<th class="num">{}</th>', ((one.name.capitalize(),) for one in chart.series)
    )
    rows = format_html_join(
        "",
        "<tr><td>{}</td>{}</tr>",
        (
            (
                row.label,
                format_html_join("", '<td class="num">{}</td>', ((v,) for v in row.values)),
            )
            for row in chart.table
        ),
    )
    return format_html(
        '<div class="table-wrap"><table><thead><tr><th>Month</th>{}</tr></thead>'
        "<tbody>{}</tbody></table></div>",
        head,
        rows,
    )
