"""The invoices API: /api/v1/invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from solodesk.invoicing import services
from solodesk.invoicing.models import Invoice, InvoiceLine, Payment
from solodesk.projects.models import Project
from solodesk.tests.factories import ClientFactory, ProjectFactory, TimeEntryFactory
from solodesk.timetracking.models import TimeEntry

URL = "/api/v1/invoices"

LINES = [
    # 10 h × 123.45 = 1234.50 at 21 % → tax 259.245 → 259.25
    {"description": "Design", "quantity": "10", "unit": "hours", "unit_price": "123.45",
     "tax_rate": "21"},
    # 3 × 19.99 = 59.97 at 6 % → tax 3.5982 → 3.60
    {"description": "Licences", "quantity": "3", "unit": "pieces", "unit_price": "19.99",
     "tax_rate": "6"},
]  # fmt: skip


def url(invoice: Invoice, action: str = "") -> str:
    return f"{URL}/{invoice.public_id}{'/' + action if action else ''}"


def this_year() -> int:
    return timezone.localdate(timezone=dt.UTC).year


def service_lines(count: int = 1, price: str = "100.00", tax: str = "21") -> list[dict]:
    return [
        {
            "description": f"Work {n}",
            "quantity": Decimal("1"),
            "unit": "hours",
            "unit_price": Decimal(price),
            "tax_rate": Decimal(tax),
        }
        for n in range(count)
    ]


def draft(persona, client=None, lines=None, **fields) -> Invoice:
    client = client or ClientFactory(workspace=persona.workspace)
    return services.invoice_create_draft(
        workspace=persona.workspace,
        user=persona.user,
        client=client,
        lines=service_lines() if lines is None else lines,
        **fields,
    )


def issued(persona, client=None, lines=None, issue_date=None, **fields) -> Invoice:
    invoice = draft(persona, client=client, lines=lines, **fields)
    return services.invoice_issue(invoice=invoice, user=persona.user, issue_date=issue_date)


def snapshot(invoice: Invoice) -> tuple:
    invoice = Invoice.objects.get(pk=invoice.pk)
    lines = list(invoice.lines.values_list("description", "quantity", "unit_price", "total"))
    payments = list(invoice.payments.values_list("amount", flat=True))
    return (
        invoice.status,
        invoice.number,
        invoice.notes,
        invoice.total,
        invoice.amount_paid,
        lines,
        payments,
        Invoice.objects.count(),
        invoice.activities.count(),
    )


# --- Create a draft ---------------------------------------------------------------------


def test_create_draft_stores_lines_and_exact_totals_as_decimal_strings(owner):
    client = ClientFactory(workspace=owner.workspace, name="Acme", currency="EUR")

    response = owner.api().post(
        URL,
        {"client_id": str(client.public_id), "lines": LINES, "notes": "Thanks!"},
        content_type="application/json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["number"] is None
    assert body["status"] == "draft"
    assert body["kind"] == "invoice"
    assert body["overdue"] is False
    assert body["client_id"] == str(client.public_id)
    assert body["client_name"] == "Acme"
    assert body["currency"] == "EUR"
    assert body["notes"] == "Thanks!"
    assert [
        (line["description"], line["quantity"], line["unit"], line["unit_price"],
         line["tax_rate"], line["total"], line["project_id"])
        for line in body["lines"]
    ] == [
        ("Design", "10.00", "hours", "123.45", "21.00", "1234.50", None),
        ("Licences", "3.00", "pieces", "19.99", "6.00", "59.97", None),
    ]  # fmt: skip
    assert body["subtotal"] == "1294.47"
    assert body["discount_amount"] == "0.00"
    assert body["tax_total"] == "262.85"
    assert body["total"] == "1557.32"
    assert body["amount_paid"] == "0.00"
    assert body["amount_due"] == "1557.32"
    assert body["tax_groups"] == [
        {"rate": "6.00", "base": "59.97", "tax": "3.60"},
        {"rate": "21.00", "base": "1234.50", "tax": "259.25"},
    ]
    assert [a["action"] for a in body["activity"]] == ["created"]
    assert body["activity"][0]["actor_email"] == owner.user.email
    invoice = Invoice.objects.get(public_id=body["id"])
    assert invoice.workspace == owner.workspace
    assert invoice.total == Decimal("1557.32")


def test_create_draft_applies_a_percentage_discount_before_tax(owner):
    client = ClientFactory(workspace=owner.workspace)

    body = (
        owner.api()
        .post(
            URL,
            {
                "client_id": str(client.public_id),
                "lines": LINES[:1],
                "discount_type": "percent",
                "discount_value": "10",
            },
            content_type="application/json",
        )
        .json()
    )

    # 1234.50 − 123.45 = 1111.05; tax 21 % = 233.3205 → 233.32
    assert (body["subtotal"], body["discount_amount"], body["tax_total"], body["total"]) == (
        "1234.50",
        "123.45",
        "233.32",
        "1344.37",
    )


def test_create_draft_links_a_line_to_a_project_of_the_workspace(owner):
    project = ProjectFactory(client=ClientFactory(workspace=owner.workspace))
    line = {**LINES[0], "project_id": str(project.public_id)}

    body = (
        owner.api()
        .post(
            URL,
            {"client_id": str(project.client.public_id), "lines": [line]},
            content_type="application/json",
        )
        .json()
    )

    assert body["lines"][0]["project_id"] == str(project.public_id)


def test_create_draft_for_another_workspaces_client_is_refused_naming_client_id(owner, stranger):
    foreign = ClientFactory(workspace=stranger.workspace)

    response = owner.api().post(
        URL, {"client_id": str(foreign.public_id), "lines": LINES}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"client_id": ["Client not found."]}
    assert Invoice.objects.count() == 0


def test_create_draft_with_another_workspaces_project_is_refused(owner, stranger):
    client = ClientFactory(workspace=owner.workspace)
    foreign = ProjectFactory(client=ClientFactory(workspace=stranger.workspace))
    line = {**LINES[0], "project_id": str(foreign.public_id)}

    response = owner.api().post(
        URL, {"client_id": str(client.public_id), "lines": [line]}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"lines.0.project_id": ["Project not found."]}
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": "-1"}, "lines.0.quantity"),
        ({"unit_price": "-0.01"}, "lines.0.unit_price"),
        ({"tax_rate": "100.01"}, "lines.0.tax_rate"),
        ({"unit": "litres"}, "lines.0.unit"),
        ({"description": "  "}, "lines.0.description"),
    ],
)
def test_create_draft_rejects_a_bad_line_naming_its_field(owner, change, field):
    client = ClientFactory(workspace=owner.workspace)

    response = owner.api().post(
        URL,
        {"client_id": str(client.public_id), "lines": [{**LINES[0], **change}]},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert Invoice.objects.count() == 0


# --- From tracked time ------------------------------------------------------------------


def _entry(project: Project, day: dt.date, hours: float, **kwargs) -> TimeEntry:
    started = dt.datetime.combine(day, dt.time(9), project.workspace.tzinfo)
    ended = started + dt.timedelta(hours=hours)
    return TimeEntryFactory(
        project=project,
        started_at=started,
        ended_at=ended,
        duration_seconds=int((ended - started).total_seconds()),
        **kwargs,
    )


def test_from_time_groups_the_clients_unbilled_entries_by_project_and_reserves_them(owner):
    client = ClientFactory(workspace=owner.workspace, currency="EUR")
    site = ProjectFactory(client=client, name="Website", hourly_rate=Decimal("100.00"))
    app = ProjectFactory(client=client, name="App", hourly_rate=Decimal("80.00"))
    day = dt.date(2026, 3, 2)
    entries = [
        _entry(site, day, 1.5),
        _entry(site, day + dt.timedelta(days=1), 2),
        _entry(app, day, 0.25),
    ]
    not_billable = _entry(site, day, 4, is_billable=False)
    outside = _entry(site, day + dt.timedelta(days=30), 1)

    response = owner.api().post(
        f"{URL}/from-time",
        {
            "client_id": str(client.public_id),
            "date_from": "2026-03-01",
            "date_to": "2026-03-31",
            "grouping": "project",
        },
        content_type="application/json",
    )

    assert response.status_code == 201
    body = response.json()
    assert [
        (line["description"], line["quantity"], line["unit_price"], line["total"],
         line["project_id"], line["tracked_seconds"])
        for line in body["lines"]
    ] == [
        ("App — 2026-03-02", "0.25", "80.00", "20.00", str(app.public_id), 900),
        ("Website — 2026-03-02 – 2026-03-03", "3.50", "100.00", "350.00", str(site.public_id),
         12600),
    ]  # fmt: skip
    assert body["total"] == "370.00"
    lines = {line.project_id: line for line in InvoiceLine.objects.all()}
    for entry in entries:
        entry.refresh_from_db()
        assert entry.invoice_line == lines[entry.project_id]
    for entry in (not_billable, outside):
        entry.refresh_from_db()
        assert entry.invoice_line is None


def test_from_time_groups_by_project_and_day_on_request(owner):
    client = ClientFactory(workspace=owner.workspace)
    site = ProjectFactory(client=client, name="Website", hourly_rate=Decimal("100.00"))
    _entry(site, dt.date(2026, 3, 2), 1)
    _entry(site, dt.date(2026, 3, 2), 1)
    _entry(site, dt.date(2026, 3, 3), 0.5)

    body = (
        owner.api()
        .post(
            f"{URL}/from-time",
            {"client_id": str(client.public_id), "grouping": "project_day"},
            content_type="application/json",
        )
        .json()
    )

    assert [(line["description"], line["quantity"]) for line in body["lines"]] == [
        ("Website — 2026-03-02", "2.00"),
        ("Website — 2026-03-03", "0.50"),
    ]


def test_from_time_without_unbilled_time_is_refused_and_creates_nothing(owner):
    client = ClientFactory(workspace=owner.workspace)

    response = owner.api().post(
        f"{URL}/from-time", {"client_id": str(client.public_id)}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["message"] == (
        "No unbilled billable time for this client in that period."
    )
    assert Invoice.objects.count() == 0


def test_from_time_for_another_workspaces_client_is_refused(owner, stranger):
    project = ProjectFactory(client=ClientFactory(workspace=stranger.workspace))
    entry = _entry(project, dt.date(2026, 3, 2), 1)

    response = owner.api().post(
        f"{URL}/from-time",
        {"client_id": str(project.client.public_id)},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["client_id"]
    assert Invoice.objects.count() == 0
    entry.refresh_from_db()
    assert entry.invoice_line is None


# --- Update and delete drafts -------------------------------------------------------------


def test_patch_changes_only_the_fields_sent_and_recomputes_totals(owner):
    invoice = draft(owner, notes="Old", lines=service_lines(1, "100.00", "21"))

    response = owner.api().patch(
        url(invoice),
        {"notes": "New", "discount_type": "amount", "discount_value": "10"},
        content_type="application/json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["notes"] == "New"
    # 100 − 10 = 90; tax 18.90
    assert (body["subtotal"], body["discount_amount"], body["tax_total"], body["total"]) == (
        "100.00",
        "10.00",
        "18.90",
        "108.90",
    )
    assert len(body["lines"]) == 1


def test_patch_with_lines_replaces_every_line(owner):
    invoice = draft(owner, lines=service_lines(3))

    body = (
        owner.api()
        .patch(url(invoice), {"lines": LINES[:1]}, content_type="application/json")
        .json()
    )

    assert [line["description"] for line in body["lines"]] == ["Design"]
    assert body["total"] == "1493.75"
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 1


def test_delete_removes_a_draft_and_releases_its_time(owner):
    client = ClientFactory(workspace=owner.workspace)
    entry = _entry(ProjectFactory(client=client), dt.date(2026, 3, 2), 1)
    invoice = services.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=client, date_from=None, date_to=None
    )

    response = owner.api().delete(url(invoice))

    assert response.status_code == 204
    assert not Invoice.objects.filter(pk=invoice.pk).exists()
    entry.refresh_from_db()
    assert entry.invoice_line is None


def test_patch_of_an_issued_invoice_is_refused_and_changes_nothing(owner):
    invoice = issued(owner, notes="Original")
    before = snapshot(invoice)

    response = owner.api().patch(
        url(invoice), {"notes": "Changed", "lines": LINES}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["message"] == (
        "An issued invoice cannot be changed; issue a credit note instead."
    )
    assert snapshot(invoice) == before


def test_delete_of_an_issued_invoice_is_refused_and_changes_nothing(owner):
    invoice = issued(owner)
    before = snapshot(invoice)

    response = owner.api().delete(url(invoice))

    assert response.status_code == 400
    assert "cannot be deleted" in response.json()["message"]
    assert snapshot(invoice) == before


# --- Issue --------------------------------------------------------------------------------


def test_issue_numbers_invoices_in_sequence_for_the_current_year(owner):
    client = ClientFactory(workspace=owner.workspace, payment_terms_days=14)
    first, second = draft(owner, client=client), draft(owner, client=client)
    api = owner.api()

    one = api.post(url(first, "issue"), content_type="application/json")
    two = api.post(url(second, "issue"), {}, content_type="application/json")

    assert one.status_code == 200
    assert two.status_code == 200
    year = this_year()
    today = timezone.localdate(timezone=owner.workspace.tzinfo)
    assert one.json()["number"] == f"{year}-0001"
    assert two.json()["number"] == f"{year}-0002"
    assert one.json()["status"] == "issued"
    assert one.json()["issue_date"] == today.isoformat()
    assert one.json()["due_date"] == (today + dt.timedelta(days=14)).isoformat()
    assert [a["action"] for a in one.json()["activity"]] == ["created", "issued"]


def test_issue_needs_no_body(owner):
    invoice = draft(owner)

    response = owner.api().generic("POST", url(invoice, "issue"), content_type="")

    assert response.status_code == 200
    assert response.json()["status"] == "issued"


def test_issue_takes_an_explicit_issue_date_and_marks_its_time_invoiced(owner):
    client = ClientFactory(workspace=owner.workspace, payment_terms_days=30)
    entry = _entry(ProjectFactory(client=client), dt.date(2025, 12, 1), 1)
    invoice = services.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=client, date_from=None, date_to=None
    )

    body = (
        owner.api()
        .post(url(invoice, "issue"), {"issue_date": "2025-12-31"}, content_type="application/json")
        .json()
    )

    assert (body["number"], body["issue_date"], body["due_date"]) == (
        "2025-0001",
        "2025-12-31",
        "2026-01-30",
    )
    entry.refresh_from_db()
    assert entry.invoiced_at is not None


def test_issue_refuses_an_invoice_without_lines(owner):
    invoice = draft(owner, lines=[])

    response = owner.api().post(url(invoice, "issue"), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"lines": ["An invoice needs at least one line."]}
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("draft", None)


def test_issue_twice_is_refused(owner):
    invoice = issued(owner)
    before = snapshot(invoice)

    response = owner.api().post(url(invoice, "issue"), content_type="application/json")

    assert response.status_code == 400
    assert snapshot(invoice) == before


# --- Payments -----------------------------------------------------------------------------


def test_a_partial_payment_makes_the_invoice_partially_paid(owner):
    invoice = issued(owner, lines=service_lines(1, "100.00", "21"))  # total 121.00

    response = owner.api().post(
        url(invoice, "payments"),
        {"amount": "21", "date": "2026-03-05", "method": "card", "reference": "R-1"},
        content_type="application/json",
    )

    assert response.status_code == 201
    payment = Payment.objects.get()
    assert response.json() == {
        "id": str(payment.public_id),
        "amount": "21.00",
        "date": "2026-03-05",
        "method": "card",
        "reference": "R-1",
        "created_at": payment.created_at.isoformat(),
    }
    body = owner.api().get(url(invoice)).json()
    assert (body["status"], body["amount_paid"], body["amount_due"]) == (
        "partially_paid",
        "21.00",
        "100.00",
    )
    assert body["payments"][0]["id"] == str(payment.public_id)


def test_paying_the_balance_makes_the_invoice_paid(owner):
    invoice = issued(owner, lines=service_lines(1, "100.00", "21"))
    api = owner.api()
    api.post(
        url(invoice, "payments"),
        {"amount": "21", "date": "2026-03-01"},
        content_type="application/json",
    )

    response = api.post(
        url(invoice, "payments"),
        {"amount": "100.00", "date": "2026-03-09"},
        content_type="application/json",
    )

    assert response.status_code == 201
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.amount_due, invoice.paid_on) == (
        "paid",
        Decimal("121.00"),
        Decimal("0.00"),
        dt.date(2026, 3, 9),
    )
    listed = api.get(url(invoice, "payments")).json()
    assert listed["count"] == 2
    assert [p["amount"] for p in listed["items"]] == ["21.00", "100.00"]


def test_a_payment_larger_than_the_balance_is_refused_naming_amount(owner):
    invoice = issued(owner, lines=service_lines(1, "100.00", "21"))
    before = snapshot(invoice)

    response = owner.api().post(
        url(invoice, "payments"), {"amount": "121.01"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "amount": ["The payment is larger than the balance of 121.00 EUR."]
    }
    assert snapshot(invoice) == before


def test_a_payment_on_a_draft_is_refused(owner):
    invoice = draft(owner)

    response = owner.api().post(
        url(invoice, "payments"), {"amount": "1"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert Payment.objects.count() == 0


def test_a_zero_payment_is_invalid(owner):
    invoice = issued(owner)

    response = owner.api().post(
        url(invoice, "payments"), {"amount": "0"}, content_type="application/json"
    )

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["amount"]


def test_deleting_a_payment_moves_the_status_back(owner):
    invoice = issued(owner, lines=service_lines(1, "100.00", "21"))
    first = services.payment_record(
        invoice=invoice, user=owner.user, amount=Decimal("21"), date=dt.date(2026, 3, 1),
        method="bank_transfer",
    )  # fmt: skip
    last = services.payment_record(
        invoice=invoice, user=owner.user, amount=Decimal("100"), date=dt.date(2026, 3, 2),
        method="bank_transfer",
    )  # fmt: skip
    api = owner.api()

    after_last = api.delete(f"{url(invoice)}/payments/{last.public_id}")
    after_first = api.delete(f"{url(invoice)}/payments/{first.public_id}")

    assert after_last.status_code == 200
    assert (after_last.json()["status"], after_last.json()["amount_paid"]) == (
        "partially_paid",
        "21.00",
    )
    assert (after_first.json()["status"], after_first.json()["amount_paid"]) == (
        "issued",
        "0.00",
    )
    assert Payment.objects.count() == 0


def test_deleting_a_payment_through_another_invoice_is_a_404(owner):
    paid = issued(owner)
    other = issued(owner)
    payment = services.payment_record(
        invoice=paid, user=owner.user, amount=Decimal("1"), date=dt.date(2026, 3, 1),
        method="cash",
    )  # fmt: skip

    response = owner.api().delete(f"{url(other)}/payments/{payment.public_id}")

    assert response.status_code == 404
    assert Payment.objects.filter(pk=payment.pk).exists()


# --- Void and credit notes ----------------------------------------------------------------


def test_void_marks_the_invoice_void_and_releases_its_time(owner):
    client = ClientFactory(workspace=owner.workspace)
    entry = _entry(ProjectFactory(client=client), dt.date(2026, 3, 2), 1)
    invoice = services.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=client, date_from=None, date_to=None
    )
    services.invoice_issue(invoice=invoice, user=owner.user)

    response = owner.api().post(
        url(invoice, "void"), {"reason": "Wrong client"}, content_type="application/json"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["amount_due"], body["number"]) == (
        "void",
        "0.00",
        f"{this_year()}-0001",
    )
    assert body["activity"][-1]["message"] == "Voided. Wrong client"
    entry.refresh_from_db()
    assert (entry.invoice_line, entry.invoiced_at) == (None, None)


def test_void_of_an_invoice_with_payments_is_refused(owner):
    invoice = issued(owner)
    services.payment_record(
        invoice=invoice, user=owner.user, amount=Decimal("1"), date=dt.date(2026, 3, 1),
        method="cash",
    )  # fmt: skip
    before = snapshot(invoice)

    response = owner.api().post(url(invoice, "void"), content_type="application/json")

    assert response.status_code == 400
    assert snapshot(invoice) == before


def test_credit_note_credits_every_line_by_default(owner):
    invoice = issued(owner, lines=service_lines(2, "50.00", "21"))

    response = owner.api().post(url(invoice, "credit-note"), content_type="application/json")

    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "credit_note"
    assert body["number"] == f"CN-{this_year()}-0001"
    assert body["status"] == "issued"
    assert body["credited_invoice_id"] == str(invoice.public_id)
    assert body["total"] == "121.00"
    assert [line["description"] for line in body["lines"]] == ["Work 0", "Work 1"]
    original = owner.api().get(url(invoice)).json()
    assert original["credit_note_ids"] == [body["id"]]
    assert (original["status"], original["amount_credited"], original["amount_due"]) == (
        "paid",
        "121.00",
        "0.00",
    )


def test_credit_note_for_chosen_lines_and_never_twice_for_a_line(owner):
    invoice = issued(owner, lines=service_lines(2, "50.00", "0"))
    first_line, second_line = invoice.lines.order_by("position")
    api = owner.api()

    partial = api.post(
        url(invoice, "credit-note"),
        {"line_ids": [str(first_line.public_id)], "reason": "Cancelled"},
        content_type="application/json",
    )
    again = api.post(
        url(invoice, "credit-note"),
        {"line_ids": [str(first_line.public_id)]},
        content_type="application/json",
    )

    assert partial.status_code == 201
    assert partial.json()["total"] == "50.00"
    assert partial.json()["notes"] == "Cancelled"
    assert again.status_code == 400
    assert list(again.json()["errors"]) == ["line_ids"]
    assert Invoice.objects.filter(kind="credit_note").count() == 1
    assert second_line.credit_lines.count() == 0


def test_credit_note_of_a_draft_is_refused(owner):
    invoice = draft(owner)

    response = owner.api().post(url(invoice, "credit-note"), content_type="application/json")

    assert response.status_code == 400
    assert Invoice.objects.count() == 1


# --- List, filters and receivables ----------------------------------------------------------


def _overdue_fixture(persona):
    """Past due dates are explicit: issued in January 2025, due at the end of January."""
    client = ClientFactory(workspace=persona.workspace, name="Late Ltd")
    past = {"issue_date": dt.date(2025, 1, 1), "due_date": dt.date(2025, 1, 31)}
    overdue = issued(persona, client=client, **past)
    partly = issued(persona, client=client, **past)
    services.payment_record(
        invoice=partly, user=persona.user, amount=Decimal("21"), date=dt.date(2025, 2, 1),
        method="cash",
    )  # fmt: skip
    paid = issued(persona, client=client, **past)
    services.payment_record(
        invoice=paid, user=persona.user, amount=paid.total, date=dt.date(2025, 2, 1),
        method="cash",
    )  # fmt: skip
    today = timezone.localdate(timezone=persona.workspace.tzinfo)
    not_yet = issued(persona, client=client, due_date=today + dt.timedelta(days=400))
    a_draft = draft(persona, client=client, **past)
    return overdue, partly, paid, not_yet, a_draft


def test_list_filters_overdue_invoices_by_their_past_due_date(owner):
    overdue, partly, _paid, _not_yet, _draft = _overdue_fixture(owner)

    body = owner.api().get(URL, {"status": "overdue"}).json()

    assert body["count"] == 2
    assert {item["id"] for item in body["items"]} == {
        str(overdue.public_id),
        str(partly.public_id),
    }
    assert all(item["overdue"] for item in body["items"])
    assert "lines" not in body["items"][0]


@pytest.mark.parametrize(
    ("status", "expected"),
    [("draft", [4]), ("issued", [0, 3]), ("partially_paid", [1]), ("paid", [2]), ("void", [])],
)
def test_list_filters_by_status(owner, status, expected):
    invoices = _overdue_fixture(owner)

    body = owner.api().get(URL, {"status": status}).json()

    assert {item["id"] for item in body["items"]} == {str(invoices[i].public_id) for i in expected}


def test_list_shows_drafts_first_then_newest_issue_date(owner):
    old = issued(owner, issue_date=dt.date(2025, 1, 1))
    new = issued(owner, issue_date=dt.date(2025, 6, 1))
    a_draft = draft(owner)

    body = owner.api().get(URL).json()

    assert [item["id"] for item in body["items"]] == [
        str(a_draft.public_id),
        str(new.public_id),
        str(old.public_id),
    ]


def test_list_filters_by_client_and_issue_dates(owner):
    acme = ClientFactory(workspace=owner.workspace)
    january = issued(owner, client=acme, issue_date=dt.date(2025, 1, 15))
    issued(owner, client=acme, issue_date=dt.date(2025, 3, 15))
    issued(owner, issue_date=dt.date(2025, 1, 15))  # another client

    body = (
        owner.api()
        .get(
            URL,
            {"client_id": str(acme.public_id), "date_from": "2025-01-01", "date_to": "2025-01-31"},
        )
        .json()
    )

    assert [item["id"] for item in body["items"]] == [str(january.public_id)]


def test_list_of_credit_notes_names_the_invoices_they_credit(owner):
    invoices = [issued(owner) for _ in range(2)]
    for invoice in invoices:
        services.credit_note_create(invoice=invoice, user=owner.user)

    body = owner.api().get(URL, {"kind": "credit_note"}).json()

    assert body["count"] == 2
    assert {item["credited_invoice_id"] for item in body["items"]} == {
        str(invoice.public_id) for invoice in invoices
    }
    assert owner.api().get(URL).json()["count"] == 2


def test_list_rejects_an_unknown_status(owner):
    response = owner.api().get(URL, {"status": "lost"})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["status"]


def test_receivables_are_exact_per_currency(owner, stranger):
    _overdue_fixture(owner)  # EUR: overdue 121.00 + 100.00 left of 121.00; not yet 121.00
    usd = ClientFactory(workspace=owner.workspace, currency="USD")
    issued(owner, client=usd, lines=service_lines(1, "10.00", "0"))
    issued(stranger)  # another workspace

    response = owner.api().get(f"{URL}/receivables")

    assert response.status_code == 200
    assert response.json() == [
        {
            "currency": "EUR",
            "outstanding": "342.00",
            "overdue": "221.00",
            "invoice_count": 3,
            "overdue_count": 2,
        },
        {
            "currency": "USD",
            "outstanding": "10.00",
            "overdue": "0.00",
            "invoice_count": 1,
            "overdue_count": 0,
        },
    ]


# --- Who may see what ---------------------------------------------------------------------

STRANGER_CALLS = [
    ("get", "", None),
    ("patch", "", {"notes": "Mine now"}),
    ("delete", "", None),
    ("post", "issue", None),
    ("post", "void", None),
    ("post", "credit-note", None),
    ("get", "payments", None),
    ("post", "payments", {"amount": "1"}),
]


@pytest.mark.parametrize("state", ["draft", "issued"])
@pytest.mark.parametrize(("method", "action", "payload"), STRANGER_CALLS)
def test_a_stranger_gets_404_and_changes_nothing(owner, stranger, state, method, action, payload):
    invoice = draft(owner) if state == "draft" else issued(owner)
    before = snapshot(invoice)
    call = getattr(stranger.api(), method)

    if method == "get" or method == "delete":
        response = call(url(invoice, action))
    else:
        response = call(url(invoice, action), payload, content_type="application/json")

    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}
    assert snapshot(invoice) == before


def test_a_stranger_cannot_delete_a_payment(owner, stranger):
    invoice = issued(owner)
    payment = services.payment_record(
        invoice=invoice, user=owner.user, amount=Decimal("1"), date=dt.date(2026, 3, 1),
        method="cash",
    )  # fmt: skip
    before = snapshot(invoice)

    response = stranger.api().delete(f"{url(invoice)}/payments/{payment.public_id}")

    assert response.status_code == 404
    assert snapshot(invoice) == before


def test_a_stranger_sees_none_of_the_workspaces_invoices(owner, stranger):
    _overdue_fixture(owner)

    assert stranger.api().get(URL).json() == {"items": [], "count": 0, "count_is_capped": False}
    assert stranger.api().get(f"{URL}/receivables").json() == []


def test_a_member_sees_and_works_on_the_workspaces_invoices(owner, member):
    invoice = draft(owner)
    api = member.api()

    listed = api.get(URL).json()
    issued_body = api.post(url(invoice, "issue"), content_type="application/json").json()
    paid = api.post(url(invoice, "payments"), {"amount": "1"}, content_type="application/json")

    assert [item["id"] for item in listed["items"]] == [str(invoice.public_id)]
    assert issued_body["status"] == "issued"
    assert paid.status_code == 201
    detail = api.get(url(invoice)).json()
    assert detail["activity"][-1]["actor_email"] == member.user.email


def test_the_list_needs_a_token(db):
    from django.test import Client as DjangoClient

    response = DjangoClient().get(URL)

    assert response.status_code == 401


# --- Query counts -------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [3, 50])
def test_list_costs_three_queries_whatever_the_number_of_invoices(
    owner, rows, django_assert_num_queries
):
    client = ClientFactory(workspace=owner.workspace)
    for _ in range(rows):
        draft(owner, client=ClientFactory(workspace=owner.workspace))
    invoice = issued(owner, client=client)
    services.credit_note_create(invoice=invoice, user=owner.user)
    api = owner.api()

    # Budget 5. 1. API token joined with its workspace, user and running timer
    # 2. COUNT of the filtered invoices
    # 3. the page of invoices joined with their clients (and credited invoices)
    with django_assert_num_queries(3):
        response = api.get(URL, {"limit": 100})

    assert response.json()["count"] == rows + 1


# --- Capped count -------------------------------------------------------------------------


@pytest.fixture
def cap_of_five(monkeypatch):
    from solodesk.core.api import CappedLimitOffsetPagination

    monkeypatch.setattr(CappedLimitOffsetPagination, "count_cap", 5)


def test_list_count_is_exact_up_to_the_cap(owner, cap_of_five):
    client = ClientFactory(workspace=owner.workspace)
    for _ in range(5):
        draft(owner, client=client)

    body = owner.api().get(URL, {"limit": 2}).json()

    assert (body["count"], body["count_is_capped"], len(body["items"])) == (5, False, 2)


def test_list_count_stops_at_the_cap_past_the_offset(owner, cap_of_five):
    client = ClientFactory(workspace=owner.workspace)
    for _ in range(9):
        draft(owner, client=client)
    api = owner.api()

    first = api.get(URL, {"limit": 2}).json()
    later = api.get(URL, {"limit": 2, "offset": 3}).json()
    last = api.get(URL, {"limit": 2, "offset": 8}).json()

    # More than 5 rows past offset 0: "more than 5"; past offset 3, 6 are left: "more than 8".
    assert (first["count"], first["count_is_capped"], len(first["items"])) == (5, True, 2)
    assert (later["count"], later["count_is_capped"]) == (8, True)
    # Near the end the count reaches it and is exact again.
    assert (last["count"], last["count_is_capped"], len(last["items"])) == (9, False, 1)


def test_list_count_is_capped_with_filters_too(owner, cap_of_five):
    client = ClientFactory(workspace=owner.workspace)
    for _ in range(7):
        issued(owner, client=client)
    draft(owner, client=client)

    body = owner.api().get(URL, {"status": "draft"}).json()
    issued_body = owner.api().get(URL, {"status": "issued"}).json()

    assert (body["count"], body["count_is_capped"]) == (1, False)
    assert (issued_body["count"], issued_body["count_is_capped"]) == (5, True)


def test_a_later_page_is_the_same_slice_of_the_list(owner):
    client = ClientFactory(workspace=owner.workspace)
    for day in (3, 1, 2, 1, 5, 4):
        issued(owner, client=client, issue_date=dt.date(2026, 3, day))
    draft(owner, client=client)
    api = owner.api()

    everything = [item["id"] for item in api.get(URL).json()["items"]]
    page = api.get(URL, {"limit": 3, "offset": 2}).json()

    # Past the first page the ids are picked first, then read: same rows, same order.
    assert [item["id"] for item in page["items"]] == everything[2:5]
    assert api.get(URL, {"offset": 7}).json()["items"] == []


@pytest.mark.parametrize("rows", [3, 12])
def test_capped_list_costs_three_queries_past_the_cap_too(
    owner, rows, cap_of_five, django_assert_num_queries
):
    client = ClientFactory(workspace=owner.workspace)
    for _ in range(rows):
        draft(owner, client=client)
    api = owner.api()

    # 1. token (+ workspace, user, timer) 2. the capped COUNT 3. the page
    with django_assert_num_queries(3) as captured:
        response = api.get(URL, {"limit": 100})

    assert response.json()["count"] == min(rows, 5)
    count_sql = captured.captured_queries[1]["sql"]
    assert "COUNT(" in count_sql.upper() and "LIMIT 6" in count_sql.upper()


@pytest.mark.parametrize("rows", [3, 50])
def test_detail_costs_six_queries_whatever_the_number_of_lines(
    owner, rows, django_assert_num_queries
):
    client = ClientFactory(workspace=owner.workspace)
    project = ProjectFactory(client=client)
    lines = [{**line, "project": project} for line in service_lines(rows)]
    invoice = issued(owner, client=client, lines=lines)
    for _ in range(rows):
        services.payment_record(
            invoice=invoice, user=owner.user, amount=Decimal("1"), date=dt.date(2026, 3, 1),
            method="cash",
        )  # fmt: skip
    services.credit_note_create(
        invoice=invoice, user=owner.user, line_public_ids=[invoice.lines.first().public_id]
    )
    api = owner.api()

    # Budget 10. 1. API token joined with its workspace, user and running timer
    # 2. the invoice joined with its client and credited invoice
    # 3. its lines joined with their projects
    # 4. its latest 21 payments joined with who recorded them
    # 5. its latest 21 activity entries joined with the actors
    # 6. its credit notes
    with django_assert_num_queries(6):
        response = api.get(url(invoice))

    body = response.json()
    assert len(body["lines"]) == rows
    # The latest 20 payments and events, oldest first; the rest are paginated elsewhere.
    assert len(body["payments"]) == min(rows, 20)
    assert len(body["activity"]) == min(rows + 3, 20)
    latest = invoice.payments.order_by("-date", "-pk").values_list("public_id", flat=True)[:20]
    assert [p["id"] for p in body["payments"]] == [str(pid) for pid in reversed(latest)]
    assert body["activity"][-1]["action"] == "credited"


@pytest.mark.parametrize("rows", [3, 50])
def test_payment_list_is_paginated_in_four_queries_whatever_the_number_of_payments(
    owner, rows, django_assert_num_queries
):
    invoice = issued(owner, client=ClientFactory(workspace=owner.workspace))
    for _ in range(rows):
        services.payment_record(
            invoice=invoice, user=owner.user, amount=Decimal("0.01"), date=dt.date(2026, 3, 1),
            method="cash",
        )  # fmt: skip
    api = owner.api()

    # 1. API token joined with its workspace, user and running timer
    # 2. the invoice, scoped to the workspace
    # 3. COUNT of its payments
    # 4. one page of its payments
    with django_assert_num_queries(4):
        response = api.get(url(invoice, "payments"), {"limit": 10, "offset": 2})

    body = response.json()
    everything = [
        str(public_id)
        for public_id in invoice.payments.order_by("date", "pk").values_list("public_id", flat=True)
    ]
    assert body["count"] == rows
    assert [payment["id"] for payment in body["items"]] == everything[2:12]


def test_the_payment_and_activity_lists_refuse_a_limit_over_200_and_a_strangers_invoice(
    owner, stranger
):
    invoice = issued(owner)
    api = owner.api()

    too_many = api.get(url(invoice, "payments"), {"limit": 201})
    activity = api.get(url(invoice, "activity"), {"limit": 200})
    theirs = stranger.api().get(url(invoice, "payments"))
    their_activity = stranger.api().get(url(invoice, "activity"))

    assert too_many.status_code == 422
    assert activity.status_code == 200
    assert [a["action"] for a in activity.json()["items"]] == ["created", "issued"]
    assert theirs.status_code == their_activity.status_code == 404
