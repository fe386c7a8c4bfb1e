"""The dashboard: the page after login. A thin view over the dashboard selectors, the
prompts and the scheduler's heartbeat; the charts are SVG drawn on the server."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from solodesk.accounts.models import Membership
from solodesk.accounts.workspace import request_user, request_workspace, workspace_page
from solodesk.core.web import url_for
from solodesk.dashboard.charts import BarChart, Series, bar_chart
from solodesk.dashboard.selectors import (
    DashboardSummary,
    dashboard_scheduler_health,
    dashboard_summary,
)
from solodesk.invoicing.templatetags.money import money
from solodesk.prompts.rules.families import unbilled_clients
from solodesk.prompts.selectors import DASHBOARD_CARDS, prompt_list_for_user
from solodesk.prompts.services import prompt_events_record_shown
from solodesk.timetracking.templatetags.timefmt import hours


def _money(value: Decimal | int, *, currency: str) -> str:
    return money(value, currency)


RevenueKey = tuple[tuple[str, tuple[tuple[dt.date, Decimal, Decimal], ...]], ...]
HoursKey = tuple[tuple[dt.date, int, int], ...]


def _charts(summary: DashboardSummary) -> tuple[list[BarChart], BarChart]:
    """The charts of these figures. Memoised per process on the figures themselves (a pure
    function of them): a dashboard reloaded with unchanged figures reuses the charts and
    their drawn SVG instead of spending ~2 ms drawing them again."""
    revenue: RevenueKey = tuple(
        (row.currency, tuple((p.month, p.invoiced, p.paid) for p in row.months))
        for row in summary.revenue
    )
    hours_key: HoursKey = tuple(
        (p.month, p.seconds, p.billable_seconds) for p in summary.hours_by_month
    )
    return _draw_charts(revenue, hours_key)


@functools.lru_cache(maxsize=64)  # ~15 KB each: the workspaces one process serves
def _draw_charts(revenue: RevenueKey, months: HoursKey) -> tuple[list[BarChart], BarChart]:
    revenue_charts = []
    for currency, points in revenue:
        revenue_charts.append(
            bar_chart(
                key=f"chart-revenue-{currency.lower()}",
                title=f"Invoiced and paid per month ({currency})",
                description=(
                    f"Net invoiced (invoices less credit notes, by issue date) and payments "
                    f"received (by payment date) in {currency}, tax included, over the last "
                    f"12 months."
                ),
                labels=[f"{month:%b}" for month, _, _ in points],
                series=[
                    Series("invoiced", "invoiced", [invoiced for _, invoiced, _ in points]),
                    Series("paid", "paid", [paid for _, _, paid in points]),
                ],
                formatter=functools.partial(_money, currency=currency),
                table_labels=[f"{month:%b %Y}" for month, _, _ in points],
            )
        )
    hours_chart = bar_chart(
        key="chart-hours",
        title="Hours per month",
        description="Hours tracked in the workspace per month, billable and not, over the "
        "last 12 months.",
        labels=[f"{month:%b}" for month, _, _ in months],
        series=[
            Series("billable", "billable", [billable for _, _, billable in months]),
            Series(
                "not billable",
                "non-billable",
                [seconds - billable for _, seconds, billable in months],
            ),
        ],
        formatter=hours,
        table_labels=[f"{month:%b %Y}" for month, _, _ in months],
    )
    return revenue_charts, hours_chart


@require_GET
@workspace_page
def home(request: HttpRequest) -> HttpResponse:
    # Queries (9 + the prompts'): session, user (+ running timer, project, client),
    # membership (+ workspace), unbilled time (one GROUP BY client, shared with the
    # prompts), the quick-start projects (+ clients), hours (the daily totals of 12
    # months), receivables (one GROUP BY currency),
    # revenue (invoiced UNION ALL paid), and, for owners, the scheduler's heartbeat.
    workspace = request_workspace(request)
    user = request_user(request)
    now = timezone.now()
    # The unbilled time per client is read once, for the summary and the prompts.
    unbilled = unbilled_clients(workspace=workspace)
    summary = dashboard_summary(workspace=workspace, user=user, now=now, unbilled=unbilled)
    is_owner = request.membership.role == Membership.Role.OWNER  # type: ignore[attr-defined]
    prompts = prompt_list_for_user(
        workspace=workspace,
        user=user,
        placement="dashboard",
        # The top few, their cards built and their "shown" recorded; the rest are counted
        # for the "See all N suggestions" link to the /prompts/ page.
        limit=DASHBOARD_CARDS,
        now=now,  # the summary's moment: one "today" on the page, even around midnight
        unbilled_clients=unbilled,
    )
    if prompts:
        prompt_events_record_shown(workspace=workspace, user=user, prompts=prompts)
    revenue_charts, hours_chart = _charts(summary)
    context: dict[str, Any] = {
        "nav": "dashboard",
        "summary": summary,
        "prompts": prompts,
        "prompts_total": getattr(prompts, "total", len(prompts)),
        "revenue_charts": revenue_charts,
        "hours_chart": hours_chart,
        "scheduler": dashboard_scheduler_health(now=now) if is_owner else None,
        "default_currency": workspace.default_currency,
        # The page's own links, reversed once per process (`{% url %}` reverses per use).
        "urls": {
            name.replace(":", "_"): url_for(name)
            for name in (
                "home",
                "timetracking:timer_start",
                "timetracking:timer_stop",
                "timetracking:week",
                "invoicing:from_time",
                "prompts:list",
            )
        },
    }
    return render(request, "dashboard/home.html", context)
