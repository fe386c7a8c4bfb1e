"""The yearly report page and its CSV: thin adapters over `reports.selectors.report_yearly`.

Every member of the workspace sees the whole workspace's report, like the dashboard's hours
per month and revenue (there are no per-member permissions on figures in Solodesk)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from solodesk.accounts.workspace import request_workspace, workspace_page
from solodesk.invoicing.templatetags.money import money
from solodesk.reports.export import report_csv
from solodesk.reports.forms import YearForm
from solodesk.reports.selectors import CurrencyAmounts, YearlyReport, report_yearly
from solodesk.timetracking.templatetags.timefmt import hours


@dataclass(frozen=True)
class DisplayRow:
    """A line of the table, formatted here: the template then resolves 7 variables a row
    instead of running two filters per amount (a third of the page's CPU at 300 clients)."""

    name: str
    is_archived: bool
    hours: str
    billable_hours: str
    share: str
    invoiced: SafeString
    paid: SafeString


def _amounts(amounts: list[CurrencyAmounts], field: str) -> SafeString:
    if not amounts:
        return SafeString('<span class="muted">—</span>')
    return format_html_join(
        "", "<div>{}</div>", ((money(getattr(a, field), a.currency),) for a in amounts)
    )


def _display(report: YearlyReport) -> tuple[list[DisplayRow], DisplayRow]:
    rows = [
        DisplayRow(
            name=row.name,
            is_archived=row.is_archived,
            hours=hours(row.seconds),
            billable_hours=hours(row.billable_seconds),
            share=f"{row.share} %",
            invoiced=_amounts(row.amounts, "invoiced"),
            paid=_amounts(row.amounts, "paid"),
        )
        for row in report.clients
    ]
    total = DisplayRow(
        name="Total",
        is_archived=False,
        hours=hours(report.seconds),
        billable_hours=hours(report.billable_seconds),
        share="100.0 %" if report.seconds else "",
        invoiced=_amounts(report.totals, "invoiced"),
        paid=_amounts(report.totals, "paid"),
    )
    return rows, total


def _report(request: HttpRequest) -> tuple[YearForm, YearlyReport | None]:
    workspace = request_workspace(request)
    form = YearForm(request.GET)
    if not form.is_valid():
        return form, None
    today = timezone.localdate(timezone=workspace.tzinfo)
    year = form.cleaned_data["year"] or today.year
    return form, report_yearly(workspace=workspace, year=year, today=today)


def _invalid(request: HttpRequest, form: YearForm) -> HttpResponse:
    context: dict[str, Any] = {"nav": "reports", "form": form, "report": None}
    return render(request, "reports/yearly.html", context, status=400)


@require_GET
@workspace_page
def yearly(request: HttpRequest) -> HttpResponse:
    # Queries (7): session, user (+ running timer, project, client), membership
    # (+ workspace), the years with data, hours per client (monthly totals), hours per
    # month (daily totals), money (invoiced UNION ALL paid, by client and currency).
    form, report = _report(request)
    if report is None:
        return _invalid(request, form)
    rows, total = _display(report)
    context: dict[str, Any] = {
        "nav": "reports",
        "form": form,
        "report": report,
        "rows": rows,
        "total": total,
    }
    return render(request, "reports/yearly.html", context)


@require_GET
@workspace_page
def yearly_csv(request: HttpRequest) -> HttpResponse:
    """The same table as the page, as a file (a few hundred rows at most: built in the
    request, no job)."""
    form, report = _report(request)
    if report is None:
        return _invalid(request, form)
    response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="report-{report.year}.csv"'
    return response
