"""Invoice pages: list, new (formset of lines), from time, detail and its actions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone

from solodesk.invoicing import services
from solodesk.invoicing.models import Invoice, InvoiceLine, Payment
from solodesk.invoicing.templatetags.money import money, quantity
from solodesk.projects.models import Project
from solodesk.tests.factories import ClientFactory, ProjectFactory, TimeEntryFactory
from solodesk.timetracking.models import TimeEntry

LIST_URL = reverse("invoicing:list")
NEW_URL = reverse("invoicing:new")
FROM_TIME_URL = reverse("invoicing:from_time")


@pytest.fixture(params=["owner", "member"])
def persona(request):
    """Every page works the same for the owner and for a member of the workspace."""
    return request.getfixturevalue(request.param)


def page(name: str, invoice: Invoice, *args) -> str:
    return reverse(f"invoicing:{name}", args=[invoice.public_id, *args])


def service_lines(count: int = 1, price: str = "100.00", tax: str = "21", project=None):
    return [
        {
            "description": f"Work {n}",
            "quantity": Decimal("1"),
            "unit": "hours",
            "unit_price": Decimal(price),
            "tax_rate": Decimal(tax),
            "project": project,
        }
        for n in range(count)
    ]


def draft(persona, client=None, lines=None, **fields) -> Invoice:
    return services.invoice_create_draft(
        workspace=persona.workspace,
        user=persona.user,
        client=client or ClientFactory(workspace=persona.workspace),
        lines=service_lines() if lines is None else lines,
        **fields,
    )


def issued(persona, client=None, lines=None, issue_date=None, **fields) -> Invoice:
    invoice = draft(persona, client=client, lines=lines, **fields)
    return services.invoice_issue(invoice=invoice, user=persona.user, issue_date=issue_date)


def snapshot(invoice: Invoice) -> tuple:
    invoice = Invoice.objects.get(pk=invoice.pk)
    return (
        invoice.status,
        invoice.number,
        invoice.notes,
        invoice.total,
        invoice.amount_paid,
        list(invoice.lines.values_list("public_id", "description", "quantity", "unit_price")),
        list(invoice.payments.values_list("amount", flat=True)),
        Invoice.objects.count(),
        invoice.activities.count(),
    )


def entry(project: Project, day: dt.date, hours: float, **kwargs) -> TimeEntry:
    started = dt.datetime.combine(day, dt.time(9), project.workspace.tzinfo)
    ended = started + dt.timedelta(hours=hours)
    return TimeEntryFactory(
        project=project,
        started_at=started,
        ended_at=ended,
        duration_seconds=int((ended - started).total_seconds()),
        **kwargs,
    )


def formset_post(lines: list[dict], extra: int = 2, **header) -> dict:
    """The POST of the new/edit form: the header fields and a formset of lines, with
    `extra` blank rows like the browser sends them."""
    rows = [*lines, *({} for _ in range(extra))]
    data = {
        "issue_date": "",
        "due_date": "",
        "discount_type": "none",
        "discount_value": "0",
        "notes": "",
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        **header,
    }
    for index, row in enumerate(rows):
        defaults = {"unit": "hours", "tax_rate": "0"}
        for key, value in {**defaults, **row}.items():
            data[f"lines-{index}-{key}"] = value
    return data


DESIGN = {"description": "Design", "quantity": "10", "unit_price": "123.45", "tax_rate": "21"}


# --- Money filter -------------------------------------------------------------------------


def test_money_groups_thousands_and_follows_the_currencys_decimals():
    assert money(Decimal("1234.5"), "EUR") == "1,234.50 EUR"
    assert money(Decimal("-0.005"), "USD") == "-0.01 USD"
    assert money(Decimal("1234567"), "JPY") == "1,234,567 JPY"
    assert money(None, "EUR") == ""
    assert quantity(Decimal("2.000")) == "2"
    assert quantity(Decimal("2.375")) == "2.375"


# --- List ---------------------------------------------------------------------------------


def test_list_shows_the_workspaces_invoices_and_receivables(persona, stranger):
    client = ClientFactory(workspace=persona.workspace, name="Mine Ltd")
    one = issued(persona, client=client, lines=service_lines(1, "1000.00", "21"))
    draft(persona, client=client)
    issued(stranger, client=ClientFactory(workspace=stranger.workspace, name="Theirs Ltd"))

    response = persona.client.get(LIST_URL)

    assert response.status_code == 200
    assert response.context["nav"] == "invoices"
    assert response.context["page"].paginator.count == 2
    assert response.context["receivables"] == [
        {
            "currency": "EUR",
            "outstanding": Decimal("1210.00"),
            "overdue": Decimal("0.00"),
            "invoice_count": 1,
            "overdue_count": 0,
        }
    ]
    content = response.content.decode()
    assert one.number in content
    assert "1,210.00 EUR" in content
    assert "Mine Ltd" in content
    assert "Theirs Ltd" not in content
    assert 'aria-current="page">Invoices</a>' in content


def test_list_requires_login(db):
    response = DjangoClient().get(LIST_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def _listed(response) -> list:
    return [row.public_id for row in response.context["page"].object_list]


def test_list_tabs_filter_by_status_and_overdue(owner):
    past = {"issue_date": dt.date(2025, 1, 1), "due_date": dt.date(2025, 1, 31)}
    late = issued(owner, **past)
    paid = issued(owner, **past)
    services.payment_record(
        invoice=paid, user=owner.user, amount=paid.total, date=dt.date(2025, 2, 1), method="cash"
    )
    a_draft = draft(owner)

    overdue = owner.client.get(LIST_URL, {"status": "overdue"})
    paid_tab = owner.client.get(LIST_URL, {"status": "paid"})
    drafts = owner.client.get(LIST_URL, {"status": "draft"})
    everything = owner.client.get(LIST_URL, {"status": "nonsense"})

    # The page's rows are InvoiceListRow tuples (selectors.invoice_list_rows), not invoices.
    assert _listed(overdue) == [late.public_id]
    assert '<span class="badge warn">overdue</span>' in overdue.content.decode()
    assert _listed(paid_tab) == [paid.public_id]
    assert '<span class="badge ok">paid</span>' in paid_tab.content.decode()
    assert _listed(drafts) == [a_draft.public_id]
    assert everything.context["tab"] == "all"
    assert everything.context["page"].paginator.count == 3
    assert overdue.context["receivables"][0]["overdue"] == Decimal("121.00")


def test_list_paginates_by_fifty(owner):
    client = ClientFactory(workspace=owner.workspace)
    for _ in range(51):
        draft(owner, client=client, lines=[])

    first = owner.client.get(LIST_URL)
    second = owner.client.get(LIST_URL, {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert b"Page 1 of 2" in first.content


# --- New draft by hand --------------------------------------------------------------------


def test_new_page_offers_the_workspaces_active_clients(persona, stranger):
    ClientFactory(workspace=persona.workspace, name="Active Ltd")
    ClientFactory(workspace=persona.workspace, name="Archived Ltd", is_archived=True)
    ClientFactory(workspace=stranger.workspace, name="Theirs Ltd")

    response = persona.client.get(NEW_URL)

    assert response.status_code == 200
    assert [c.name for c in response.context["form"].fields["client"].queryset] == ["Active Ltd"]
    assert response.context["formset"].total_form_count() == 3


def test_new_creates_a_draft_from_the_filled_rows_only(persona):
    client = ClientFactory(workspace=persona.workspace)
    removed = {"description": "Removed", "quantity": "1", "unit_price": "5", "DELETE": "on"}
    licences = {"description": "Licences", "quantity": "3", "unit": "pieces",
                "unit_price": "19.99", "tax_rate": "6"}  # fmt: skip
    data = formset_post(
        [DESIGN, removed, licences], client=str(client.public_id), notes="Thank you"
    )

    response = persona.client.post(NEW_URL, data)

    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == page("detail", invoice)
    assert (invoice.client, invoice.status, invoice.notes, invoice.total) == (
        client,
        "draft",
        "Thank you",
        Decimal("1557.32"),
    )
    assert list(invoice.lines.values_list("description", "quantity", "unit", "tax_rate")) == [
        ("Design", Decimal("10.000"), "hours", Decimal("21.00")),
        ("Licences", Decimal("3.000"), "pieces", Decimal("6.00")),
    ]


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"quantity": "-1"}, "quantity", "Ensure this value is greater than or equal to 0."),
        ({"tax_rate": "100.5"}, "tax_rate", "Ensure this value is less than or equal to 100."),
        ({"unit_price": "-3"}, "unit_price", "Ensure this value is greater than or equal to 0."),
        ({"description": ""}, "description", "This field is required."),
    ],
)
def test_new_shows_a_bad_line_on_the_form_and_creates_nothing(owner, row, field, message):
    client = ClientFactory(workspace=owner.workspace)

    response = owner.client.post(
        NEW_URL, formset_post([{**DESIGN, **row}], client=str(client.public_id))
    )

    assert response.status_code == 400
    assert response.context["formset"].forms[0].errors[field] == [message]
    assert message in response.content.decode()
    assert Invoice.objects.count() == 0


def test_new_needs_at_least_one_line(owner):
    client = ClientFactory(workspace=owner.workspace)

    response = owner.client.post(NEW_URL, formset_post([], client=str(client.public_id)))

    assert response.status_code == 400
    assert response.context["formset"].non_form_errors() == ["Add at least one line."]
    assert Invoice.objects.count() == 0


def test_new_refuses_another_workspaces_client(owner, stranger):
    foreign = ClientFactory(workspace=stranger.workspace)

    response = owner.client.post(NEW_URL, formset_post([DESIGN], client=str(foreign.public_id)))

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["client"]
    assert Invoice.objects.count() == 0


def test_new_shows_a_service_error_on_its_field(owner):
    client = ClientFactory(workspace=owner.workspace)
    data = formset_post(
        [DESIGN], client=str(client.public_id), discount_type="amount", discount_value="1.005"
    )

    response = owner.client.post(NEW_URL, data)

    assert response.status_code == 400
    assert response.context["form"].errors["discount_value"]
    assert Invoice.objects.count() == 0


# --- Edit and delete drafts ---------------------------------------------------------------


def test_edit_keeps_the_lines_it_had_and_their_time(owner):
    client = ClientFactory(workspace=owner.workspace)
    project = ProjectFactory(client=client, hourly_rate=Decimal("100.00"))
    reserved = entry(project, dt.date(2026, 3, 2), 2)
    invoice = services.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=client, date_from=None, date_to=None
    )
    line = invoice.lines.get()
    form_page = owner.client.get(page("edit", invoice))
    data = formset_post(
        [{"line_id": str(line.public_id), "description": "Website, March", "quantity": "2",
          "unit_price": "110.00", "tax_rate": "21"},
         {"description": "Hosting", "quantity": "1", "unit": "pieces", "unit_price": "20"}],
        notes="Edited",
    )  # fmt: skip
    data["lines-INITIAL_FORMS"] = "1"

    response = owner.client.post(page("edit", invoice), data)

    assert form_page.status_code == 200
    assert form_page.context["formset"].forms[0].initial["line_id"] == line.public_id
    assert "client" not in form_page.context["form"].fields
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.notes, invoice.total) == ("Edited", Decimal("286.20"))
    kept = InvoiceLine.objects.get(pk=line.pk)
    assert (kept.description, kept.unit_price, kept.project) == (
        "Website, March",
        Decimal("110.00"),
        project,
    )
    reserved.refresh_from_db()
    assert reserved.invoice_line == kept


def test_edit_removes_a_line_marked_for_deletion_and_releases_its_time(owner):
    client = ClientFactory(workspace=owner.workspace)
    reserved = entry(ProjectFactory(client=client), dt.date(2026, 3, 2), 2)
    invoice = services.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=client, date_from=None, date_to=None
    )
    line = invoice.lines.get()
    data = formset_post(
        [{"line_id": str(line.public_id), "description": line.description, "quantity": "2",
          "unit_price": "95.00", "DELETE": "on"}, DESIGN],
    )  # fmt: skip
    data["lines-INITIAL_FORMS"] = "1"

    response = owner.client.post(page("edit", invoice), data)

    assert response.status_code == 302
    assert list(invoice.lines.values_list("description", flat=True)) == ["Design"]
    reserved.refresh_from_db()
    assert reserved.invoice_line is None


def test_edit_of_an_issued_invoice_redirects_and_changes_nothing(owner):
    invoice = issued(owner)
    before = snapshot(invoice)

    response = owner.client.post(page("edit", invoice), formset_post([DESIGN]))

    assert response.status_code == 302
    assert response["Location"] == page("detail", invoice)
    assert snapshot(invoice) == before


def test_delete_removes_a_draft_and_releases_its_time(owner):
    client = ClientFactory(workspace=owner.workspace)
    reserved = entry(ProjectFactory(client=client), dt.date(2026, 3, 2), 1)
    invoice = services.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=client, date_from=None, date_to=None
    )

    response = owner.client.post(page("delete", invoice))

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert not Invoice.objects.filter(pk=invoice.pk).exists()
    reserved.refresh_from_db()
    assert reserved.invoice_line is None


def test_delete_of_an_issued_invoice_is_refused(owner):
    invoice = issued(owner)
    before = snapshot(invoice)

    response = owner.client.post(page("delete", invoice), follow=True)

    assert snapshot(invoice) == before
    assert "cannot be deleted" in response.content.decode()


# --- From time ----------------------------------------------------------------------------


def test_from_time_page_shows_the_unbilled_time_per_client(persona, stranger):
    client = ClientFactory(workspace=persona.workspace, name="Acme")
    entry(ProjectFactory(client=client), dt.date(2026, 3, 2), 1.5)
    entry(ProjectFactory(client=ClientFactory(workspace=stranger.workspace)), dt.date.today(), 1)

    response = persona.client.get(FROM_TIME_URL, {"client": str(client.public_id)})

    assert response.status_code == 200
    assert [(row["client"], row["entry_count"], row["seconds"]) for row in
            response.context["unbilled"]] == [(client, 1, 5400)]  # fmt: skip
    assert "1:30" in response.content.decode()
    assert response.context["form"].initial["client"] == str(client.public_id)


def test_from_time_creates_a_draft_grouped_as_chosen(persona):
    client = ClientFactory(workspace=persona.workspace)
    project = ProjectFactory(client=client, name="Site", hourly_rate=Decimal("100.00"))
    other = ProjectFactory(client=client, name="Other", hourly_rate=Decimal("50.00"))
    entry(project, dt.date(2026, 3, 2), 1)
    entry(project, dt.date(2026, 3, 3), 1)
    left_alone = entry(other, dt.date(2026, 3, 2), 1)

    response = persona.client.post(
        FROM_TIME_URL,
        {
            "client": str(client.public_id),
            "date_from": "2026-03-01",
            "date_to": "2026-03-31",
            "projects": [str(project.public_id)],
            "grouping": "project_day",
        },
    )

    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == page("detail", invoice)
    assert list(invoice.lines.values_list("description", "quantity")) == [
        ("Site — 2026-03-02", Decimal("1.000")),
        ("Site — 2026-03-03", Decimal("1.000")),
    ]
    left_alone.refresh_from_db()
    assert left_alone.invoice_line is None


def test_from_time_without_unbilled_time_shows_the_error_and_creates_nothing(owner):
    client = ClientFactory(workspace=owner.workspace)

    response = owner.client.post(
        FROM_TIME_URL, {"client": str(client.public_id), "grouping": "project"}
    )

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "No unbilled billable time for this client in that period."
    ]
    assert Invoice.objects.count() == 0


def test_from_time_refuses_a_project_of_another_client(owner):
    client = ClientFactory(workspace=owner.workspace)
    other = ProjectFactory(client=ClientFactory(workspace=owner.workspace), name="Elsewhere")
    entry(ProjectFactory(client=client), dt.date(2026, 3, 2), 1)

    response = owner.client.post(
        FROM_TIME_URL,
        {"client": str(client.public_id), "projects": [str(other.public_id)], "grouping": "entry"},
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["projects"]
    assert Invoice.objects.count() == 0


def test_from_time_refuses_another_workspaces_client(owner, stranger):
    foreign = ProjectFactory(client=ClientFactory(workspace=stranger.workspace))
    reserved = entry(foreign, dt.date(2026, 3, 2), 1)

    response = owner.client.post(
        FROM_TIME_URL, {"client": str(foreign.client.public_id), "grouping": "project"}
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["client"]
    assert Invoice.objects.count() == 0
    reserved.refresh_from_db()
    assert reserved.invoice_line is None


# --- Detail -------------------------------------------------------------------------------


def test_detail_of_a_draft_shows_the_current_details_and_draft_actions(persona):
    persona.workspace.name = "Owner Studio"
    persona.workspace.save()
    client = ClientFactory(workspace=persona.workspace, name="Acme", address="1 Road")
    invoice = draft(persona, client=client, lines=service_lines(2, "617.25", "21"))

    response = persona.client.get(page("detail", invoice))

    assert response.status_code == 200
    assert response.context["nav"] == "invoices"
    assert response.context["seller"]["name"] == "Owner Studio"
    assert response.context["buyer"]["name"] == "Acme"
    assert [g.tax for g in response.context["tax_groups"]] == [Decimal("259.25")]
    content = response.content.decode()
    assert "1,234.50 EUR" in content  # subtotal
    assert "1,493.75 EUR" in content  # total
    assert page("edit", invoice) in content
    assert page("issue", invoice) in content
    assert page("delete", invoice) in content
    assert page("payment_new", invoice) not in content
    assert page("void", invoice) not in content


def test_detail_of_an_issued_invoice_shows_the_snapshot_and_its_actions(owner):
    client = ClientFactory(workspace=owner.workspace, name="Acme Old Name")
    invoice = issued(owner, client=client, due_date=dt.date(2025, 1, 31),
                     issue_date=dt.date(2025, 1, 1))  # fmt: skip
    client.name = "Acme New Name"
    client.save()

    response = owner.client.get(page("detail", invoice))

    content = response.content.decode()
    assert response.context["buyer"]["name"] == "Acme Old Name"
    assert "Acme New Name" not in content
    assert invoice.number in content
    assert '<span class="badge warn">overdue</span>' in content
    assert response.context["payment_form"].initial["amount"] == Decimal("121.00")
    assert response.context["payment_form"].initial["date"] == timezone.localdate(
        timezone=owner.workspace.tzinfo
    )
    assert page("payment_new", invoice) in content
    assert page("void", invoice) in content
    assert page("credit_note", invoice) in content
    assert page("edit", invoice) not in content
    assert page("issue", invoice) not in content
    assert page("delete", invoice) not in content


def test_issue_from_the_page_numbers_the_invoice(persona):
    invoice = draft(persona)

    response = persona.client.post(page("issue", invoice), follow=True)

    invoice.refresh_from_db()
    year = timezone.localdate(timezone=persona.workspace.tzinfo).year
    assert (invoice.status, invoice.number) == ("issued", f"{year}-0001")
    assert f"Invoice {year}-0001 issued." in response.content.decode()


def test_issue_without_lines_shows_the_reason_and_changes_nothing(owner):
    invoice = draft(owner, lines=[])
    before = snapshot(invoice)

    response = owner.client.post(page("issue", invoice), follow=True)

    assert "An invoice needs at least one line." in response.content.decode()
    assert snapshot(invoice) == before


# --- Payments, void, credit notes -----------------------------------------------------------


def test_record_a_partial_then_the_last_payment(persona):
    invoice = issued(persona)  # 121.00
    form = {"amount": "21.00", "date": "2026-03-01", "method": "card", "reference": "R1"}

    first = persona.client.post(page("payment_new", invoice), form)
    invoice.refresh_from_db()
    status_after_first = invoice.status
    persona.client.post(page("payment_new", invoice), {**form, "amount": "100.00"})

    assert first.status_code == 302
    assert status_after_first == "partially_paid"
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("paid", Decimal("121.00"))
    assert list(Payment.objects.values_list("reference", "recorded_by")) == [
        ("R1", persona.user.pk),
        ("R1", persona.user.pk),
    ]


def test_an_overpayment_shows_on_the_amount_field_and_changes_nothing(owner):
    invoice = issued(owner)
    before = snapshot(invoice)

    response = owner.client.post(
        page("payment_new", invoice),
        {"amount": "121.01", "date": "2026-03-01", "method": "card", "reference": ""},
    )

    assert response.status_code == 400
    assert response.context["payment_form"].errors["amount"] == [
        "The payment is larger than the balance of 121.00 EUR."
    ]
    assert "The payment is larger than the balance of 121.00 EUR." in response.content.decode()
    assert snapshot(invoice) == before


def test_a_negative_payment_is_a_form_error(owner):
    invoice = issued(owner)
    before = snapshot(invoice)

    response = owner.client.post(
        page("payment_new", invoice), {"amount": "-5", "date": "2026-03-01", "method": "card"}
    )

    assert response.status_code == 400
    assert list(response.context["payment_form"].errors) == ["amount"]
    assert snapshot(invoice) == before


def test_deleting_a_payment_moves_the_status_back(owner):
    invoice = issued(owner)
    payment = services.payment_record(
        invoice=invoice, user=owner.user, amount=invoice.total, date=dt.date(2026, 3, 1),
        method="cash",
    )  # fmt: skip

    response = owner.client.post(page("payment_delete", invoice, payment.public_id))

    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == ("issued", Decimal("0.00"))


def test_void_from_the_page(owner):
    invoice = issued(owner)

    response = owner.client.post(page("void", invoice), {"void-reason": "Duplicate"})

    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "void"
    assert invoice.activities.last().message == "Voided. Duplicate"


def test_credit_note_from_the_page_for_chosen_lines(owner):
    invoice = issued(owner, lines=service_lines(2, "50.00", "0"))
    first_line = invoice.lines.order_by("position").first()

    response = owner.client.post(
        page("credit_note", invoice),
        {"credit-lines": [str(first_line.public_id)], "credit-reason": ""},
    )

    note = Invoice.objects.get(kind="credit_note")
    assert response.status_code == 302
    assert response["Location"] == page("detail", note)
    assert (note.credited_invoice, note.total) == (invoice, Decimal("50.00"))
    note_page = owner.client.get(page("detail", note))
    assert note_page.status_code == 200
    assert invoice.number in note_page.content.decode()


# --- Strangers ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["detail", "edit"])
def test_a_stranger_gets_404_on_the_pages(owner, stranger, name):
    invoice = draft(owner)

    response = stranger.client.get(page(name, invoice))

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "state", "data"),
    [
        ("edit", "draft", formset_post([DESIGN], notes="Mine")),
        ("delete", "draft", {}),
        ("issue", "draft", {}),
        ("void", "issued", {"void-reason": "Mine"}),
        ("credit_note", "issued", {}),
        ("payment_new", "issued", {"amount": "1", "date": "2026-03-01", "method": "cash"}),
    ],
)
def test_a_stranger_gets_404_on_the_actions_and_changes_nothing(owner, stranger, name, state, data):
    invoice = draft(owner) if state == "draft" else issued(owner)
    before = snapshot(invoice)

    response = stranger.client.post(page(name, invoice), data)

    assert response.status_code == 404
    assert snapshot(invoice) == before


def test_a_stranger_cannot_delete_a_payment(owner, stranger):
    invoice = issued(owner)
    payment = services.payment_record(
        invoice=invoice, user=owner.user, amount=Decimal("1"), date=dt.date(2026, 3, 1),
        method="cash",
    )  # fmt: skip
    before = snapshot(invoice)

    response = stranger.client.post(page("payment_delete", invoice, payment.public_id))

    assert response.status_code == 404
    assert snapshot(invoice) == before


# --- Query counts -------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [3, 50])
def test_list_query_count_does_not_grow_with_invoices(owner, rows, django_assert_num_queries):
    for _ in range(rows):
        issued(owner, client=ClientFactory(workspace=owner.workspace))

    # Budget 8. 1 session, 2 user joined with running timer, 3 membership joined with
    # workspace, 4 the overdue prompts (one UNION query; none here, so no prompt states and
    # no "shown" INSERT), 5 receivables per currency, 6 the first page of invoices joined
    # with their clients, with the capped COUNT of the tab's invoices as a column.
    with django_assert_num_queries(6):
        response = owner.client.get(LIST_URL)

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == rows


@pytest.mark.parametrize("rows", [3, 50])
def test_detail_query_count_does_not_grow_with_lines(owner, rows, django_assert_num_queries):
    client = ClientFactory(workspace=owner.workspace)
    project = ProjectFactory(client=client)
    invoice = issued(owner, client=client, lines=service_lines(rows, project=project))
    for _ in range(rows):
        services.payment_record(
            invoice=invoice, user=owner.user, amount=Decimal("1"), date=dt.date(2026, 3, 1),
            method="cash",
        )  # fmt: skip
    services.credit_note_create(
        invoice=invoice, user=owner.user, line_public_ids=[invoice.lines.first().public_id]
    )

    # Budget 10. 1 session, 2 user joined with running timer, 3 membership joined with
    # workspace, 4 the invoice joined with client and credited invoice, 5 its lines joined
    # with projects, 6 payments joined with who recorded them, 7 activity joined with
    # actors, 8 credit notes, 9 the latest deliveries joined with who asked for them.
    with django_assert_num_queries(9):
        response = owner.client.get(page("detail", invoice))

    assert response.status_code == 200
    assert len(response.context["invoice"].lines.all()) == rows
