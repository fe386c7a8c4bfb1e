"""The client portal: the secret link shows one document and nothing else, records the
client's first view, serves the PDF or has it prepared in the background."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from unittest import mock

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse

from solodesk.core.models import Job
from solodesk.invoicing import pdf, sending, services
from solodesk.invoicing.models import Invoice, InvoiceActivity
from solodesk.invoicing.tests.factories import line, make_client, make_draft, make_issued

FAKE_PDF = b"%PDF-1.7\n% fake for tests\n"


@pytest.fixture(autouse=True)
def broker():
    with mock.patch("solodesk.core.services._send_to_broker") as send:
        yield send


@pytest.fixture
def renders(monkeypatch):
    calls = []

    def render(*, invoice):
        calls.append(invoice.pk)
        return FAKE_PDF

    monkeypatch.setattr(pdf, "invoice_pdf_render", render)
    return calls


def linked_invoice(owner, lines=None, **kwargs) -> Invoice:
    """An issued invoice with a client link, as after sending it."""
    workspace = owner.workspace
    workspace.name = "Owner Studio"
    workspace.address = "1 Harbour Road\nBristol"
    workspace.tax_id = "GB123456789"
    workspace.payment_details = "IBAN GB33 BUKB 2020 1555 5555 55"
    workspace.save()
    client = make_client(workspace, name="Acme Robotics", email="billing@acme.test")
    invoice = make_issued(
        workspace=workspace,
        user=owner.user,
        client=client,
        lines=lines
        or [
            line("Design work", quantity="10", unit_price="100.00", tax_rate="21"),
            line("Hosting", quantity="1", unit_price="50.00", tax_rate="0", unit="pieces"),
        ],
        **kwargs,
    )
    sending.portal_link_regenerate(invoice=invoice, user=owner.user)
    invoice.refresh_from_db()
    return invoice


def portal(invoice: Invoice) -> str:
    return reverse("portal:invoice", args=[invoice.portal_token])


def portal_pdf(invoice: Invoice) -> str:
    return reverse("portal:invoice_pdf", args=[invoice.portal_token])


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_portal_url_is_the_site_url_with_the_token(owner, settings):
    settings.SITE_URL = "https://desk.example.com"
    invoice = linked_invoice(owner)

    assert sending.portal_url(invoice) == f"https://desk.example.com/p/{invoice.portal_token}/"


def test_the_page_shows_the_invoice_amount_due_due_date_and_how_to_pay(owner, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC))
    invoice = linked_invoice(owner, issue_date=dt.date(2026, 3, 2))
    services.payment_record(
        invoice=invoice,
        user=owner.user,
        amount=Decimal("260.00"),
        date=dt.date(2026, 3, 5),
        method="bank_transfer",
        reference="TRX-1",
    )

    response = DjangoClient().get(portal(invoice))

    assert response.status_code == 200
    text = text_of(response)
    assert f"Invoice {invoice.number}" in text
    assert "Amount due 1,000.00 EUR Due by 1 Apr 2026" in text
    assert "Partly paid" in text
    assert "How to pay IBAN GB33 BUKB 2020 1555 5555 55" in text
    assert f"Please mention {invoice.number} as the payment reference." in text
    assert "From Owner Studio 1 Harbour Road Bristol Tax id GB123456789" in text
    assert "To Acme Robotics" in text
    assert "Design work 10 hours 100.00 EUR 21 % 1,000.00 EUR" in text
    assert "Hosting 1 pieces 50.00 EUR 0 % 50.00 EUR" in text
    assert "Tax 21 % on 1,000.00 EUR 210.00 EUR" in text
    assert "Total 1,260.00 EUR Paid −260.00 EUR Amount due 1,000.00 EUR" in text
    assert "5 Mar 2026 Bank transfer 260.00 EUR" in text
    # What is internal stays inside: who recorded the payment, its reference, the activity.
    assert owner.user.email not in text
    assert "TRX-1" not in text


def test_a_paid_invoice_says_so_and_shows_no_payment_instructions(owner):
    invoice = linked_invoice(owner)
    services.payment_record(
        invoice=invoice,
        user=owner.user,
        amount=invoice.total,
        date=dt.date(2026, 3, 5),
        method="card",
    )

    text = text_of(DjangoClient().get(portal(invoice)))

    assert "Paid in full on 5 Mar 2026. Thank you!" in text
    assert "How to pay" not in text


def test_an_overdue_invoice_says_when_it_was_due(owner, time_machine):
    time_machine.move_to(dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC))
    invoice = linked_invoice(owner, issue_date=dt.date(2026, 3, 2))

    text = text_of(DjangoClient().get(portal(invoice)))

    assert "Overdue" in text
    assert "Was due on 1 Apr 2026" in text


def test_a_credit_note_shows_the_amount_credited_and_the_invoice_it_corrects(owner):
    invoice = linked_invoice(owner)
    note = services.credit_note_create(invoice=invoice, user=owner.user)
    sending.portal_link_regenerate(invoice=note, user=owner.user)
    note.refresh_from_db()

    text = text_of(DjangoClient().get(portal(note)))

    assert f"Credit note {note.number}" in text
    assert f"Corrects invoice {invoice.number}." in text
    assert "Amount credited 1,260.00 EUR" in text
    assert "How to pay" not in text


def test_the_first_view_by_the_client_is_recorded_once(owner):
    invoice = linked_invoice(owner)

    DjangoClient().get(portal(invoice))
    viewed_at = Invoice.objects.get(pk=invoice.pk).portal_viewed_at
    DjangoClient().get(portal(invoice))

    assert viewed_at is not None
    assert Invoice.objects.get(pk=invoice.pk).portal_viewed_at == viewed_at
    assert invoice.activities.filter(action=InvoiceActivity.Action.VIEWED).count() == 1


def test_the_freelancer_opening_their_own_link_is_not_the_clients_view(owner, member):
    invoice = linked_invoice(owner)

    assert owner.client.get(portal(invoice)).status_code == 200
    assert member.client.get(portal(invoice)).status_code == 200

    assert Invoice.objects.get(pk=invoice.pk).portal_viewed_at is None
    assert not invoice.activities.filter(action=InvoiceActivity.Action.VIEWED).exists()


def test_a_logged_in_stranger_opening_the_link_counts_as_a_view(owner, stranger):
    invoice = linked_invoice(owner)

    stranger.client.get(portal(invoice))

    assert Invoice.objects.get(pk=invoice.pk).portal_viewed_at is not None


def test_a_wrong_token_is_a_plain_404(owner):
    invoice = linked_invoice(owner)
    wrong = invoice.portal_token[:-1] + ("A" if invoice.portal_token[-1] != "A" else "B")

    for url in (f"/p/{wrong}/", f"/p/{wrong}/pdf", "/p/none/", "/p/None/"):
        assert DjangoClient().get(url).status_code == 404
    assert Invoice.objects.get(pk=invoice.pk).portal_viewed_at is None


def test_a_revoked_or_replaced_link_is_a_404(owner):
    invoice = linked_invoice(owner)
    old = portal(invoice)

    sending.portal_link_regenerate(invoice=invoice, user=owner.user)

    assert DjangoClient().get(old).status_code == 404
    new = portal(Invoice.objects.get(pk=invoice.pk))
    assert DjangoClient().get(new).status_code == 200

    sending.portal_link_revoke(invoice=invoice, user=owner.user)

    assert DjangoClient().get(new).status_code == 404
    assert DjangoClient().get(new + "pdf").status_code == 404


def test_a_draft_is_never_shown_even_with_a_token(owner):
    draft = make_draft(workspace=owner.workspace, user=owner.user)
    Invoice.objects.filter(pk=draft.pk).update(portal_token="x" * 32)

    assert DjangoClient().get("/p/" + "x" * 32 + "/").status_code == 404


def test_the_page_links_to_nothing_but_its_own_pdf_and_uses_no_app_layout(owner):
    invoice = linked_invoice(owner)

    # Even for the logged-in freelancer: no navigation, timer or log-out form.
    response = owner.client.get(portal(invoice))

    html = response.content.decode()
    assert re.findall(r'(?:href|src|action)="([^"]*)"', html) == [portal_pdf(invoice)]
    assert "Log out" not in html
    assert "/invoices/" not in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_the_portal_is_read_only(owner):
    invoice = linked_invoice(owner)

    response = DjangoClient().post(portal(invoice))

    assert response.status_code == 405


@pytest.mark.parametrize("rows", [3, 50])
def test_portal_query_count_does_not_grow_with_lines_or_payments(
    owner, rows, django_assert_num_queries
):
    invoice = linked_invoice(
        owner,
        lines=[
            line(f"Work {n}", quantity="1", unit_price="100.00", tax_rate=str(n % 3 * 10))
            for n in range(rows)
        ],
    )
    for _ in range(rows):
        services.payment_record(
            invoice=invoice,
            user=owner.user,
            amount=Decimal("1.00"),
            date=dt.date(2026, 3, 3),
            method="cash",
        )
    client = DjangoClient()

    # Budget 6. The client's first visit: 1 the invoice by its token (joined with the
    # invoice a credit note corrects), 2 its lines, 3 its payments, 4 the conditional UPDATE
    # of portal_viewed_at, 5 the "viewed" activity row, 6 the workspace's active webhook
    # endpoints (invoice.viewed: none listen, so no event). No session, user or workspace.
    with django_assert_num_queries(6):
        first = client.get(portal(invoice))
    # Every later visit: 1 the invoice, 2 its lines, 3 its latest payments.
    with django_assert_num_queries(3):
        later = client.get(portal(invoice))

    assert first.status_code == later.status_code == 200
    assert len(later.context["invoice"].lines.all()) == rows
    # The latest 20 payments at most (the amount paid counts them all).
    assert later.content.count(b'<td class="num">1.00 EUR</td>') == min(rows, 20)
    assert (b'data-testid="payments-more"' in later.content) == (rows > 20)


# --- the PDF -------------------------------------------------------------------------------


def test_the_pdf_is_served_when_it_is_current(owner, renders):
    invoice = linked_invoice(owner)
    pdf.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=invoice.pk))

    response = DjangoClient().get(portal_pdf(invoice))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'
    assert b"".join(response.streaming_content) == FAKE_PDF
    assert Job.objects.count() == 0


def test_a_pdf_not_rendered_yet_is_prepared_in_the_background_never_in_the_request(
    owner, renders, broker, django_capture_on_commit_callbacks
):
    invoice = linked_invoice(owner)

    with django_capture_on_commit_callbacks(execute=True):
        first = DjangoClient().get(portal_pdf(invoice))
    second = DjangoClient().get(portal_pdf(invoice) + "?attempt=1")

    assert renders == []
    assert (first.status_code, second.status_code) == (202, 202)
    job = Job.objects.get()
    assert (job.kind, job.params, job.owner) == (
        Job.Kind.INVOICE_PDF,
        {"invoice_id": invoice.pk},
        owner.user,
    )
    broker.assert_called_once_with(job.pk, "solodesk.invoicing.tasks.invoice_pdf_task")
    html = first.content.decode()
    assert "The PDF is being prepared." in html
    assert f'content="2;url={portal_pdf(invoice)}?attempt=1"' in html


def test_the_pending_pdf_page_stops_reloading_after_a_minute(owner, renders):
    invoice = linked_invoice(owner)

    response = DjangoClient().get(portal_pdf(invoice) + "?attempt=30")

    html = response.content.decode()
    assert 'http-equiv="refresh"' not in html
    assert "The PDF is not ready yet. Please try again in a few minutes." in html


def test_a_payment_makes_the_stored_pdf_stale_so_the_portal_prepares_a_new_one(owner, renders):
    invoice = linked_invoice(owner)
    pdf.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=invoice.pk))
    services.payment_record(
        invoice=invoice,
        user=owner.user,
        amount=Decimal("10.00"),
        date=dt.date(2026, 3, 3),
        method="cash",
    )

    response = DjangoClient().get(portal_pdf(invoice))

    assert response.status_code == 202
    assert Job.objects.filter(kind=Job.Kind.INVOICE_PDF).count() == 1


def test_a_void_invoice_says_it_was_cancelled_and_nothing_is_due(owner):
    invoice = linked_invoice(owner)
    services.invoice_void(invoice=invoice, user=owner.user, reason="Wrong client")

    text = text_of(DjangoClient().get(portal(invoice)))

    assert "Cancelled" in text
    assert "Nothing due This invoice was cancelled." in text
    assert "How to pay" not in text
