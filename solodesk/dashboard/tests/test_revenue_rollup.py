"""The dashboard's revenue reads the monthly totals (decision 0006) but still counts only
what is dated up to today: documents and payments dated later this month are left out,
and a currency with nothing else is not shown."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from solodesk.dashboard.selectors import dashboard_revenue
from solodesk.invoicing import services as invoicing
from solodesk.invoicing.tests.factories import line, make_client


def _issued(workspace, user, client, price: str, issue_date: dt.date):
    draft = invoicing.invoice_create_draft(
        workspace=workspace, user=user, client=client, lines=[line(unit_price=price, tax_rate="0")]
    )
    return invoicing.invoice_issue(invoice=draft, user=user, issue_date=issue_date)


def test_documents_and_payments_dated_after_today_are_not_counted_yet(owner):
    workspace, user = owner.workspace, owner.user
    euro = make_client(workspace, currency="EUR")
    dollar = make_client(workspace, currency="USD")
    today = dt.date(2026, 3, 11)
    counted = _issued(workspace, user, euro, "100.00", dt.date(2026, 3, 11))
    _issued(workspace, user, euro, "40.00", dt.date(2026, 3, 12))  # tomorrow
    _issued(workspace, user, euro, "7.00", dt.date(2026, 4, 1))  # next month
    _issued(workspace, user, dollar, "5.00", dt.date(2026, 3, 31))  # USD: only later
    for amount, day in (("30.00", dt.date(2026, 3, 11)), ("20.00", dt.date(2026, 3, 31))):
        invoicing.payment_record(
            invoice=counted, user=user, amount=Decimal(amount), date=day, method="cash"
        )

    rows = dashboard_revenue(workspace=workspace, today=today)

    assert [row.currency for row in rows] == ["EUR"]
    (eur,) = rows
    assert (eur.invoiced_this_month, eur.paid_this_month) == (Decimal("100.00"), Decimal("30.00"))
    assert (eur.invoiced_this_year, eur.paid_this_year) == (Decimal("100.00"), Decimal("30.00"))
    # On the last day of the month everything of March counts.
    rows = dashboard_revenue(workspace=workspace, today=dt.date(2026, 3, 31))
    assert {row.currency: (row.invoiced_this_month, row.paid_this_month) for row in rows} == {
        "EUR": (Decimal("140.00"), Decimal("50.00")),
        "USD": (Decimal("5.00"), Decimal("0")),
    }


def test_a_voided_invoice_leaves_no_currency_behind(owner):
    workspace, user = owner.workspace, owner.user
    invoice = _issued(
        workspace, user, make_client(workspace, currency="USD"), "5.00", dt.date(2026, 3, 2)
    )
    invoicing.invoice_void(invoice=invoice, user=user)

    assert dashboard_revenue(workspace=workspace, today=dt.date(2026, 3, 11)) == []
