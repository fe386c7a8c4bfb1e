"""The invoice page's Send form, Download PDF, client link and deliveries list."""

from __future__ import annotations

import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse

from solodesk.core.models import Job
from solodesk.invoicing import pdf, sending, tasks
from solodesk.invoicing.models import Invoice, InvoiceActivity, InvoiceDelivery
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


@pytest.fixture(params=["owner", "member"])
def persona(request):
    return request.getfixturevalue(request.param)


def issued(persona, email="billing@acme.test", lines=None) -> Invoice:
    client = make_client(persona.workspace, name="Acme Robotics", email=email)
    return make_issued(workspace=persona.workspace, user=persona.user, client=client, lines=lines)


def page(name: str, invoice: Invoice, *args) -> str:
    return reverse(f"invoicing:{name}", args=[invoice.public_id, *args])


def test_the_invoice_page_offers_send_pdf_and_the_client_link(persona):
    invoice = issued(persona)

    response = persona.client.get(page("detail", invoice))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'action="{page("send", invoice)}"' in html
    assert 'name="send-to_email" value="billing@acme.test"' in html
    assert f'href="{page("pdf", invoice)}"' in html
    assert "Sending makes a secret link for the client" in html
    assert f'action="{page("portal_link_regenerate", invoice)}"' in html


def test_a_draft_page_has_a_pdf_link_but_no_send_form_or_client_link(owner):
    draft = make_draft(workspace=owner.workspace, user=owner.user)

    html = owner.client.get(page("detail", draft)).content.decode()

    assert f'href="{page("pdf", draft)}"' in html
    assert page("send", draft) not in html
    assert 'data-testid="client-link"' not in html


def test_send_queues_the_email_and_comes_back_to_the_deliveries(
    persona, broker, django_capture_on_commit_callbacks
):
    invoice = issued(persona)

    with django_capture_on_commit_callbacks(execute=True):
        response = persona.client.post(page("send", invoice), {"send-to_email": "boss@acme.test"})

    assert response.status_code == 302
    assert response["Location"] == page("detail", invoice) + "#deliveries"
    delivery = InvoiceDelivery.objects.get()
    assert (delivery.to_email, delivery.requested_by) == ("boss@acme.test", persona.user)
    broker.assert_called_once_with(delivery.job.pk, "solodesk.invoicing.tasks.invoice_send_task")
    followed = persona.client.get(response["Location"])
    html = followed.content.decode()
    assert f"Invoice {invoice.number} is on its way to boss@acme.test" in html
    assert 'data-testid="delivery" data-status="queued"' in html
    assert page("delivery_status", invoice, delivery.public_id) in html
    assert mail.outbox == []


def test_send_with_an_empty_address_uses_the_clients(owner):
    invoice = issued(owner)

    owner.client.post(page("send", invoice), {"send-to_email": ""})

    assert InvoiceDelivery.objects.get().to_email == "billing@acme.test"


def test_send_with_no_address_at_all_shows_the_error_on_the_field(owner):
    invoice = issued(owner, email="")

    response = owner.client.post(page("send", invoice), {"send-to_email": ""})

    assert response.status_code == 400
    assert response.context["send_form"].errors == {
        "to_email": ["This client has no e-mail address: enter one to send the invoice to."]
    }
    assert not InvoiceDelivery.objects.exists()


def test_send_with_a_malformed_address_is_a_form_error(owner):
    invoice = issued(owner)

    response = owner.client.post(page("send", invoice), {"send-to_email": "nope"})

    assert response.status_code == 400
    assert response.context["send_form"].errors == {"to_email": ["Enter a valid email address."]}
    assert not InvoiceDelivery.objects.exists()


def test_send_a_draft_is_refused_with_a_message(owner):
    draft = make_draft(workspace=owner.workspace, user=owner.user)

    response = owner.client.post(page("send", draft), {"send-to_email": "a@b.test"}, follow=True)

    assert "Issue the invoice before sending it" in response.content.decode()
    assert not InvoiceDelivery.objects.exists()


def test_stranger_cannot_send_download_or_change_the_link(owner, stranger):
    invoice = issued(owner)
    sending.portal_link_regenerate(invoice=invoice, user=owner.user)
    token = Invoice.objects.get(pk=invoice.pk).portal_token

    responses = [
        stranger.client.post(page("send", invoice), {"send-to_email": "x@y.test"}),
        stranger.client.get(page("pdf", invoice)),
        stranger.client.post(page("portal_link_regenerate", invoice)),
        stranger.client.post(page("portal_link_revoke", invoice)),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert not InvoiceDelivery.objects.exists()
    assert not Job.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).portal_token == token


