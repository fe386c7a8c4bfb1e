"""Fixed-fee projects bill their fee or a chosen part of it (service, API and web form)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from solodesk.core.exceptions import ApplicationError
from solodesk.invoicing import services
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.tests.factories import make_client, make_entry, make_project
from solodesk.projects.models import Project
from solodesk.timetracking.models import TimeEntry

D = Decimal
pytestmark = pytest.mark.django_db
API_URL = "/api/v1/invoices/from-time"


@pytest.fixture
def audit(owner):
    """A fixed-fee project (4,500.00 EUR) with two hours of tracked time, and an hourly one."""
    client = make_client(owner.workspace, currency="EUR")
    project = make_project(
        client,
        name="Security audit",
        billing_method=Project.BillingMethod.FIXED,
        hourly_rate=None,
        fixed_fee=D("4500.00"),
    )
    hourly = make_project(client, name="Support", hourly_rate=D("100.00"))
    start = dt.datetime(2026, 3, 2, 9, tzinfo=owner.workspace.tzinfo)
    make_entry(project=project, user=owner.user, start=start, minutes=120)
    make_entry(project=hourly, user=owner.user, start=start, minutes=90)
    return client


def _lines(invoice: Invoice) -> list[tuple]:
    return [
        (li.description, li.quantity, li.unit, li.unit_price, li.total)
        for li in invoice.lines.order_by("position")
    ]


def _from_time(owner, client, **kwargs) -> Invoice:
    return services.invoice_create_from_time(
        workspace=owner.workspace,
        user=owner.user,
        client=client,
        date_from=None,
        date_to=None,
        **kwargs,
    )


def test_half_of_the_fixed_fee_is_billed_and_hourly_lines_are_unchanged(owner, audit):
    invoice = _from_time(owner, audit, fixed_fee_percent=D("50"))

    assert _lines(invoice) == [
        ("Security audit — fixed fee (50 %)", D("1.000"), "pieces", D("2250.00"), D("2250.00")),
        ("Support — 2026-03-02", D("1.500"), "hours", D("100.00"), D("150.00")),
    ]
    assert invoice.total == D("2400.00")
    assert TimeEntry.objects.filter(invoice_line__isnull=True).count() == 0


def test_a_part_with_cents_is_rounded_half_up_to_the_currency(owner, audit):
    invoice = _from_time(owner, audit, fixed_fee_percent=D("33.33"))
    # 4500.00 × 33.33 % = 1499.85 exactly.
    assert _lines(invoice)[0][:4] == (
        "Security audit — fixed fee (33.33 %)",
        D("1.000"),
        "pieces",
        D("1499.85"),
    )

    services.invoice_delete_draft(invoice=invoice, user=owner.user)
    Project.objects.filter(name="Security audit").update(fixed_fee=D("50.00"))
    invoice = _from_time(owner, audit, fixed_fee_percent=D("33.33"))
    # 50.00 × 33.33 % = 16.665 → 16.67 (half-up; banker's rounding would give 16.66).
    assert _lines(invoice)[0][3:] == (D("16.67"), D("16.67"))


def test_without_a_part_or_at_100_percent_the_whole_fee_is_billed(owner, audit):
    invoice = _from_time(owner, audit)
    assert _lines(invoice)[0][:4] == (
        "Security audit — fixed fee",
        D("1.000"),
        "pieces",
        D("4500.00"),
    )
    services.invoice_delete_draft(invoice=invoice, user=owner.user)

    invoice = _from_time(owner, audit, fixed_fee_percent=D("100"))
    assert _lines(invoice)[0][:4] == (
        "Security audit — fixed fee",
        D("1.000"),
        "pieces",
        D("4500.00"),
    )


@pytest.mark.parametrize("percent", [D("0"), D("-10"), D("100.01"), D("12.345"), D("NaN"), "x"])
def test_a_bad_part_is_refused_on_its_field_and_nothing_is_created(owner, audit, percent):
    with pytest.raises(ApplicationError) as error:
        _from_time(owner, audit, fixed_fee_percent=percent)

    assert list(error.value.errors) == ["fixed_fee_percent"]
    assert not Invoice.objects.exists()
    assert TimeEntry.objects.filter(invoice_line__isnull=False).count() == 0


def test_api_bills_the_chosen_part(owner, audit):
    response = owner.api().post(
        API_URL,
        {"client_id": str(audit.public_id), "fixed_fee_percent": "50"},
        content_type="application/json",
    )

    assert response.status_code == 201
    first = response.json()["lines"][0]
    assert (first["description"], first["unit_price"], first["total"]) == (
        "Security audit — fixed fee (50 %)",
        "2250.00",
        "2250.00",
    )


@pytest.mark.parametrize("percent", [0, -5, 100.5, "abc", "12.345"])
def test_api_refuses_a_bad_part_with_422_naming_the_field(owner, audit, percent):
    response = owner.api().post(
        API_URL,
        {"client_id": str(audit.public_id), "fixed_fee_percent": percent},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["fixed_fee_percent"]
    assert not Invoice.objects.exists()


def test_web_form_bills_the_chosen_part(owner, audit):
    response = owner.client.post(
        reverse("invoicing:from_time"),
        {"client": str(audit.public_id), "grouping": "project", "fixed_fee_percent": "50"},
    )

    invoice = Invoice.objects.get()
    assert response.status_code == 302
    assert _lines(invoice)[0][3] == D("2250.00")


def test_web_form_leaves_the_part_empty_for_the_whole_fee(owner, audit):
    owner.client.post(
        reverse("invoicing:from_time"),
        {"client": str(audit.public_id), "grouping": "project", "fixed_fee_percent": ""},
    )

    assert _lines(Invoice.objects.get())[0][3] == D("4500.00")


@pytest.mark.parametrize("percent", ["0", "101", "abc"])
def test_web_form_shows_a_bad_part_as_a_field_error_and_creates_nothing(owner, audit, percent):
    response = owner.client.post(
        reverse("invoicing:from_time"),
        {"client": str(audit.public_id), "grouping": "project", "fixed_fee_percent": percent},
    )

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["fixed_fee_percent"]
    assert 'name="fixed_fee_percent"' in response.content.decode()
    assert not Invoice.objects.exists()
