"""Drafts, issue, void, credit notes and payments, through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solodesk.core.exceptions import ApplicationError
from solodesk.invoicing import services
from solodesk.invoicing.calculation import LineInput, compute_totals
from solodesk.invoicing.models import Invoice, InvoiceActivity, InvoiceLine, Payment
from solodesk.invoicing.tests.factories import (
    line,
    make_client,
    make_draft,
    make_entry,
    make_issued,
    make_project,
)
from solodesk.tests.factories import WorkspaceFactory
from solodesk.timetracking.models import TimeEntry

D = Decimal
pytestmark = pytest.mark.django_db


def _actions(invoice: Invoice) -> list[str]:
    return list(invoice.activities.order_by("created_at", "pk").values_list("action", flat=True))


# --- drafts ----------------------------------------------------------------------------------


def test_create_draft_stores_line_and_invoice_totals(owner):
    client = make_client(owner.workspace, currency="USD")
    invoice = services.invoice_create_draft(
        workspace=owner.workspace,
        user=owner.user,
        client=client,
        lines=[
            line("Design", quantity="2.5", unit_price="80.00", tax_rate="19"),
            line("Hosting", quantity="3", unit_price="33.33", tax_rate="7", unit="pieces"),
        ],
        discount_type="percent",
        discount_value=D("10"),
        notes="Thanks!",
    )
    invoice.refresh_from_db()
    assert invoice.status == "draft"
    assert invoice.number is None
    assert invoice.currency == "USD"
    assert [(li.description, li.position, li.total) for li in invoice.lines.all()] == [
        ("Design", 0, D("200.00")),
        ("Hosting", 1, D("99.99")),
    ]
    # 299.99 − 30.00 (10 %, 29.999 → 30.00); 19 %: 200 − 20.00 = 180.00 → 34.20;
    # 7 %: 99.99 − 10.00 = 89.99 → 6.30.
    assert invoice.subtotal == D("299.99")
    assert invoice.discount_amount == D("30.00")
    assert invoice.tax_total == D("40.50")
    assert invoice.total == D("310.49")
    assert invoice.notes == "Thanks!"
    assert _actions(invoice) == ["created"]
    assert invoice.activities.get().actor == owner.user


def test_create_draft_for_another_workspaces_client_is_refused_and_creates_nothing(owner, stranger):
    their_client = make_client(stranger.workspace)
    with pytest.raises(ApplicationError) as error:
        services.invoice_create_draft(
            workspace=owner.workspace, user=owner.user, client=their_client, lines=[line()]
        )
    assert error.value.errors == {"client_id": ["Client not found."]}
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"description": ""}, "lines"),
        ({"quantity": D("-1")}, "lines"),
        ({"quantity": D("1.0001")}, "lines"),
        ({"unit": "litres"}, "lines"),
        ({"unit_price": D("-5")}, "lines"),
        ({"unit_price": D("1.005")}, "lines"),
        ({"tax_rate": D("101")}, "lines"),
        ({"unit_price": "abc"}, "lines"),
    ],
)
def test_create_draft_rejects_a_bad_line(owner, bad, field):
    with pytest.raises(ApplicationError) as error:
        make_draft(workspace=owner.workspace, user=owner.user, lines=[{**line(), **bad}])
    assert list(error.value.errors) == [field]
    assert error.value.errors[field][0].startswith("Line 1: ")
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"discount_type": "percent", "discount_value": D("120")}, "discount_value"),
        ({"discount_type": "amount", "discount_value": D("-1")}, "discount_value"),
        ({"discount_type": "bogus"}, "discount_type"),
        ({"issue_date": dt.date(2026, 3, 10), "due_date": dt.date(2026, 3, 1)}, "due_date"),
    ],
)
def test_create_draft_rejects_bad_fields(owner, fields, field):
    with pytest.raises(ApplicationError) as error:
        make_draft(workspace=owner.workspace, user=owner.user, **fields)
    assert list(error.value.errors) == [field]
    assert Invoice.objects.count() == 0


def test_update_draft_changes_fields_and_recomputes_totals(owner):
    invoice = make_draft(workspace=owner.workspace, user=owner.user)  # 100.00 + 21 %
    updated = services.invoice_update_draft(
        invoice=invoice,
        user=owner.user,
        discount_type="amount",
        discount_value=D("10.00"),
        notes="Updated",
        due_date=dt.date(2026, 4, 1),
    )
    assert updated.total == D("108.90")  # 90.00 + 18.90
    invoice.refresh_from_db()
    assert (invoice.discount_amount, invoice.tax_total, invoice.total) == (
        D("10.00"),
        D("18.90"),
        D("108.90"),
    )
    assert invoice.notes == "Updated"
    assert invoice.due_date == dt.date(2026, 4, 1)
    assert _actions(invoice) == ["created", "updated"]


def test_update_draft_replaces_lines_keeping_the_ones_named_by_id(owner):
    invoice = make_draft(
        workspace=owner.workspace,
        user=owner.user,
        lines=[line("Keep", unit_price="10.00"), line("Drop", unit_price="20.00")],
    )
    keep, drop = invoice.lines.all()
    services.invoice_update_draft(
        invoice=invoice,
        user=owner.user,
        lines=[
            line("New", unit_price="5.00", tax_rate="0"),
            line("Kept, renamed", unit_price="12.00", tax_rate="0", public_id=keep.public_id),
        ],
    )
    lines = list(invoice.lines.all())
    assert [(li.description, li.unit_price, li.total) for li in lines] == [
        ("New", D("5.00"), D("5.00")),
        ("Kept, renamed", D("12.00"), D("12.00")),
    ]
    assert lines[1].pk == keep.pk
    assert not InvoiceLine.objects.filter(pk=drop.pk).exists()
    invoice.refresh_from_db()
    assert invoice.total == D("17.00")


def test_update_draft_releases_the_entries_of_removed_lines(owner):
    client = make_client(owner.workspace)
    project = make_project(client, hourly_rate=D("100.00"))
    entry = make_entry(
        project=project,
        user=owner.user,
        start=dt.datetime(2026, 3, 2, 9, tzinfo=owner.workspace.tzinfo),
        minutes=60,
    )
    invoice = services.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=client, date_from=None, date_to=None
    )
    entry.refresh_from_db()
    assert entry.invoice_line is not None
    services.invoice_update_draft(invoice=invoice, user=owner.user, lines=[line("Other")])
    entry.refresh_from_db()
    assert entry.invoice_line is None
    assert entry.invoiced_at is None


def test_update_draft_refuses_a_line_id_from_another_invoice(owner):
    other = make_draft(workspace=owner.workspace, user=owner.user)
    invoice = make_draft(workspace=owner.workspace, user=owner.user)
    with pytest.raises(ApplicationError) as error:
        services.invoice_update_draft(
            invoice=invoice,
            user=owner.user,
            lines=[line(public_id=other.lines.get().public_id)],
        )
    assert list(error.value.errors) == ["lines"]
    assert other.lines.count() == 1
    assert invoice.lines.count() == 1


def test_an_issued_invoice_cannot_be_updated_or_deleted(owner):
    invoice = make_issued(workspace=owner.workspace, user=owner.user)
    with pytest.raises(ApplicationError) as error:
        services.invoice_update_draft(invoice=invoice, user=owner.user, notes="Sneaky")
    assert (
        error.value.message == "An issued invoice cannot be changed; issue a credit note instead."
    )
    with pytest.raises(ApplicationError) as error:
        services.invoice_update_draft(invoice=invoice, user=owner.user, lines=[line()])
    with pytest.raises(ApplicationError):
        services.invoice_delete_draft(invoice=invoice, user=owner.user)
    invoice.refresh_from_db()
    assert invoice.notes == ""
    assert invoice.status == "issued"
    assert invoice.lines.count() == 1


def test_delete_draft_deletes_it_and_releases_its_entries(owner):
    client = make_client(owner.workspace)
    project = make_project(client)
    entry = make_entry(
        project=project,
        user=owner.user,
        start=dt.datetime(2026, 3, 2, 9, tzinfo=owner.workspace.tzinfo),
        minutes=30,
    )
    invoice = services.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=client, date_from=None, date_to=None
    )
    services.invoice_delete_draft(invoice=invoice, user=owner.user)
    assert not Invoice.objects.exists()
    assert not InvoiceLine.objects.exists()
    entry.refresh_from_db()
    assert entry.invoice_line is None


# --- issue -----------------------------------------------------------------------------------


def test_issue_numbers_snapshots_and_dates_the_invoice(owner):
    workspace = owner.workspace
    workspace.payment_details = "IBAN BE00 0000 0000 0000"
    workspace.save()
    client = make_client(
        workspace, name="Acme", address="2 Side St", tax_id="FR123", payment_terms_days=14
    )
    invoice = make_draft(workspace=workspace, user=owner.user, client=client)
    issued = services.invoice_issue(
        invoice=invoice, user=owner.user, issue_date=dt.date(2026, 3, 2)
    )
    assert issued.pk == invoice.pk
    invoice.refresh_from_db()
    assert invoice.status == "issued"
    assert invoice.number == "2026-0001"
    assert (invoice.number_year, invoice.number_sequence) == (2026, 1)
    assert invoice.issue_date == dt.date(2026, 3, 2)
    assert invoice.due_date == dt.date(2026, 3, 16)  # the client's 14 days
    assert invoice.issued_at is not None
    assert invoice.seller == {
        "name": workspace.name,
        "address": workspace.address,
        "tax_id": workspace.tax_id,
        "payment_details": "IBAN BE00 0000 0000 0000",
    }
    assert invoice.buyer == {
        "name": "Acme",
        "email": client.email,
        "address": "2 Side St",
        "tax_id": "FR123",
    }
    assert invoice.total == D("121.00")
    assert _actions(invoice) == ["created", "issued"]
    assert invoice.activities.last().message == "Issued as 2026-0001."


def test_issue_uses_the_workspace_terms_when_the_client_has_none(owner):
    owner.workspace.payment_terms_days = 45
    owner.workspace.save()
    client = make_client(owner.workspace, payment_terms_days=None)
    invoice = make_issued(
        workspace=owner.workspace, user=owner.user, client=client, issue_date=dt.date(2026, 1, 10)
    )
    assert invoice.due_date == dt.date(2026, 2, 24)


def test_issue_keeps_a_due_date_set_on_the_draft(owner):
    invoice = make_issued(
        workspace=owner.workspace,
        user=owner.user,
        due_date=dt.date(2026, 3, 5),
        issue_date=dt.date(2026, 3, 2),
    )
    assert invoice.due_date == dt.date(2026, 3, 5)


@time_machine.travel(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), tick=False)
def test_issue_date_defaults_to_today_in_the_workspace_time_zone(owner):
    # 23:30 UTC on 31 December is already 1 January in Brussels.
    invoice = make_draft(workspace=owner.workspace, user=owner.user)
    services.invoice_issue(invoice=invoice, user=owner.user)
    invoice.refresh_from_db()
    assert invoice.issue_date == dt.date(2027, 1, 1)
    assert invoice.number == "2027-0001"


def test_issue_rejects_an_invoice_without_lines(owner):
    invoice = make_draft(workspace=owner.workspace, user=owner.user, lines=[])
    with pytest.raises(ApplicationError) as error:
        services.invoice_issue(invoice=invoice, user=owner.user)
    assert error.value.errors == {"lines": ["An invoice needs at least one line."]}
    invoice.refresh_from_db()
    assert invoice.status == "draft"
    assert invoice.number is None


def test_issue_rejects_a_zero_total(owner):
    invoice = make_draft(
        workspace=owner.workspace, user=owner.user, lines=[line(unit_price="0.00")]
    )
    with pytest.raises(ApplicationError) as error:
        services.invoice_issue(invoice=invoice, user=owner.user)
    assert error.value.errors == {"lines": ["The invoice total must be more than zero."]}
    invoice.refresh_from_db()
    assert invoice.status == "draft"


def test_issue_twice_is_refused_and_keeps_the_number(owner):
    invoice = make_issued(workspace=owner.workspace, user=owner.user)
    with pytest.raises(ApplicationError):
        services.invoice_issue(invoice=invoice, user=owner.user)
    invoice.refresh_from_db()
    assert invoice.number == "2026-0001"
    assert _actions(invoice) == ["created", "issued"]


def test_issue_marks_reserved_entries_invoiced(owner):
    client = make_client(owner.workspace)
    project = make_project(client)
    entry = make_entry(
        project=project,
        user=owner.user,
        start=dt.datetime(2026, 3, 2, 9, tzinfo=owner.workspace.tzinfo),
        minutes=90,
    )
    invoice = services.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=client, date_from=None, date_to=None
    )
    entry.refresh_from_db()
    assert entry.invoiced_at is None
    services.invoice_issue(invoice=invoice, user=owner.user, issue_date=dt.date(2026, 3, 3))
    entry.refresh_from_db()
    invoice.refresh_from_db()
    assert entry.invoiced_at == invoice.issued_at
    assert entry.invoice_line.invoice == invoice


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(
        st.fixed_dictionaries(
            {
                "quantity": st.decimals(min_value=0, max_value=500, places=3),
                "unit_price": st.decimals(min_value=0, max_value=5000, places=2),
                "tax_rate": st.sampled_from([D("0"), D("7"), D("19"), D("21"), D("5.5")]),
            }
        ),
        min_size=1,
        max_size=6,
    ),
    discount=st.one_of(
        st.tuples(st.just("none"), st.just(D("0"))),
        st.tuples(st.just("percent"), st.decimals(min_value=0, max_value=100, places=2)),
        st.tuples(st.just("amount"), st.decimals(min_value=0, max_value=20000, places=2)),
    ),
    currency=st.sampled_from(["EUR", "JPY"]),
)
def test_recomputing_an_issued_invoice_from_its_stored_lines_gives_the_stored_figures(
    owner, lines, discount, currency
):
    client = make_client(owner.workspace, currency=currency)
    if currency == "JPY":
        lines = [{**raw, "unit_price": raw["unit_price"].quantize(D(1))} for raw in lines]
    draft = make_draft(
        workspace=owner.workspace,
        user=owner.user,
        client=client,
        lines=[{"description": "Work", "unit": "hours", **raw} for raw in lines],
        discount_type=discount[0],
        discount_value=discount[1],
    )
    try:
        services.invoice_issue(invoice=draft, user=owner.user, issue_date=dt.date(2026, 5, 1))
    except ApplicationError:
        assert draft.total == 0  # only a zero total is refused
        return
    stored = Invoice.objects.get(pk=draft.pk)
    stored_lines = list(stored.lines.all())
    again = compute_totals(
        lines=[LineInput(li.quantity, li.unit_price, li.tax_rate) for li in stored_lines],
        currency=stored.currency,
        discount_type=stored.discount_type,
        discount_value=stored.discount_value,
    )
    assert again.line_totals == tuple(li.total for li in stored_lines)
    assert (again.subtotal, again.discount_amount, again.tax_total, again.total) == (
        stored.subtotal,
        stored.discount_amount,
        stored.tax_total,
        stored.total,
    )
    assert stored.total > 0


# --- void ------------------------------------------------------------------------------------


def test_void_releases_the_time_entries_for_rebilling(owner):
    client = make_client(owner.workspace)
    project = make_project(client)
    entry = make_entry(
        project=project,
        user=owner.user,
        start=dt.datetime(2026, 3, 2, 9, tzinfo=owner.workspace.tzinfo),
        minutes=60,
    )
    invoice = services.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=client, date_from=None, date_to=None
    )
    services.invoice_issue(invoice=invoice, user=owner.user, issue_date=dt.date(2026, 3, 3))
    voided = services.invoice_void(invoice=invoice, user=owner.user, reason="Wrong client")
    assert voided.status == "void"
    invoice.refresh_from_db()
    assert invoice.status == "void"
    assert invoice.voided_at is not None
    assert invoice.number == "2026-0001"  # the number stays used: no gap, no reuse
    assert invoice.amount_due == D("0.00")
    entry.refresh_from_db()
    assert (entry.invoice_line, entry.invoiced_at) == (None, None)
    assert _actions(invoice) == ["created", "issued", "voided"]
    assert invoice.activities.last().message == "Voided. Wrong client"
    # Free again: a new invoice can take it.
    again = services.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=client, date_from=None, date_to=None
    )
    entry.refresh_from_db()
    assert entry.invoice_line.invoice == again


def test_void_is_refused_when_there_are_payments(owner):
    invoice = make_issued(workspace=owner.workspace, user=owner.user)
    services.payment_record(
        invoice=invoice, user=owner.user, amount=D("21.00"), date=dt.date(2026, 3, 5), method="card"
    )
    with pytest.raises(ApplicationError) as error:
        services.invoice_void(invoice=invoice, user=owner.user)
    assert error.value.message == (
        "This invoice has payments: delete them first, or record a credit note."
    )
    invoice.refresh_from_db()
    assert invoice.status == "partially_paid"


def test_void_is_refused_for_a_draft(owner):
    invoice = make_draft(workspace=owner.workspace, user=owner.user)
    with pytest.raises(ApplicationError):
        services.invoice_void(invoice=invoice, user=owner.user)
    invoice.refresh_from_db()
    assert invoice.status == "draft"


# --- credit notes ----------------------------------------------------------------------------


def _three_line_invoice(owner, **kwargs):
    return make_issued(
        workspace=owner.workspace,
        user=owner.user,
        lines=[
            line("A", quantity="2", unit_price="50.00", tax_rate="21"),
            line("B", quantity="1", unit_price="30.00", tax_rate="6"),
            line("C", quantity="4", unit_price="5.00", tax_rate="0"),
        ],
        **kwargs,
    )


def test_credit_note_for_all_lines_mirrors_the_invoice(owner):
    invoice = _three_line_invoice(owner, discount_type="percent", discount_value=D("10"))
    note = services.credit_note_create(invoice=invoice, user=owner.user, reason="Cancelled")
    assert note.kind == "credit_note"
    assert note.status == "issued"
    assert note.number == f"CN-{note.issue_date.year}-0001"
    assert note.credited_invoice == invoice
    assert note.notes == "Cancelled"
    assert [(li.description, li.total, li.credited_line_id) for li in note.lines.all()] == [
        (li.description, li.total, li.pk) for li in invoice.lines.all()
    ]
    assert (note.subtotal, note.discount_amount, note.tax_total, note.total) == (
        invoice.subtotal,
        invoice.discount_amount,
        invoice.tax_total,
        invoice.total,
    )
    invoice.refresh_from_db()
    # Credited in full: nothing is left to collect.
    assert (invoice.status, invoice.amount_credited, invoice.amount_due) == (
        "paid",
        invoice.total,
        D("0.00"),
    )
    assert _actions(invoice) == ["created", "issued", "credited"]
    assert _actions(note) == ["issued"]


def test_credit_note_for_chosen_lines_shares_an_amount_discount(owner):
    invoice = _three_line_invoice(owner, discount_type="amount", discount_value=D("15.00"))
    # subtotal 150.00; line B is 30.00, a fifth: its share of the discount is 3.00.
    b = invoice.lines.get(description="B")
    note = services.credit_note_create(
        invoice=invoice, user=owner.user, line_public_ids=[b.public_id]
    )
    assert [li.description for li in note.lines.all()] == ["B"]
    assert note.subtotal == D("30.00")
    assert note.discount_amount == D("3.00")
    assert note.tax_total == D("1.62")  # 27.00 × 6 %
    assert note.total == D("28.62")


def test_a_line_cannot_be_credited_twice(owner):
    invoice = _three_line_invoice(owner)
    a, b, _c = invoice.lines.all()
    services.credit_note_create(invoice=invoice, user=owner.user, line_public_ids=[a.public_id])
    with pytest.raises(ApplicationError) as error:
        services.credit_note_create(
            invoice=invoice, user=owner.user, line_public_ids=[b.public_id, a.public_id]
        )
    assert list(error.value.errors) == ["line_ids"]
    assert "“A” has already been credited" in error.value.message
    assert Invoice.objects.filter(kind="credit_note").count() == 1
    # The other lines still can be, and the series goes on without a gap.
    second = services.credit_note_create(
        invoice=invoice, user=owner.user, line_public_ids=[b.public_id]
    )
    assert second.number.endswith("-0002")


def test_credit_note_refuses_lines_of_another_invoice_and_drafts(owner):
    invoice = _three_line_invoice(owner)
    other = make_issued(workspace=owner.workspace, user=owner.user)
    with pytest.raises(ApplicationError) as error:
        services.credit_note_create(
            invoice=invoice, user=owner.user, line_public_ids=[other.lines.get().public_id]
        )
    assert list(error.value.errors) == ["line_ids"]
    draft = make_draft(workspace=owner.workspace, user=owner.user)
    with pytest.raises(ApplicationError):
        services.credit_note_create(invoice=draft, user=owner.user)
    assert Invoice.objects.filter(kind="credit_note").count() == 0


# --- payments --------------------------------------------------------------------------------


def test_partial_then_full_payment_moves_to_paid(owner):
    invoice = make_issued(workspace=owner.workspace, user=owner.user)  # 121.00
    first = services.payment_record(
        invoice=invoice,
        user=owner.user,
        amount=D("21.00"),
        date=dt.date(2026, 3, 5),
        method="bank_transfer",
        reference="  ref   1 ",
    )
    assert first.reference == "ref 1"
    assert first.recorded_by == owner.user
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.amount_due, invoice.paid_on) == (
        "partially_paid",
        D("21.00"),
        D("100.00"),
        None,
    )
    services.payment_record(
        invoice=invoice,
        user=owner.user,
        amount=D("100.00"),
        date=dt.date(2026, 3, 9),
        method="card",
    )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.amount_due, invoice.paid_on) == (
        "paid",
        D("121.00"),
        D("0.00"),
        dt.date(2026, 3, 9),
    )
    assert _actions(invoice) == [
        "created",
        "issued",
        "payment_recorded",
        "payment_recorded",
    ]


def test_an_overpayment_is_refused_naming_the_amount_and_nothing_changes(owner):
    invoice = make_issued(workspace=owner.workspace, user=owner.user)
    services.payment_record(
        invoice=invoice,
        user=owner.user,
        amount=D("100.00"),
        date=dt.date(2026, 3, 5),
        method="cash",
    )
    with pytest.raises(ApplicationError) as error:
        services.payment_record(
            invoice=invoice,
            user=owner.user,
            amount=D("21.01"),
            date=dt.date(2026, 3, 6),
            method="cash",
        )
    assert error.value.errors == {
        "amount": ["The payment is larger than the balance of 21.00 EUR."]
    }
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("partially_paid", D("100.00"))
    assert Payment.objects.count() == 1
    assert _actions(invoice) == ["created", "issued", "payment_recorded"]


@pytest.mark.parametrize("amount", [D("0"), D("-5"), D("1.001")])
def test_a_payment_amount_must_be_positive_cents(owner, amount):
    invoice = make_issued(workspace=owner.workspace, user=owner.user)
    with pytest.raises(ApplicationError) as error:
        services.payment_record(
            invoice=invoice, user=owner.user, amount=amount, date=dt.date(2026, 3, 5), method="cash"
        )
    assert list(error.value.errors) == ["amount"]
    assert not Payment.objects.exists()


def test_payments_are_refused_on_drafts_void_and_paid_invoices(owner):
    draft = make_draft(workspace=owner.workspace, user=owner.user)
    with pytest.raises(ApplicationError):
        services.payment_record(
            invoice=draft, user=owner.user, amount=D("1"), date=dt.date(2026, 3, 5), method="cash"
        )
    paid = make_issued(workspace=owner.workspace, user=owner.user)
    services.payment_record(
        invoice=paid, user=owner.user, amount=D("121.00"), date=dt.date(2026, 3, 5), method="cash"
    )
    with pytest.raises(ApplicationError) as error:
        services.payment_record(
            invoice=paid, user=owner.user, amount=D("1"), date=dt.date(2026, 3, 5), method="cash"
        )
    assert list(error.value.errors) == ["amount"]
    assert Payment.objects.count() == 1


def test_deleting_payments_moves_the_status_back(owner):
    invoice = make_issued(workspace=owner.workspace, user=owner.user)
    first = services.payment_record(
        invoice=invoice, user=owner.user, amount=D("21.00"), date=dt.date(2026, 3, 5), method="cash"
    )
    second = services.payment_record(
        invoice=invoice,
        user=owner.user,
        amount=D("100.00"),
        date=dt.date(2026, 3, 9),
        method="cash",
    )
    after = services.payment_delete(payment=second, user=owner.user)
    assert (after.status, after.amount_paid, after.paid_on) == (
        "partially_paid",
        D("21.00"),
        None,
    )
    after = services.payment_delete(payment=first, user=owner.user)
    assert (after.status, after.amount_paid) == ("issued", D("0.00"))
    assert not Payment.objects.exists()
    assert _actions(invoice) == [
        "created",
        "issued",
        "payment_recorded",
        "payment_recorded",
        "payment_deleted",
        "payment_deleted",
    ]
    # Now it can be voided.
    assert services.invoice_void(invoice=invoice, user=owner.user).status == "void"


def test_full_lifecycle_writes_one_activity_per_transition_with_the_actor(owner, member):
    invoice = make_draft(workspace=owner.workspace, user=owner.user)
    services.invoice_update_draft(invoice=invoice, user=member.user, notes="n")
    services.invoice_issue(invoice=invoice, user=owner.user, issue_date=dt.date(2026, 3, 2))
    payment = services.payment_record(
        invoice=invoice,
        user=member.user,
        amount=D("121.00"),
        date=dt.date(2026, 3, 3),
        method="card",
    )
    services.payment_delete(payment=payment, user=owner.user)
    services.credit_note_create(invoice=invoice, user=owner.user)
    rows = list(invoice.activities.order_by("created_at", "pk").values_list("action", "actor"))
    assert rows == [
        ("created", owner.user.pk),
        ("updated", member.user.pk),
        ("issued", owner.user.pk),
        ("payment_recorded", member.user.pk),
        ("payment_deleted", owner.user.pk),
        ("credited", owner.user.pk),
    ]
    assert InvoiceActivity.objects.count() == 7  # + the credit note's own "issued"


def test_services_never_touch_another_workspace(owner):
    other_workspace = WorkspaceFactory()
    theirs = make_issued(workspace=other_workspace, user=owner.user)
    mine = make_issued(workspace=owner.workspace, user=owner.user)
    # Separate counters: both are the first of their workspace.
    assert (theirs.number, mine.number) == ("2026-0001", "2026-0001")
    assert TimeEntry.objects.count() == 0
