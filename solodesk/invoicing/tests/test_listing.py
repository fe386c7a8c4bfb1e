"""The invoice list's rows built in Python (`invoicing.listing`) are the HTML the template
loop they replaced rendered, for every kind of row."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import timezone

from solodesk.invoicing.listing import invoice_rows_html
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.selectors import (
    InvoiceListRow,
    invoice_list,
    invoice_list_prepared,
    invoice_list_rows,
)
from solodesk.invoicing.templatetags.money import money
from solodesk.invoicing.views import TAB_FILTERS, TABS
from solodesk.tests.factories import ClientFactory, WorkspaceFactory

# The loop of invoicing/invoice_list.html before the rows moved to Python.
TEMPLATE_ROWS = Template(
    """{% load money %}{% for invoice in invoices %}
      <tr>
        <td><a href="{{ list_url }}{{ invoice.public_id }}/">{{ invoice.number|default:"Draft" }}</a></td>
        <td>{{ invoice.client.name }}</td>
        <td class="hide-sm">{{ invoice.issue_date|date:"j M Y"|default:"—" }}</td>
        <td class="hide-sm">{{ invoice.due_date|date:"j M Y"|default:"—" }}</td>
        <td class="num">{{ invoice.total|money:invoice.currency }}</td>
        <td class="num">{{ invoice.amount_due|money:invoice.currency }}</td>
        <td>{% if invoice.status == "paid" %}<span class="badge ok">paid</span>{% elif invoice.status == "draft" or invoice.status == "void" %}<span class="badge">{{ invoice.status }}</span>{% else %}<span class="badge">{{ invoice.get_status_display|lower }}</span>{% if invoice.is_overdue %} <span class="badge warn">overdue</span>{% endif %}{% endif %}{% if invoice.kind == "credit_note" %} <span class="badge">credit note</span>{% endif %}</td>
      </tr>
    {% endfor %}"""
)


def _invoice(client, number, **fields):
    defaults = {
        "workspace": client.workspace,
        "client": client,
        "currency": "EUR",
        "status": Invoice.Status.ISSUED,
        "number": number,
        "total": Decimal("100.00"),
    }
    defaults.update(fields)
    return Invoice.objects.create(**defaults)


def test_the_rows_are_the_templates_html(owner):
    today = timezone.localdate()
    client = ClientFactory(workspace=owner.workspace, name='Smith & "Sons" <Ltd>')
    jpy = ClientFactory(workspace=owner.workspace, name="Tōkyō KK", currency="JPY")
    _invoice(client, None, status=Invoice.Status.DRAFT)
    _invoice(client, "2026-0001", issue_date=today, due_date=today + dt.timedelta(days=14))
    _invoice(
        client,
        "2026-0002",
        issue_date=today - dt.timedelta(days=40),
        due_date=today - dt.timedelta(days=9),
        amount_paid=Decimal("40.00"),
        status=Invoice.Status.PARTIALLY_PAID,
    )
    _invoice(
        client,
        "2026-0003",
        issue_date=today - dt.timedelta(days=40),
        due_date=today - dt.timedelta(days=1),
        amount_paid=Decimal("100.00"),
        status=Invoice.Status.PAID,
    )
    _invoice(client, "2026-0004", issue_date=today, status=Invoice.Status.VOID)
    _invoice(
        client,
        "2026-0005",
        issue_date=today - dt.timedelta(days=30),
        due_date=today - dt.timedelta(days=2),
        amount_credited=Decimal("100.00"),
    )
    _invoice(jpy, "<b>2026-0006</b>", currency="JPY", total=Decimal("12345"), issue_date=today)
    _invoice(
        client,
        "CN-0001",
        kind=Invoice.Kind.CREDIT_NOTE,
        issue_date=today - dt.timedelta(days=3),
        total=Decimal("50.00"),
    )
    invoices = list(invoice_list(workspace=owner.workspace, kind=None))
    rows = [
        InvoiceListRow._make(row) for row in invoice_list_rows(workspace=owner.workspace, kind=None)
    ]
    assert len(invoices) == 8
    assert [row.public_id for row in rows] == [invoice.public_id for invoice in invoices]

    built = invoice_rows_html(rows, list_url="/invoices/")
    rendered = TEMPLATE_ROWS.render(Context({"invoices": invoices, "list_url": "/invoices/"}))

    assert parse_html(built) == parse_html(rendered)
    assert "overdue" in built and "&lt;b&gt;2026-0006" in built and "Smith &amp; &quot;" in built


def test_the_list_page_shows_the_rows(owner, client):
    today = timezone.localdate()
    acme = ClientFactory(workspace=owner.workspace, name="Acme Ltd")
    invoice = _invoice(acme, "2026-0042", issue_date=today, due_date=today - dt.timedelta(days=5))
    client.force_login(owner.user)

    page = client.get("/invoices/").content.decode()

    assert f'href="/invoices/{invoice.public_id}/">2026-0042</a>' in page
    assert '<span class="badge warn">overdue</span>' in page


def _rows_of_every_kind(workspace):
    today = timezone.localdate()
    eur = ClientFactory(workspace=workspace, name="Acme Ltd")
    jpy = ClientFactory(workspace=workspace, name="Tōkyō KK", currency="JPY")
    late = {"issue_date": today - dt.timedelta(days=40), "due_date": today - dt.timedelta(days=9)}
    _invoice(eur, None, status=Invoice.Status.DRAFT)
    _invoice(eur, "A-1", **late)
    _invoice(eur, "A-2", **late, amount_paid=Decimal("40.00"), status="partially_paid")
    _invoice(eur, "A-3", **late, amount_paid=Decimal("100.00"), status=Invoice.Status.PAID)
    _invoice(eur, "A-4", **late, amount_paid=Decimal("30.00"), status=Invoice.Status.VOID)
    _invoice(eur, "A-5", **late, amount_credited=Decimal("100.00"))
    _invoice(eur, "A-6", issue_date=today, due_date=today)
    _invoice(jpy, "A-7", currency="JPY", total=Decimal("12345"), **late)
    _invoice(eur, "CN-1", kind=Invoice.Kind.CREDIT_NOTE, issue_date=today, total=Decimal("50.00"))


def test_a_rows_amount_due_and_overdue_are_the_invoices(owner):
    _rows_of_every_kind(owner.workspace)

    invoices = list(invoice_list(workspace=owner.workspace, kind=None))
    rows = [
        InvoiceListRow._make(row) for row in invoice_list_rows(workspace=owner.workspace, kind=None)
    ]

    assert [(row.amount_due, row.is_overdue) for row in rows] == [
        (invoice.amount_due, invoice.is_overdue) for invoice in invoices
    ]
    assert [row.is_overdue for row in rows].count(True) == 3
    assert [money(row.amount_due, row.currency) for row in rows if row.number == "A-7"] == [
        "12,345 JPY"
    ]


@pytest.mark.parametrize("tab", [key for key, _label, _filters in TABS])
def test_the_prepared_first_page_and_count_are_the_orms(owner, stranger, tab):
    _rows_of_every_kind(owner.workspace)
    _rows_of_every_kind(stranger.workspace)
    filters = TAB_FILTERS[tab]
    rows = invoice_list_rows(workspace=owner.workspace, **filters)
    first = invoice_list_prepared("first", **filters)
    count = invoice_list_prepared("count", **filters)

    first_counted = invoice_list_prepared("first_counted", **filters)

    if tab == "overdue":  # today's date is in its SQL: the ORM's queries
        assert (first, count, first_counted) == (None, None, None)
        return
    assert first_counted is not None
    for limit, count_limit in ((1, 2), (3, 4), (50, 1001)):
        total = min(count_limit, rows.count())
        assert first_counted.rows(
            workspace_id=owner.workspace.pk, limit=limit, count_limit=count_limit
        ) == [(*row, total) for row in rows[:limit]]
    empty = WorkspaceFactory()
    assert first_counted.rows(workspace_id=empty.pk, limit=50, count_limit=1001) == []
    assert first is not None and count is not None
    assert rows.count() > 0  # every other tab has rows here
    for limit in (1, 3, 50):
        assert first.rows(workspace_id=owner.workspace.pk, limit=limit) == list(rows[:limit])
        assert count.count(workspace_id=owner.workspace.pk, limit=limit) == min(limit, rows.count())
