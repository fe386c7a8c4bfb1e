"""An invoice e-mail through a real SMTP server on loopback (aiosmtpd), with a real PDF.

The send runs in-process (`invoice_send_run` on a claimed job) against Django's SMTP
backend; the server keeps what it receives so the test can read the message as the client's
mail server would."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest

from solodesk.core.models import Job
from solodesk.core.services import job_claim
from solodesk.invoicing import sending
from solodesk.invoicing.models import Invoice, InvoiceDelivery
from solodesk.invoicing.tests.factories import line, make_client, make_issued
from tests.integration.smtp_inbox import Inbox, running_inbox, smtp_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def smtp_server(settings) -> Iterator[Inbox]:
    with running_inbox() as (inbox, port):
        smtp_settings(settings, port)
        settings.EMAIL_TIMEOUT = 10
        settings.SITE_URL = "https://desk.example.com"
        settings.DEFAULT_FROM_EMAIL = "Solodesk <billing@desk.example.com>"
        yield inbox


def test_invoice_email_arrives_with_the_portal_link_and_the_pdf(owner, smtp_server):
    owner.workspace.name = "Owner Studio"
    owner.workspace.payment_details = "IBAN DE89 3704 0044 0532 0130 00"
    owner.workspace.save()
    client = make_client(owner.workspace, name="Acme Robotics", email="billing@acme.test")
    invoice = make_issued(
        workspace=owner.workspace,
        user=owner.user,
        client=client,
        lines=[line("Design work", quantity="10", unit_price="100.00", tax_rate="21")],
    )
    with mock.patch("solodesk.core.services._send_to_broker"):
        delivery = sending.invoice_send_start(invoice=invoice, user=owner.user)
    job = job_claim(job_id=delivery.job.pk)

    finished = sending.invoice_send_run(job=job)

    assert finished.status == Job.Status.SUCCEEDED
    assert InvoiceDelivery.objects.get(pk=delivery.pk).status == InvoiceDelivery.Status.SENT
    invoice = Invoice.objects.get(pk=invoice.pk)
    [(mail_from, recipients, message)] = smtp_server.envelopes
    assert mail_from == "billing@desk.example.com"
    assert recipients == ["billing@acme.test"]
    assert message["To"] == "billing@acme.test"
    assert message["Subject"] == f"Invoice {invoice.number} from Owner Studio"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert f"https://desk.example.com/p/{invoice.portal_token}/" in body
    assert "Amount due: 1,210.00 EUR" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    assert attachment.get_content().startswith(b"%PDF")


def test_a_server_that_refuses_the_recipient_fails_the_delivery(owner, smtp_server):
    smtp_server.rcpt_replies.append("550 No such user here")
    client = make_client(owner.workspace, email="nobody@acme.test")
    invoice = make_issued(workspace=owner.workspace, user=owner.user, client=client)
    with mock.patch("solodesk.core.services._send_to_broker"):
        delivery = sending.invoice_send_start(invoice=invoice, user=owner.user)

    finished = sending.invoice_send_run(job=job_claim(job_id=delivery.job.pk))

    assert finished.status == Job.Status.FAILED
    assert finished.error == (
        "The mail server refused the address nobody@acme.test. Check it and send again."
    )
    assert smtp_server.messages == []
    assert InvoiceDelivery.objects.get(pk=delivery.pk).status == InvoiceDelivery.Status.FAILED
