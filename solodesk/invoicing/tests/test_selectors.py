"""Invoice reads: filters, derived overdue, receivables and unbilled time, with query
counts that stay the same at 3 and 50 rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.http import Http404

from solodesk.invoicing import selectors, services
from solodesk.invoicing.tests.factories import (
    line,
    make_client,
    make_draft,
    make_entry,
    make_issued,
    make_project,
)
from solodesk.projects.models import Project

D = Decimal
pytestmark = pytest.mark.django_db
TODAY = dt.datetime(2026, 4, 15, 10, tzinfo=dt.UTC)


def _pay(invoice, user, amount, day=dt.date(2026, 3, 20)):
    return services.payment_record(
        invoice=invoice, user=user, amount=D(amount), date=day, method="bank_transfer"
    )


@pytest.fixture
def book(owner, stranger):
    """EUR: one paid, one partially paid and overdue, one issued not yet due, one due today,
    one draft, one void, one credit note; USD: one overdue. Clients pay in 30 days."""
    workspace, user = owner.workspace, owner.user
    eur = make_client(workspace, name="Euro Client", currency="EUR", payment_terms_days=30)
    usd = make_client(workspace, name="Dollar Client", currency="USD", payment_terms_days=30)

    def issued(client, issue_date, **kwargs):
        return make_issued(
            workspace=workspace, user=user, client=client, issue_date=issue_date, **kwargs
        )

    book = {
        "paid": issued(eur, dt.date(2026, 3, 1)),  # 121.00
        "partial": issued(eur, dt.date(2026, 3, 2)),  # due 1 April
        "not_due": issued(eur, dt.date(2026, 4, 10), lines=[line(unit_price="50.00")]),
        "due_today": issued(eur, dt.date(2026, 3, 16)),  # due 15 April: not overdue yet
        "void": issued(eur, dt.date(2026, 3, 3)),
        "usd": issued(usd, dt.date(2026, 2, 1), lines=[line(unit_price="10.00", tax_rate="0")]),
        "draft": make_draft(workspace=workspace, user=user, client=eur),
    }
    _pay(book["paid"], user, "121.00")
    _pay(book["partial"], user, "21.00")
    services.invoice_void(invoice=book["void"], user=user)
    with time_machine.travel(dt.datetime(2026, 3, 25, 12, tzinfo=dt.UTC), tick=False):
        book["credit_note"] = services.credit_note_create(invoice=book["paid"], user=user)
    # Noise from another workspace.
    make_issued(
        workspace=stranger.workspace,
        user=stranger.user,
        client=make_client(stranger.workspace, currency="EUR"),
        issue_date=dt.date(2026, 1, 1),
    )
    for invoice in book.values():
        invoice.refresh_from_db()
    return book


@time_machine.travel(TODAY, tick=False)
def test_receivables_per_currency_are_exact(owner, book):
    assert selectors.invoice_receivables(workspace=owner.workspace) == [
        {
            "currency": "EUR",
            # partial 100.00 + not_due 60.50 + due_today 121.00
            "outstanding": D("281.50"),
            "overdue": D("100.00"),
            "invoice_count": 3,
            "overdue_count": 1,
        },
        {
            "currency": "USD",
            "outstanding": D("10.00"),
            "overdue": D("10.00"),
            "invoice_count": 1,
            "overdue_count": 1,
        },
    ]


@time_machine.travel(TODAY, tick=False)
def test_receivables_take_one_query(owner, book, django_assert_num_queries):
    with django_assert_num_queries(1):  # one GROUP BY currency over open invoices
        selectors.invoice_receivables(workspace=owner.workspace)


def test_receivables_are_empty_without_open_invoices(owner):
    assert selectors.invoice_receivables(workspace=owner.workspace) == []


@time_machine.travel(TODAY, tick=False)
def test_overdue_is_derived_from_the_due_date(owner, book):
    overdue = selectors.invoice_list(workspace=owner.workspace, status="overdue")
    assert list(overdue) == [book["partial"], book["usd"]]
    assert [invoice.is_overdue for invoice in overdue] == [True, True]
    assert book["due_today"].is_overdue is False
    with time_machine.travel(dt.datetime(2026, 4, 16, 10, tzinfo=dt.UTC), tick=False):
        overdue = selectors.invoice_list(workspace=owner.workspace, status="overdue")
        assert list(overdue) == [book["due_today"], book["partial"], book["usd"]]


@time_machine.travel(TODAY, tick=False)
def test_list_filters_and_order(owner, book):
    workspace = owner.workspace
    every = list(selectors.invoice_list(workspace=workspace))
    # Drafts first, then by issue date, newest first; credit notes are listed apart.
    assert every == [
        book["draft"],
        book["not_due"],
        book["due_today"],
        book["void"],
        book["partial"],
        book["paid"],
        book["usd"],
    ]
    assert list(selectors.invoice_list(workspace=workspace, status="paid")) == [book["paid"]]
    assert list(selectors.invoice_list(workspace=workspace, status="draft")) == [book["draft"]]
    assert list(selectors.invoice_list(workspace=workspace, kind="credit_note")) == [
        book["credit_note"]
    ]
    assert len(selectors.invoice_list(workspace=workspace, kind=None)) == 8
    assert list(
        selectors.invoice_list(workspace=workspace, client_public_id=book["usd"].client.public_id)
    ) == [book["usd"]]
    assert list(
        selectors.invoice_list(
            workspace=workspace, date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 16)
        )
    ) == [book["due_today"], book["void"], book["partial"]]


def _invoices(owner, count: int) -> None:
    for index in range(count):
        client = make_client(owner.workspace)
        invoice = make_draft(workspace=owner.workspace, user=owner.user, client=client)
        if index % 2:
            services.invoice_issue(invoice=invoice, user=owner.user, issue_date=dt.date(2026, 3, 2))


@pytest.mark.parametrize("count", [3, 50])
def test_invoice_list_takes_one_query_whatever_the_number(
    owner, count, django_assert_num_queries, zeal
):
    _invoices(owner, count)
    with zeal(), django_assert_num_queries(1):  # invoices joined with their client
        invoices = list(selectors.invoice_list(workspace=owner.workspace))
        names = [invoice.client.name for invoice in invoices]
    assert len(names) == count


def _full_invoice(owner, count: int):
    """An invoice with `count` lines, `count` payments and as many credit notes as lines
    (one line each), and so about 2 × count activity rows."""
    lines = [line(f"Line {n}", unit_price="100.00", tax_rate="0") for n in range(count)]
    invoice = make_issued(workspace=owner.workspace, user=owner.user, lines=lines)
    for _ in range(count):
        _pay(invoice, owner.user, "1.00")
    for invoice_line in invoice.lines.all():
        services.credit_note_create(
            invoice=invoice, user=owner.user, line_public_ids=[invoice_line.public_id]
        )
    return invoice


@pytest.mark.parametrize("count", [3, 50])
def test_invoice_get_takes_five_queries_whatever_the_number(
    owner, count, django_assert_num_queries, zeal
):
    invoice = _full_invoice(owner, count)
    with zeal(), django_assert_num_queries(5):
        # 1. the invoice joined with its client and credited invoice
        # 2. lines joined with their project
        # 3. the latest 21 payments joined with who recorded them
        # 4. the latest 21 activity entries joined with the actor
        # 5. credit notes
        found = selectors.invoice_get(workspace=owner.workspace, public_id=invoice.public_id)
        lines = [(li.description, li.project and li.project.name) for li in found.lines.all()]
        recent_payments, more_payments = selectors.invoice_recent_payments(found)
        recent_activity, more_activity = selectors.invoice_recent_activity(found)
        payments = [(p.amount, p.recorded_by.email) for p in recent_payments]
        activity = [(a.action, a.actor.email) for a in recent_activity]
        notes = [note.number for note in found.credit_notes.all()]
        client_name = found.client.name
        credited = found.credited_invoice
    assert len(lines) == count
    # At most the latest 20 payments and events (created, issued, payments, credited).
    assert (len(payments), more_payments) == (min(count, 20), count > 20)
    assert (len(activity), more_activity) == (min(2 + 2 * count, 20), 2 + 2 * count > 20)
    assert activity[-1][0] == "credited"
    assert len(notes) == count
    assert client_name
    assert credited is None


def test_invoice_get_keeps_the_latest_twenty_payments_oldest_first_and_lists_all(owner):
    invoice = make_issued(
        workspace=owner.workspace,
        user=owner.user,
        lines=[line("Work", unit_price="100.00", tax_rate="0")],
    )
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=n % 7) for n in range(25)]
    for day in days:
        services.payment_record(
            invoice=invoice, user=owner.user, amount=Decimal("1.00"), date=day, method="cash"
        )

    found = selectors.invoice_get(workspace=owner.workspace, public_id=invoice.public_id)
    recent, more = selectors.invoice_recent_payments(found)
    everything = list(selectors.invoice_payment_list(invoice=invoice))
    activity = list(selectors.invoice_activity_list(invoice=invoice))

    assert more is True
    assert len(everything) == 25
    assert [(p.date, p.pk) for p in everything] == sorted((p.date, p.pk) for p in everything)
    assert recent == everything[-20:]
    assert [a.action for a in activity[:2]] == ["created", "issued"]
    assert len(activity) == 27


def test_invoice_get_returns_credit_notes_too(owner):
    invoice = make_issued(workspace=owner.workspace, user=owner.user)
    note = services.credit_note_create(invoice=invoice, user=owner.user)
    found = selectors.invoice_get(workspace=owner.workspace, public_id=note.public_id)
    assert found.kind == "credit_note"
    assert found.credited_invoice == invoice


def test_another_workspaces_invoice_and_payment_are_404(owner, stranger):
    theirs = make_issued(workspace=stranger.workspace, user=stranger.user)
    payment = _pay(theirs, stranger.user, "1.00")
    with pytest.raises(Http404):
        selectors.invoice_get(workspace=owner.workspace, public_id=theirs.public_id)
    with pytest.raises(Http404):
        selectors.payment_get(workspace=owner.workspace, public_id=payment.public_id)
    assert selectors.payment_get(workspace=stranger.workspace, public_id=payment.public_id) == (
        payment
    )
    assert list(selectors.invoice_list(workspace=owner.workspace)) == []


def test_unbilled_time_by_client_is_exact_in_one_query(owner, stranger, django_assert_num_queries):
    workspace, user = owner.workspace, owner.user
    tz = workspace.tzinfo
    acme = make_client(workspace, name="Acme")
    beta = make_client(workspace, name="Beta")
    make_client(workspace, name="Idle")  # no time: not listed
    acme_hourly = make_project(acme)
    acme_fixed = make_project(
        acme, billing_method=Project.BillingMethod.FIXED, fixed_fee=D("500.00")
    )
    acme_internal = make_project(acme, billing_method=Project.BillingMethod.NON_BILLABLE)
    beta_project = make_project(beta)
    # Acme: 23:30 on 1 March in Brussels is the first day (22:30 UTC).
    make_entry(
        project=acme_hourly, user=user, start=dt.datetime(2026, 3, 1, 23, 30, tzinfo=tz), minutes=30
    )
    make_entry(
        project=acme_fixed, user=user, start=dt.datetime(2026, 3, 4, 9, tzinfo=tz), minutes=60
    )
    make_entry(  # not billable
        project=acme_hourly,
        user=user,
        start=dt.datetime(2026, 2, 1, 9, tzinfo=tz),
        minutes=60,
        is_billable=False,
    )
    make_entry(  # on a non-billable project
        project=acme_internal, user=user, start=dt.datetime(2026, 2, 1, 9, tzinfo=tz), minutes=60
    )
    # Beta: one entry reserved by a draft, one free.
    reserved = make_entry(
        project=beta_project, user=user, start=dt.datetime(2026, 1, 5, 9, tzinfo=tz), minutes=15
    )
    services.invoice_create_from_time(
        workspace=workspace, user=user, client=beta, date_from=None, date_to=dt.date(2026, 1, 31)
    )
    reserved.refresh_from_db()
    assert reserved.invoice_line is not None
    make_entry(
        project=beta_project, user=user, start=dt.datetime(2026, 3, 10, 9, tzinfo=tz), minutes=45
    )
    # Stranger's time is never counted.
    make_entry(
        project=make_project(make_client(stranger.workspace, name="Aaa")),
        user=stranger.user,
        start=dt.datetime(2026, 3, 1, 9, tzinfo=tz),
        minutes=60,
    )

    with django_assert_num_queries(1):  # clients with their unbilled entries aggregated
        rows = selectors.unbilled_time_by_client(workspace=workspace)
        summary = [
            (row["client"].name, row["entry_count"], row["seconds"], row["first_date"])
            for row in rows
        ]
    assert summary == [
        ("Acme", 2, 5400, dt.date(2026, 3, 1)),
        ("Beta", 1, 2700, dt.date(2026, 3, 10)),
    ]
