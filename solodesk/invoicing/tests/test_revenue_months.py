"""The monthly revenue totals (RevenueMonth, decision 0006) always equal the aggregate over
the raw invoices, credit notes and payments, after any sequence of issues, voids, credit
notes (and their voids), payments and payment deletions; and a rebuild gives the same rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solodesk.core.exceptions import ApplicationError
from solodesk.invoicing import services
from solodesk.invoicing.models import Invoice, Payment, RevenueMonth
from solodesk.invoicing.tests.factories import line, make_client

# Around a month's and a year's end, so documents and payments land in several months.
BASE = dt.date(2026, 12, 20)
DAYS = 30
BILLED = {"issued", "partially_paid", "paid"}

Key = tuple[int, str, dt.date]


def expected_rows(workspace) -> dict[Key, tuple[Decimal, Decimal, int]]:
    """The raw aggregate, written plainly in Python: issued, partially paid and paid
    documents by issue month (credit notes negative), payments by payment month."""
    totals: dict[Key, list] = defaultdict(lambda: [Decimal("0.00"), Decimal("0.00"), 0])
    for invoice in Invoice.objects.filter(workspace=workspace, status__in=BILLED):
        row = totals[invoice.client_id, invoice.currency, invoice.issue_date.replace(day=1)]
        row[0] += -invoice.total if invoice.kind == Invoice.Kind.CREDIT_NOTE else invoice.total
        row[2] += 1
    for payment in Payment.objects.filter(invoice__workspace=workspace).select_related("invoice"):
        invoice = payment.invoice
        row = totals[invoice.client_id, invoice.currency, payment.date.replace(day=1)]
        row[1] += payment.amount
        row[2] += 1
    return {key: (value[0], value[1], value[2]) for key, value in totals.items()}


def stored_rows(workspace) -> dict[Key, tuple[Decimal, Decimal, int]]:
    return {
        (row.client_id, row.currency, row.month): (row.invoiced, row.paid, row.documents)
        for row in RevenueMonth.objects.filter(workspace=workspace)
        if (row.invoiced, row.paid, row.documents) != (0, 0, 0)
    }


operation = st.one_of(
    st.tuples(
        st.just("issue"),
        st.integers(0, 2),  # client (EUR, EUR, JPY)
        st.integers(1, 99_999),  # price in cents (yen for JPY)
        st.integers(0, DAYS),  # issue date, days after BASE
        st.booleans(),  # two lines (to credit one of them)
    ),
    st.tuples(st.just("draft"), st.integers(0, 2)),
    st.tuples(st.just("void"), st.integers(0, 30)),  # invoices and credit notes alike
    st.tuples(st.just("credit"), st.integers(0, 30), st.booleans(), st.integers(0, DAYS)),
    st.tuples(st.just("pay"), st.integers(0, 30), st.integers(1, 100), st.integers(0, DAYS)),
    st.tuples(st.just("unpay"), st.integers(0, 30)),
)


def _pick(rows: list, which: int):
    return rows[which % len(rows)] if rows else None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=12))
def test_monthly_revenue_equals_the_documents_after_any_sequence_of_writes(owner, operations):
    workspace, user = owner.workspace, owner.user
    clients = [
        make_client(workspace, currency="EUR"),
        make_client(workspace, currency="EUR"),
        make_client(workspace, currency="JPY"),
    ]
    for op in operations:
        kind = op[0]
        documents = list(
            Invoice.objects.filter(workspace=workspace).exclude(status="draft").order_by("pk")
        )
        invoices = [document for document in documents if document.kind == Invoice.Kind.INVOICE]
        try:
            if kind == "issue":
                _, which, cents, days, two = op
                client = clients[which]
                price = Decimal(cents) if client.currency == "JPY" else Decimal(cents) / 100
                lines = [line(unit_price=str(price), tax_rate="21")]
                if two:
                    lines.append(line(description="Hosting", unit_price="10", tax_rate="0"))
                draft = services.invoice_create_draft(
                    workspace=workspace, user=user, client=client, lines=lines
                )
                services.invoice_issue(
                    invoice=draft, user=user, issue_date=BASE + dt.timedelta(days=days)
                )
            elif kind == "draft":
                services.invoice_create_draft(
                    workspace=workspace, user=user, client=clients[op[1]], lines=[line()]
                )
            elif kind == "void" and documents:
                services.invoice_void(invoice=_pick(documents, op[1]), user=user)
            elif kind == "credit" and invoices:
                _, which, one_line, days = op
                invoice = _pick(invoices, which)
                first = invoice.lines.order_by("position", "pk").first()
                chosen = [first.public_id] if one_line and first else None
                # A credit note is dated the day it is made.
                with time_machine.travel(
                    dt.datetime.combine(BASE + dt.timedelta(days=days), dt.time(12), dt.UTC),
                    tick=False,
                ):
                    services.credit_note_create(invoice=invoice, user=user, line_public_ids=chosen)
            elif kind == "pay" and invoices:
                _, which, percent, days = op
                invoice = _pick(invoices, which)
                places = 0 if invoice.currency == "JPY" else 2
                amount = (invoice.amount_due * percent / 100).quantize(Decimal(1).scaleb(-places))
                services.payment_record(
                    invoice=invoice,
                    user=user,
                    amount=max(amount, Decimal(1).scaleb(-places)),
                    date=BASE + dt.timedelta(days=days),
                    method="bank_transfer",
                )
            elif kind == "unpay":
                payments = list(
                    Payment.objects.filter(invoice__workspace=workspace)
                    .select_related("invoice")
                    .order_by("pk")
                )
                payment = _pick(payments, op[1])
                if payment is not None:
                    services.payment_delete(payment=payment, user=user)
        except ApplicationError:
            pass  # refused (already void, overpaid, has payments…): nothing changed
        assert stored_rows(workspace) == expected_rows(workspace), op
    # A rebuild, of the workspace or of every workspace, gives the same rows.
    before = stored_rows(workspace)
    services.revenue_months_rebuild(workspace=workspace)
    assert stored_rows(workspace) == before
    services.revenue_months_rebuild()
    assert stored_rows(workspace) == before


def test_an_invoice_counts_in_its_issue_month_and_payments_in_theirs(owner):
    workspace, user = owner.workspace, owner.user
    client = make_client(workspace, currency="EUR")
    draft = services.invoice_create_draft(
        workspace=workspace, user=user, client=client, lines=[line(unit_price="100.00")]
    )
    invoice = services.invoice_issue(invoice=draft, user=user, issue_date=dt.date(2026, 1, 30))
    services.payment_record(
        invoice=invoice,
        user=user,
        amount=Decimal("21.00"),
        date=dt.date(2026, 2, 3),
        method="bank_transfer",
    )
    services.payment_record(
        invoice=invoice,
        user=user,
        amount=Decimal("0.10"),
        date=dt.date(2026, 2, 28),
        method="bank_transfer",
    )

    rows = {
        row.month: (row.invoiced, row.paid, row.documents)
        for row in RevenueMonth.objects.filter(workspace=workspace, client=client)
    }

    assert rows == {
        dt.date(2026, 1, 1): (Decimal("121.00"), Decimal("0.00"), 1),
        dt.date(2026, 2, 1): (Decimal("0.00"), Decimal("21.10"), 2),
    }


def test_a_stranger_s_documents_are_never_in_the_workspace_s_rows(owner, stranger):
    for persona in (owner, stranger):
        draft = services.invoice_create_draft(
            workspace=persona.workspace,
            user=persona.user,
            client=make_client(persona.workspace, currency="EUR"),
            lines=[line(unit_price="10.00", tax_rate="0")],
        )
        services.invoice_issue(invoice=draft, user=persona.user, issue_date=dt.date(2026, 3, 2))

    services.revenue_months_rebuild(workspace=owner.workspace)

    assert [
        (row.invoiced, row.documents)
        for row in RevenueMonth.objects.filter(workspace=stranger.workspace)
    ] == [(Decimal("10.00"), 1)]
    assert [
        (row.invoiced, row.documents)
        for row in RevenueMonth.objects.filter(workspace=owner.workspace)
    ] == [(Decimal("10.00"), 1)]
