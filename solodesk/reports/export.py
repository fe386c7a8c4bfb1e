"""The yearly report as CSV: the same table as the page, one row per client and currency."""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal

from solodesk.reports.selectors import YearlyReport

CSV_COLUMNS = [
    "client",
    "hours",
    "billable_hours",
    "share_percent",
    "currency",
    "invoiced",
    "paid",
]


def decimal_hours(seconds: int) -> Decimal:
    return (Decimal(seconds) / 3600).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _text(value: str) -> str:
    """A client's name as a spreadsheet cell: one that starts like a formula is quoted so
    that no spreadsheet runs it."""
    return f"'{value}" if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def report_csv(report: YearlyReport) -> str:
    """Hours on a client's first row only (a client billed in two currencies has two rows),
    so that a spreadsheet's sum of the hours column is right; then a total row per
    currency (the hours on the first)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in report.clients:
        hours = [decimal_hours(row.seconds), decimal_hours(row.billable_seconds), row.share]
        if not row.amounts:
            writer.writerow([_text(row.name), *hours, "", "", ""])
        for index, amounts in enumerate(row.amounts):
            writer.writerow(
                [
                    _text(row.name),
                    *(hours if index == 0 else ["", "", ""]),
                    amounts.currency,
                    amounts.invoiced,
                    amounts.paid,
                ]
            )
    total_hours = [
        decimal_hours(report.seconds),
        decimal_hours(report.billable_seconds),
        "100.0" if report.seconds else "0.0",
    ]
    if not report.totals:
        writer.writerow(["Total", *total_hours, "", "", ""])
    for index, amounts in enumerate(report.totals):
        writer.writerow(
            [
                "Total",
                *(total_hours if index == 0 else ["", "", ""]),
                amounts.currency,
                amounts.invoiced,
                amounts.paid,
            ]
        )
    return out.getvalue()
