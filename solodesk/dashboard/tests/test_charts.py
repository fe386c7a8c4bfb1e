"""The server-drawn bar charts: geometry from numbers, escaped accessible markup."""

from __future__ import annotations

from decimal import Decimal

from solodesk.dashboard.charts import HEIGHT, WIDTH, Series, bar_chart, chart_svg, chart_table


def test_bars_are_scaled_to_the_largest_value():
    chart = bar_chart(
        key="c",
        title="T",
        description="D",
        labels=["Jan", "Feb"],
        series=[
            Series("invoiced", "invoiced", [Decimal("100"), Decimal("50")]),
            Series("paid", "paid", [Decimal("0"), Decimal("25")]),
        ],
    )

    plot = HEIGHT - chart.top - (HEIGHT - chart.baseline)
    heights = [(bar.title, bar.height) for bar in chart.bars]
    assert heights == [
        ("Jan: invoiced 100", plot),
        ("Feb: invoiced 50", plot / 2),
        ("Feb: paid 25", plot / 4),
    ]
    # No bar leaves the drawing, and bars of a group sit side by side.
    for bar in chart.bars:
        assert bar.x >= 0 and bar.x + bar.width <= WIDTH
        assert chart.top <= bar.y and bar.y + bar.height <= chart.baseline + 0.01
    feb_invoiced, feb_paid = chart.bars[1], chart.bars[2]
    assert feb_paid.x == round(feb_invoiced.x + feb_invoiced.width, 2)
    assert chart.scale_label == "100"
    assert not chart.is_empty


def test_an_empty_chart_draws_no_bars():
    chart = bar_chart(
        key="c",
        title="T",
        description="D",
        labels=["Jan", "Feb"],
        series=[Series("hours", "billable", [0, 0])],
    )

    assert chart.bars == []
    assert chart.is_empty
    assert [row.values for row in chart.table] == [["0"], ["0"]]


def test_the_svg_is_labelled_scales_and_escapes():
    chart = bar_chart(
        key="chart-x",
        title="Sales <b>",
        description="D & more",
        labels=["Jan"],
        series=[Series("a<b", "paid", [3])],
        formatter=lambda value: f"{value} €",
        table_labels=["Jan 2026"],
    )

    svg = str(chart_svg(chart))
    table = str(chart_table(chart))

    assert svg.startswith(f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img"')
    assert 'aria-labelledby="chart-x-title chart-x-desc"' in svg
    assert '<title id="chart-x-title">Sales &lt;b&gt;</title>' in svg
    assert '<desc id="chart-x-desc">D &amp; more</desc>' in svg
    assert "<title>Jan: a&lt;b 3 €</title>" in svg
    assert "<b>" not in svg
    assert '<td>Jan 2026</td><td class="num">3 €</td>' in table
    assert '<th class="num">A&lt;b</th>' in table


def test_the_charts_escape_as_django_does():
    from django.utils.html import conditional_escape
    from django.utils.safestring import mark_safe

    from solodesk.dashboard.charts import _escape

    for text in ["a&b<c>\"d'e", "1,234.50 EUR", "Mär 2026", mark_safe("<b>x</b>"), 12]:
        assert _escape(text) == conditional_escape(text)
