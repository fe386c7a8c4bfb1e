"""Dates and amounts on the documents a client gets (PDF, portal, e-mail) follow the
workspace's locale; the app's own pages keep their one format."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.template import engines
from django.urls import reverse
from pdfminer.high_level import extract_text

from solodesk.accounts.models import Workspace
from solodesk.core import l10n
from solodesk.core.models import Job
from solodesk.invoicing import pdf, sending, tasks
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.tests.factories import line, make_client, make_issued

D = Decimal
NBSP = "\u00a0"
FAKE_PDF = b"%PDF-1.7\n% fake for tests\n"


@pytest.fixture(autouse=True)
def broker():
    with mock.patch("solodesk.core.services._send_to_broker") as send:
        yield send


@pytest.fixture
def renders(monkeypatch):
    """Counts PDF renders and makes them instant."""
    calls: list[int] = []

    def render(*, invoice):
        calls.append(invoice.pk)
        return FAKE_PDF

    monkeypatch.setattr(pdf, "invoice_pdf_render", render)
    return calls


def _issued(owner, locale: str) -> Invoice:
    """One line of 1,234.50 EUR without tax, issued 27 Nov 2026, due 27 Dec 2026."""
    Workspace.objects.filter(pk=owner.workspace.pk).update(
        locale=locale, payment_details="IBAN DE89 3704 0044 0532 0130 00"
    )
    owner.workspace.refresh_from_db()
    client = make_client(owner.workspace, name="Acme Robotics", email="billing@acme.test")
    return make_issued(
        workspace=owner.workspace,
        user=owner.user,
        client=client,
        issue_date=dt.date(2026, 11, 27),
        due_date=dt.date(2026, 12, 27),
        lines=[line("Design work", quantity="1.5", unit_price="823.00", tax_rate="0")],
    )


def _pdf_text(invoice: Invoice) -> str:
    data = pdf.invoice_pdf_render(invoice=Invoice.objects.get(pk=invoice.pk))
    return " ".join(extract_text(io.BytesIO(data)).split())


# --- the formatting table ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en-US", "1,234,567.50 EUR"),
        ("en-GB", "1,234,567.50 EUR"),
        ("de-DE", "1.234.567,50 EUR"),
        ("fr-FR", f"1{NBSP}234{NBSP}567,50 EUR"),
        ("nl-NL", "1.234.567,50 EUR"),
        ("es-ES", "1.234.567,50 EUR"),
        ("it-IT", "1.234.567,50 EUR"),
        ("pt-BR", "1.234.567,50 EUR"),
        ("sv-SE", f"1{NBSP}234{NBSP}567,50 EUR"),
        ("da-DK", "1.234.567,50 EUR"),
        ("nb-NO", f"1{NBSP}234{NBSP}567,50 EUR"),
        ("pl-PL", f"1{NBSP}234{NBSP}567,50 EUR"),
    ],
)
def test_money_uses_the_locales_separators_and_the_currency_code(locale, expected):
    assert l10n.format_money(D("1234567.5"), "EUR", locale) == expected


@pytest.mark.parametrize(
    ("locale", "expected", "long"),
    [
        ("en-US", "Nov 27, 2026", "November 27, 2026"),
        ("en-GB", "27 Nov 2026", "27 November 2026"),
        ("de-DE", "27.11.2026", "27.11.2026"),
        ("fr-FR", "27/11/2026", "27/11/2026"),
        ("nl-NL", "27-11-2026", "27-11-2026"),
        ("es-ES", "27/11/2026", "27/11/2026"),
        ("it-IT", "27/11/2026", "27/11/2026"),
        ("pt-BR", "27/11/2026", "27/11/2026"),
        ("sv-SE", "2026-11-27", "2026-11-27"),
        ("da-DK", "27.11.2026", "27.11.2026"),
        ("nb-NO", "27.11.2026", "27.11.2026"),
        ("pl-PL", "27.11.2026", "27.11.2026"),
    ],
)
def test_dates_follow_the_locales_order(locale, expected, long):
    day = dt.date(2026, 11, 27)
    assert l10n.format_date(day, locale) == expected
    assert l10n.format_date(day, locale, long=True) == long


def test_single_digit_days_and_months_are_padded_only_in_numeric_dates():
    day = dt.date(2026, 3, 2)
    assert l10n.format_date(day, "en-GB") == "2 Mar 2026"
    assert l10n.format_date(day, "en-US") == "Mar 2, 2026"
    assert l10n.format_date(day, "de-DE") == "02.03.2026"


def test_every_locale_choice_has_a_format():
    assert [code for code, _label in l10n.LOCALE_CHOICES] == list(l10n.LOCALES)
    assert len(l10n.LOCALES) == 12


def test_money_rounds_half_up_to_the_currencys_minor_unit_and_keeps_the_sign():
    assert l10n.format_money(D("0.005"), "EUR", "de-DE") == "0,01 EUR"
    assert l10n.format_money(D("-1234.5"), "EUR", "de-DE") == "-1.234,50 EUR"
    assert l10n.format_money(D("1234567.5"), "JPY", "de-DE") == "1.234.568 JPY"
    assert l10n.format_money(D("999.99"), "USD", "en-US") == "999.99 USD"


def test_an_unknown_or_empty_locale_reads_as_the_default():
    assert l10n.format_money(D("1234.5"), "EUR", "xx-XX") == "1,234.50 EUR"
    assert l10n.format_date(dt.date(2026, 11, 27), "") == "27 Nov 2026"


def test_template_filters_format_by_locale():
    template = engines["django"].from_string(
        "{% load money %}{% money_fmt currency locale as fmt %}"
        "{{ amount|money_locale:fmt }}|{{ day|date_locale:locale }}|"
        "{{ day|date_locale_long:locale }}|{{ qty|quantity_locale:locale }}|"
        "{{ missing|money_locale:fmt }}|{{ missing|date_locale:locale }}"
    )
    context = {"amount": D("1234.5"), "day": dt.date(2026, 11, 27), "qty": D("1.500")}

    assert template.render({**context, "currency": "EUR", "locale": "de-DE"}) == (
        "1.234,50 EUR|27.11.2026|27.11.2026|1,5||"
    )
    assert template.render({**context, "currency": "USD", "locale": "en-US"}) == (
        "1,234.50 USD|Nov 27, 2026|November 27, 2026|1.5||"
    )


# --- the PDF -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_german_workspaces_pdf_shows_german_numbers_and_dates(owner):
    text = _pdf_text(_issued(owner, "de-DE"))

    assert "1.234,50 EUR" in text
    assert "1,234.50" not in text
    # pdfminer reads the facts table column by column: labels, then values.
    assert "Issue date Due date 2026-0001 27.11.2026 27.12.2026" in text
    assert "1,5 hours 823,00 EUR" in text
    assert "Please pay 1.234,50 EUR by 27.12.2026" in text


@pytest.mark.django_db
def test_an_american_workspaces_pdf_shows_american_numbers_and_dates(owner):
    text = _pdf_text(_issued(owner, "en-US"))

    assert "1,234.50 EUR" in text
    assert "Issue date Due date 2026-0001 Nov 27, 2026 Dec 27, 2026" in text
    assert "1.5 hours 823.00 EUR" in text
    assert "Please pay 1,234.50 EUR by Dec 27, 2026" in text


@pytest.mark.django_db
def test_the_default_british_pdf_keeps_its_format(owner):
    text = _pdf_text(_issued(owner, "en-GB"))

    assert "1,234.50 EUR" in text
    assert "Issue date Due date 2026-0001 27 Nov 2026 27 Dec 2026" in text


@pytest.mark.django_db
def test_changing_the_locale_makes_the_stored_pdf_stale_and_it_is_rendered_again(owner, renders):
    invoice = _issued(owner, "en-GB")
    pdf.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=invoice.pk))
    before = Invoice.objects.get(pk=invoice.pk)
    assert pdf.invoice_pdf_is_current(before) is True

    Workspace.objects.filter(pk=owner.workspace.pk).update(locale="de-DE")
    after = Invoice.objects.get(pk=invoice.pk)

    assert pdf.invoice_pdf_state(after) != before.pdf_state
    assert pdf.invoice_pdf_is_current(after) is False
    pdf.invoice_pdf_ensure(invoice=after)
    assert renders == [invoice.pk, invoice.pk]
    assert Invoice.objects.get(pk=invoice.pk).pdf_state == pdf.invoice_pdf_state(after)


# --- the portal and the e-mail -------------------------------------------------------------


@pytest.mark.django_db
def test_the_portal_page_follows_the_workspaces_locale(owner, client):
    invoice = _issued(owner, "de-DE")
    sending.portal_link_regenerate(invoice=invoice, user=owner.user)
    invoice.refresh_from_db()

    html = client.get(reverse("portal:invoice", args=[invoice.portal_token])).content.decode()

    assert "1.234,50 EUR" in html
    assert "1,234.50" not in html
    assert "<strong>27.12.2026</strong>" in html
    assert "Issued <strong>27.11.2026</strong>" in html


@pytest.mark.django_db
def test_the_apps_own_invoice_page_keeps_its_format(owner):
    invoice = _issued(owner, "de-DE")

    html = owner.client.get(reverse("invoicing:detail", args=[invoice.public_id])).content
    assert "1,234.50 EUR" in html.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("locale", "amount_line", "due_line"),
    [
        ("de-DE", "Amount due: 1.234,50 EUR", "Due date: 27.12.2026"),
        ("en-US", "Amount due: 1,234.50 EUR", "Due date: December 27, 2026"),
        ("en-GB", "Amount due: 1,234.50 EUR", "Due date: 27 December 2026"),
    ],
)
def test_the_email_body_follows_the_workspaces_locale(
    owner, renders, time_machine, locale, amount_line, due_line
):
    time_machine.move_to(dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC))
    invoice = _issued(owner, locale)
    delivery = sending.invoice_send_start(invoice=invoice, user=owner.user)

    tasks.invoice_send_task(delivery.job.pk)

    assert Job.objects.get(pk=delivery.job.pk).status == Job.Status.SUCCEEDED
    lines = mail.outbox[0].body.splitlines()
    assert amount_line in lines
    assert due_line in lines
