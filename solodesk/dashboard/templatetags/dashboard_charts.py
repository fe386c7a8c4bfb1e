"""`{{ chart|chart_svg }}` and `{{ chart|chart_table }}`: see solodesk.dashboard.charts."""

from __future__ import annotations

from django import template

from solodesk.dashboard import charts

register = template.Library()
register.filter("chart_svg", charts.chart_svg)
register.filter("chart_table", charts.chart_table)
