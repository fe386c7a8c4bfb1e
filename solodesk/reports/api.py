"""The yearly report in the API: the same figures as the page, as JSON.

Hours are given in seconds (exact) and in decimal hours (strings, two places); amounts are
strings per currency, never converted. Every member of the workspace gets the whole
workspace's report, like on the page. The handler returns plain dicts: ninja validates and
serialises the response once (building the schema objects first validated 300 clients
twice)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from solodesk.core.api import DecimalString
from solodesk.reports.export import decimal_hours
from solodesk.reports.selectors import (
    MAX_YEAR,
    MIN_YEAR,
    CurrencyAmounts,
    YearlyReport,
    report_yearly,
)

router = Router(tags=["reports"])


class YearlyReportQuery(Schema):
    year: int | None = Field(
        None,
        ge=MIN_YEAR,
        le=MAX_YEAR,
        description="Left out: this year, in the workspace's time zone.",
    )


class AmountsOut(Schema):
    currency: str
    invoiced: DecimalString = Field(description="Issued invoices by issue date, less credit notes.")
    paid: DecimalString = Field(description="Payments by payment date.")


class MonthOut(Schema):
    month: str = Field(examples=["2026-01"])
    seconds: int
    billable_seconds: int
    hours: DecimalString


class ClientOut(Schema):
    id: UUID
    name: str
    is_archived: bool
    seconds: int
    billable_seconds: int
    hours: DecimalString
    billable_hours: DecimalString
    share_percent: DecimalString = Field(description="Of the workspace's hours in the year.")
    amounts: list[AmountsOut]


class YearlyReportOut(Schema):
    year: int
    time_zone: str
    years: list[int] = Field(
        description="From the first to the last year with data, and this year."
    )
    previous_year: int | None
    next_year: int | None
    seconds: int
    billable_seconds: int
    hours: DecimalString
    billable_hours: DecimalString
    months: list[MonthOut]
    clients: list[ClientOut]
    totals: list[AmountsOut] = Field(description="Per currency.")


def _amounts(amounts: CurrencyAmounts) -> dict[str, Any]:
    return {"currency": amounts.currency, "invoiced": amounts.invoiced, "paid": amounts.paid}


def _out(report: YearlyReport, time_zone: str) -> dict[str, Any]:
    return {
        "year": report.year,
        "time_zone": time_zone,
        "years": report.years,
        "previous_year": report.previous_year,
        "next_year": report.next_year,
        "seconds": report.seconds,
        "billable_seconds": report.billable_seconds,
        "hours": decimal_hours(report.seconds),
        "billable_hours": decimal_hours(report.billable_seconds),
        "months": [
            {
                "month": f"{month.month:%Y-%m}",
                "seconds": month.seconds,
                "billable_seconds": month.billable_seconds,
                "hours": decimal_hours(month.seconds),
            }
            for month in report.months
        ],
        "clients": [
            {
                "id": row.public_id,
                "name": row.name,
                "is_archived": row.is_archived,
                "seconds": row.seconds,
                "billable_seconds": row.billable_seconds,
                "hours": decimal_hours(row.seconds),
                "billable_hours": decimal_hours(row.billable_seconds),
                "share_percent": row.share,
                "amounts": [_amounts(amounts) for amounts in row.amounts],
            }
            for row in report.clients
        ],
        "totals": [_amounts(amounts) for amounts in report.totals],
    }


@router.get("/yearly", response=YearlyReportOut, url_name="report_yearly")
def yearly_report(request: HttpRequest, query: Query[YearlyReportQuery]) -> dict[str, Any]:
    """Hours and money by client for one year (see the web page's report)."""
    workspace = request.workspace  # type: ignore[attr-defined]
    today = timezone.now().astimezone(workspace.tzinfo).date()
    report = report_yearly(workspace=workspace, year=query.year or today.year, today=today)
    return _out(report, workspace.time_zone)
