"""Credit notes reduce what the client owes: amount_credited, amount_due, status, payments,
receivables and voiding a credit note."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solodesk.core.exceptions import ApplicationError
from solodesk.invoicing import selectors, services
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.tests.factories import line, make_client, make_issued

D = Decimal
pytestmark = pytest.mark.django_db

CREDIT_DAY = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)


def _three_lines(owner, **kwargs) -> Invoice:
    """121.00 + 242.00 + 60.50 = 423.50 EUR (21 % tax)."""
    return make_issued(
        workspace=owner.workspace,
        user=owner.user,
        lines=[
            line("A", unit_price="100.00"),
            line("B", unit_price="200.00"),
            line("C", unit_price="50.00"),
        ],
        **kwargs,
    )


def _credit(invoice: Invoice, user, *descriptions: str) -> Invoice:
    ids = [li.public_id for li in invoice.lines.all() if li.description in descriptions]
    with time_machine.travel(CREDIT_DAY, tick=False):
        return services.credit_note_create(invoice=invoice, user=user, line_public_ids=ids or None)


def _pay(invoice: Invoice, user, amount: str, day: dt.date = dt.date(2026, 3, 10)):
    return services.payment_record(
        invoice=invoice, user=user, amount=D(amount), date=day, method="bank_transfer"
    )


def test_crediting_part_of_an_invoice_lowers_amount_due_by_the_credit_note_total(owner):
    invoice = _three_lines(owner)
    assert (invoice.total, invoice.amount_due) == (D("423.50"), D("423.50"))

    note = _credit(invoice, owner.user, "B")

    invoice.refresh_from_db()
    assert note.total == D("242.00")
    assert (invoice.amount_paid, invoice.amount_credited, invoice.amount_due) == (
        D("0.00"),
        D("242.00"),
        D("181.50"),
    )
    assert (invoice.status, invoice.paid_on) == ("issued", None)


def test_the_caller_copy_of_the_invoice_sees_the_credit(owner):
    invoice = _three_lines(owner)
    _credit(invoice, owner.user, "A")
    assert (invoice.amount_credited, invoice.amount_due) == (D("121.00"), D("302.50"))


def test_crediting_everything_due_marks_the_invoice_paid_on_the_credit_date(owner):
    invoice = _three_lines(owner)

    _credit(invoice, owner.user)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due, invoice.paid_on) == (
        "paid",
        D("0.00"),
        dt.date(2026, 3, 20),
    )
    assert (invoice.amount_paid, invoice.amount_credited) == (D("0.00"), D("423.50"))
    with pytest.raises(ApplicationError) as error:
        _pay(invoice, owner.user, "1.00")
    assert error.value.errors == {"amount": ["This invoice is already paid."]}


def test_a_payment_then_a_credit_for_the_rest_settles_on_the_credit_date(owner):
    invoice = _three_lines(owner)
    _pay(invoice, owner.user, "181.50", day=dt.date(2026, 3, 10))

    _credit(invoice, owner.user, "B")

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due, invoice.paid_on) == (
        "paid",
        D("0.00"),
        dt.date(2026, 3, 20),
    )


def test_a_credit_then_a_payment_for_the_rest_settles_on_the_payment_date(owner):
    invoice = _three_lines(owner)
    _credit(invoice, owner.user, "A", "C")
    invoice.refresh_from_db()
    assert invoice.amount_due == D("242.00")

    _pay(invoice, owner.user, "242.00", day=dt.date(2026, 3, 28))

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due, invoice.paid_on) == (
        "paid",
        D("0.00"),
        dt.date(2026, 3, 28),
    )


def test_a_payment_larger_than_the_reduced_balance_is_refused(owner):
    invoice = _three_lines(owner)
    _credit(invoice, owner.user, "B")

    with pytest.raises(ApplicationError) as error:
        _pay(invoice, owner.user, "181.51")

    assert error.value.errors == {
        "amount": ["The payment is larger than the balance of 181.50 EUR."]
    }
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.payments.count()) == (D("0.00"), 0)
    payment = _pay(invoice, owner.user, "181.50")
    assert (payment.invoice.status, payment.invoice.amount_due) == ("paid", D("0.00"))


def test_deleting_a_payment_keeps_the_credit(owner):
    invoice = _three_lines(owner)
    _credit(invoice, owner.user, "B")
    payment = _pay(invoice, owner.user, "181.50")

    invoice = services.payment_delete(payment=payment, user=owner.user)

    assert (invoice.status, invoice.amount_credited, invoice.amount_due, invoice.paid_on) == (
        "issued",
        D("242.00"),
        D("181.50"),
        None,
    )


def test_voiding_the_credit_note_restores_the_balance(owner):
    invoice = _three_lines(owner)
    _pay(invoice, owner.user, "100.00")
    note = _credit(invoice, owner.user, "A", "C")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due) == ("partially_paid", D("142.00"))

    services.invoice_void(invoice=note, user=owner.user, reason="Wrong lines")

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.amount_credited) == (
        "partially_paid",
        D("100.00"),
        D("0.00"),
    )
    assert invoice.amount_due == D("323.50")
    assert invoice.activities.order_by("-created_at", "-pk").first().message == (
        f"Credit note {note.number} voided: 181.50 EUR is due again."
    )
    # The lines can be credited again.
    again = _credit(invoice, owner.user, "A")
    invoice.refresh_from_db()
    assert (again.total, invoice.amount_due) == (D("121.00"), D("202.50"))


def test_voiding_the_credit_note_of_a_fully_credited_invoice_reopens_it(owner):
    invoice = _three_lines(owner)
    note = _credit(invoice, owner.user)

    services.invoice_void(invoice=note, user=owner.user)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_due, invoice.paid_on) == ("issued", D("423.50"), None)


def test_crediting_a_paid_invoice_leaves_nothing_due_and_does_not_go_negative(owner):
    invoice = _three_lines(owner)
    _pay(invoice, owner.user, "423.50")

    note = _credit(invoice, owner.user, "B")

    invoice.refresh_from_db()
    assert note.total == D("242.00")
    assert (invoice.status, invoice.amount_paid, invoice.amount_credited) == (
        "paid",
        D("423.50"),
        D("0.00"),
    )
    assert invoice.amount_due == D("0.00")
    # Once the refunded payment is deleted, the credit note lowers the balance.
    payment = invoice.payments.get()
    invoice = services.payment_delete(payment=payment, user=owner.user)
    assert (invoice.status, invoice.amount_credited, invoice.amount_due) == (
        "issued",
        D("242.00"),
        D("181.50"),
    )


def test_the_database_refuses_payments_and_credits_above_the_total(owner):
    invoice = _three_lines(owner)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(
            amount_paid=D("400.00"), amount_credited=D("23.51")
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(amount_credited=D("-1.00"))


@time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False)
def test_receivables_and_overdue_are_exact_after_a_credit_note(owner):
    eur = make_client(owner.workspace, currency="EUR", payment_terms_days=30)
    usd = make_client(owner.workspace, currency="USD", payment_terms_days=30)
    partly = _three_lines(owner, client=eur, issue_date=dt.date(2026, 3, 2))  # 423.50
    _credit(partly, owner.user, "B")  # 181.50 due
    credited_out = _three_lines(owner, client=eur, issue_date=dt.date(2026, 3, 3))
    _credit(credited_out, owner.user)  # nothing due
    paid_then_credit = _three_lines(owner, client=eur, issue_date=dt.date(2026, 5, 20))
    _pay(paid_then_credit, owner.user, "100.00", day=dt.date(2026, 5, 21))
    _credit(paid_then_credit, owner.user, "C")  # 423.50 - 100 - 60.50 = 263.00, not yet due
    dollars = make_issued(
        workspace=owner.workspace,
        user=owner.user,
        client=usd,
        issue_date=dt.date(2026, 3, 1),
        lines=[line("X", unit_price="10.00", tax_rate="0"), line("Y", unit_price="5.00")],
    )
    _credit(dollars, owner.user, "Y")  # 10.00 due

    assert selectors.invoice_receivables(workspace=owner.workspace) == [
        {
            "currency": "EUR",
            "outstanding": D("444.50"),
            "overdue": D("181.50"),
            "invoice_count": 2,
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
    overdue = selectors.invoice_list(workspace=owner.workspace, status="overdue")
    assert sorted(invoice.number for invoice in overdue) == sorted([partly.number, dollars.number])


def test_a_fully_credited_overdue_invoice_is_not_overdue(owner, time_machine):
    invoice = _three_lines(owner, issue_date=dt.date(2026, 1, 2))
    _credit(invoice, owner.user)
    time_machine.move_to(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False)
    assert list(selectors.invoice_list(workspace=owner.workspace, status="overdue")) == []
    assert selectors.invoice_receivables(workspace=owner.workspace) == []


def test_api_shows_amount_credited_and_the_reduced_amount_due(owner):
    invoice = _three_lines(owner)
    _credit(invoice, owner.user, "B")

    body = owner.api().get(f"/api/v1/invoices/{invoice.public_id}").json()

    assert (body["total"], body["amount_paid"], body["amount_credited"], body["amount_due"]) == (
        "423.50",
        "0.00",
        "242.00",
        "181.50",
    )


def test_detail_page_shows_the_credit_and_the_reduced_amount_due(owner):
    invoice = _three_lines(owner)
    _credit(invoice, owner.user, "B")

    html = owner.client.get(f"/invoices/{invoice.public_id}/").content.decode()

    assert '<td class="num" data-testid="amount-credited">242.00 EUR</td>' in html
    assert '<td class="num" data-testid="amount-due"><strong>181.50 EUR</strong>' in html


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(
        st.fixed_dictionaries(
            {
                "quantity": st.decimals(min_value=D("0.001"), max_value=50, places=3),
                "unit_price": st.decimals(min_value=D("0.01"), max_value=900, places=2),
                "tax_rate": st.sampled_from([D("0"), D("7"), D("19"), D("21"), D("5.5")]),
            }
        ),
        min_size=1,
        max_size=6,
    ),
    discount=st.one_of(
        st.tuples(st.just("none"), st.just(D("0"))),
        st.tuples(st.just("percent"), st.decimals(min_value=0, max_value=50, places=2)),
        st.tuples(st.just("amount"), st.decimals(min_value=0, max_value=100, places=2)),
    ),
    groups=st.lists(st.integers(min_value=0, max_value=3), min_size=6, max_size=6),
    pay_share=st.sampled_from([D("0"), D("0.3"), D("1")]),
    void_first=st.booleans(),
)
def test_payments_credits_and_amount_due_always_add_up_to_the_total(
    owner, lines, discount, groups, pay_share, void_first
):
    """Lines go to up to three credit notes (group 0 = not credited), after an optional
    payment; the first note may be voided again. Whatever happens, nothing goes negative and
    total == amount_paid + amount_credited + amount_due, checked after every step."""
    draft = services.invoice_create_draft(
        workspace=owner.workspace,
        user=owner.user,
        client=make_client(owner.workspace),
        lines=[{"description": f"L{n}", "unit": "hours", **raw} for n, raw in enumerate(lines)],
        discount_type=discount[0],
        discount_value=discount[1],
    )
    try:
        invoice = services.invoice_issue(invoice=draft, user=owner.user)
    except ApplicationError:
        assert draft.total == 0
        return

    def check() -> Invoice:
        stored = Invoice.objects.get(pk=invoice.pk)
        assert stored.amount_due >= 0
        assert stored.amount_credited >= 0
        assert stored.total == stored.amount_paid + stored.amount_credited + stored.amount_due
        assert (stored.status == "paid") == (stored.amount_due == 0)
        return stored

    payment = (invoice.total * pay_share).quantize(D("0.01"))
    if payment > 0:
        _pay(invoice, owner.user, str(payment))
    check()
    notes = []
    all_lines = list(invoice.lines.all())
    for group in (1, 2, 3):
        chosen = [li.public_id for li, g in zip(all_lines, groups, strict=False) if g == group]
        if not chosen:
            continue
        before = check()
        try:
            note = services.credit_note_create(
                invoice=invoice, user=owner.user, line_public_ids=chosen
            )
        except ApplicationError as error:
            assert error.message == "The credit note total would be zero."
            continue
        notes.append(note)
        after = check()
        unpaid_before = before.total - before.amount_paid - before.amount_credited
        assert after.amount_due == max(unpaid_before - note.total, D("0.00"))
    if void_first and notes:
        services.invoice_void(invoice=notes[0], user=owner.user)
    final = check()
    credited = sum((n.total for n in notes[1 if void_first else 0 :]), D("0.00"))
    assert final.amount_credited == min(credited, final.total - final.amount_paid)


def test_portal_shows_the_credit_and_the_reduced_amount_due(owner):
    invoice = _three_lines(owner)
    _credit(invoice, owner.user, "B")
    Invoice.objects.filter(pk=invoice.pk).update(portal_token="t" * 40)

    html = owner.client.get(f"/p/{'t' * 40}/").content.decode()

    assert '<tr><th>Credited</th><td class="num">−242.00 EUR</td></tr>' in html
    assert '<div class="due">181.50 EUR</div>' in html


def test_portal_of_a_fully_credited_invoice_says_so(owner):
    invoice = _three_lines(owner)
    _credit(invoice, owner.user)
    Invoice.objects.filter(pk=invoice.pk).update(portal_token="u" * 40)

    html = owner.client.get(f"/p/{'u' * 40}/").content.decode()

    assert "<div>Fully credited: nothing is due.</div>" in html
    assert "Paid in full" not in html


def test_pdf_shows_the_credit_and_asks_only_for_the_reduced_amount(owner):
    from solodesk.invoicing import pdf
    from solodesk.invoicing.tests.test_pdf import text_of

    invoice = _three_lines(owner)
    state_before = pdf.invoice_pdf_state(Invoice.objects.get(pk=invoice.pk))
    _credit(invoice, owner.user, "B")
    invoice = Invoice.objects.get(pk=invoice.pk)

    text = text_of(pdf.invoice_pdf_render(invoice=invoice))

    assert "Credited" in text
    assert "423.50 EUR −242.00 EUR Amount due 181.50 EUR" in text
    assert "Amount due 181.50 EUR" in text
    assert pdf.invoice_pdf_state(invoice) != state_before  # a stored PDF is re-rendered


def test_the_migration_backfills_credits_issued_before_it(owner):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "solodesk.invoicing.migrations.0003_invoice_amount_credited"
    )
    part = _three_lines(owner)
    _credit(part, owner.user, "B")
    whole = _three_lines(owner)
    _credit(whole, owner.user)
    paid = _three_lines(owner)
    _pay(paid, owner.user, "423.50")
    _credit(paid, owner.user, "A")
    # As the rows were before the migration: credit notes did not touch the invoices.
    Invoice.objects.filter(pk__in=[part.pk, whole.pk]).update(
        amount_credited=D("0.00"), status="issued", paid_on=None
    )

    migration.backfill_amount_credited(apps, None)

    assert [
        Invoice.objects.values_list("status", "amount_credited", "paid_on").get(pk=pk)
        for pk in (part.pk, whole.pk, paid.pk)
    ] == [
        ("issued", D("242.00"), None),
        ("paid", D("423.50"), dt.date(2026, 3, 20)),
        ("paid", D("0.00"), dt.date(2026, 3, 10)),
    ]