def test_download_pdf_starts_a_job_and_goes_to_its_page_when_not_rendered(persona, renders):
    invoice = issued(persona)

    response = persona.client.get(page("pdf", invoice))

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("core:job_detail", args=[job.public_id])
    assert (job.kind, job.owner) == (Job.Kind.INVOICE_PDF, persona.user)
    assert renders == []
    tasks.invoice_pdf_task(job.pk)
    download = persona.client.get(reverse("core:job_download", args=[job.public_id]))
    assert b"".join(download.streaming_content) == FAKE_PDF


def test_download_pdf_serves_the_current_file(owner, renders):
    invoice = issued(owner)
    pdf.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=invoice.pk))

    response = owner.client.get(page("pdf", invoice))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == FAKE_PDF
    assert not Job.objects.exists()


def test_make_then_replace_then_revoke_the_client_link(persona):
    invoice = issued(persona)

    persona.client.post(page("portal_link_regenerate", invoice))
    first = Invoice.objects.get(pk=invoice.pk).portal_token
    html = persona.client.get(page("detail", invoice)).content.decode()
    persona.client.post(page("portal_link_regenerate", invoice))
    second = Invoice.objects.get(pk=invoice.pk).portal_token
    response = persona.client.post(page("portal_link_revoke", invoice))

    assert first and second and first != second
    assert f"/p/{first}/" in html
    assert "Not opened by the client yet." in html
    assert response["Location"] == page("detail", invoice) + "#client-link"
    assert Invoice.objects.get(pk=invoice.pk).portal_token is None
    assert list(
        invoice.activities.filter(action=InvoiceActivity.Action.PORTAL_LINK_RESET).values_list(
            "message", flat=True
        )
    ) == [
        "Client link created.",
        "New client link; the old one no longer works.",
        "Client link revoked.",
    ]
    final = persona.client.get(page("detail", invoice)).content.decode()
    assert "The link was revoked" not in final  # never sent: it offers to make one
    assert "Make a link" in final


def test_the_delivery_row_polls_while_queued_and_stops_once_sent(owner, renders):
    invoice = issued(owner)
    delivery = sending.invoice_send_start(invoice=invoice, user=owner.user)
    status_url = page("delivery_status", invoice, delivery.public_id)

    queued = owner.client.get(status_url).content.decode()
    tasks.invoice_send_task(delivery.job.pk)
    sent = owner.client.get(status_url).content.decode()

    assert 'data-status="queued"' in queued
    assert 'hx-trigger="every 2s"' in queued
    assert 'data-status="sent"' in sent
    assert "hx-get" not in sent
    detail = owner.client.get(page("detail", invoice)).content.decode()
    assert "Send again" in detail
    assert "Sent: Sent to billing@acme.test." in detail


def test_a_failed_delivery_shows_why(owner, renders):
    invoice = issued(owner)
    delivery = sending.invoice_send_start(invoice=invoice, user=owner.user)
    refused = smtplib.SMTPRecipientsRefused({"billing@acme.test": (550, b"No such user")})
    with mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=refused
    ):
        tasks.invoice_send_task(delivery.job.pk)

    html = owner.client.get(page("delivery_status", invoice, delivery.public_id)).content.decode()

    assert 'data-status="failed"' in html
    assert "The mail server refused the address" in html


def test_stranger_gets_404_for_a_delivery_row(owner, stranger):
    invoice = issued(owner)
    delivery = sending.invoice_send_start(invoice=invoice, user=owner.user)

    response = stranger.client.get(page("delivery_status", invoice, delivery.public_id))

    assert response.status_code == 404


def test_delivery_row_query_count(owner, django_assert_num_queries):
    invoice = issued(owner)
    delivery = sending.invoice_send_start(invoice=invoice, user=owner.user)

    # 1 session, 2 user joined with running timer, 3 membership joined with workspace,
    # 4 the delivery joined with its invoice and who asked for it.
    with django_assert_num_queries(4):
        response = owner.client.get(page("delivery_status", invoice, delivery.public_id))

    assert response.status_code == 200


@pytest.mark.parametrize("rows", [3, 50])
def test_detail_query_count_does_not_grow_with_deliveries(owner, rows, django_assert_num_queries):
    invoice = issued(owner, lines=[line(f"Work {n}") for n in range(rows)])
    for _ in range(rows):
        sending.invoice_send_start(invoice=invoice, user=owner.user)

    # Budget 10. 1 session, 2 user joined with running timer, 3 membership joined with
    # workspace, 4 the invoice joined with client and credited invoice, 5 its lines joined
    # with projects, 6 payments joined with who recorded them, 7 activity joined with
    # actors, 8 credit notes, 9 the latest 20 deliveries joined with who asked for them.
    with django_assert_num_queries(9):
        response = owner.client.get(page("detail", invoice))

    assert response.status_code == 200
    assert len(response.context["deliveries"]) == min(rows, 20)
