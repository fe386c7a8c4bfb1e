"""The invoicing admin: changelists without N+1 (django-zeal is on for every request, and the
count is the same at 3 and 50 rows), issued invoices read-only, draft edits recomputed by the
service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse

from solodesk.accounts.models import User
from solodesk.invoicing import services
from solodesk.invoicing.tests.factories import line, make_draft, make_issued

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_web(db):
    superuser = User.objects.create_superuser(email="root@example.com", password="root pass 123")
    web = DjangoClient()
    web.force_login(superuser)
    return web


def _fill(owner, count: int) -> None:
    for _ in range(count):
        invoice = make_issued(workspace=owner.workspace, user=owner.user)
        services.payment_record(
            invoice=invoice,
            user=owner.user,
            amount=D("1.00"),
            date=dt.date(2026, 3, 3),
            method="cash",
        )


# Each changelist: 1. session, 2. user, 3. filtered count, 4. total count, 5. the page of
# rows joined with what the columns show (list_select_related), then the filters' own
# queries: the date hierarchy's 6. min/max and 7. distinct days (the counter list instead has
# 6. its distinct years for the year filter).
CHANGELISTS = [
    ("admin:invoicing_invoice_changelist", 7),
    ("admin:invoicing_payment_changelist", 7),
    ("admin:invoicing_documentcounter_changelist", 6),
    ("admin:invoicing_invoiceactivity_changelist", 7),
]


@pytest.mark.parametrize("count", [3, 50])
@pytest.mark.parametrize(("url_name", "queries"), CHANGELISTS)
def test_changelists_take_the_same_queries_at_3_and_50_rows(
    admin_web, owner, count, url_name, queries, django_assert_num_queries
):
    _fill(owner, count)
    with django_assert_num_queries(queries):
        response = admin_web.get(reverse(url_name))
    assert response.status_code == 200


def test_an_issued_invoice_shows_its_lines_read_only(admin_web, owner):
    invoice = make_issued(workspace=owner.workspace, user=owner.user)
    response = admin_web.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="lines-0-quantity"' not in html
    assert 'name="notes"' not in html
    assert "Design work" in html


def _post_data(response) -> dict[str, str]:
    """The change form's current values, as the browser would post them back."""
    data: dict[str, str] = {"_save": "Save"}
    form = response.context["adminform"].form
    for name in form.fields:
        value = form.initial.get(name)
        data[name] = "" if value is None else str(value)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = str(value)
        for inline_form in formset.forms:
            for name in inline_form.fields:
                value = inline_form.initial.get(name)
                if name == "id":
                    value = inline_form.instance.pk
                if hasattr(value, "pk"):
                    value = value.pk
                data[inline_form.add_prefix(name)] = "" if value is None else str(value)
    return data


def test_editing_a_drafts_line_in_the_admin_recomputes_its_totals(admin_web, owner):
    invoice = make_draft(
        workspace=owner.workspace,
        user=owner.user,
        lines=[line(quantity="1", unit_price="100.00", tax_rate="21")],
    )
    url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
    data = _post_data(admin_web.get(url))
    data["notes"] = "Edited in the admin"
    data["lines-0-quantity"] = "2"
    response = admin_web.post(url, data)
    assert response.status_code == 302, [
        (inline.formset.prefix, inline.formset.errors, inline.formset.non_form_errors())
        for inline in response.context["inline_admin_formsets"]
    ]
    invoice.refresh_from_db()
    assert invoice.notes == "Edited in the admin"
    assert invoice.lines.get().total == D("200.00")
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        D("200.00"),
        D("42.00"),
        D("242.00"),
    )
    assert list(invoice.activities.values_list("action", flat=True)) == ["created", "updated"]


def test_the_admin_cannot_add_or_delete_invoices(admin_web, owner):
    invoice = make_issued(workspace=owner.workspace, user=owner.user)
    assert admin_web.get(reverse("admin:invoicing_invoice_add")).status_code == 403
    assert (
        admin_web.get(reverse("admin:invoicing_invoice_delete", args=[invoice.pk])).status_code
        == 403
    )
