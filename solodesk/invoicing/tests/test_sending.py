"""Sending an invoice by e-mail (start in the request, run in the worker) and the client link
services. The PDF renderer is replaced by a counter that returns a tiny PDF, except where
the real file matters."""

from __future__ import annotations

import datetime as dt
import smtplib
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from solodesk.core.exceptions import ApplicationError
from solodesk.core.models import Job
from solodesk.core.services import job_claim
from solodesk.invoicing import pdf, sending, services, tasks
from solodesk.invoicing.models import Invoice, InvoiceActivity, InvoiceDelivery
from solodesk.invoicing.tests.factories import line, make_client, make_draft, make_issued

FAKE_PDF = b"%PDF-1.7\n% fake for tests\n"


@pytest.fixture
def renders(monkeypatch):
    """Counts PDF renders and makes them instant."""
    calls = []

    def render(*, invoice):
        calls.append(invoice.pk)
        return FAKE_PDF

    monkeypatch.setattr(pdf, "invoice_pdf_render", render)
    return calls


@pytest.fixture
def broker():
    with mock.patch("solodesk.core.services._send_to_broker") as send:
        yield send


@pytest.fixture
def settings_site(settings):
    settings.SITE_URL = "https://desk.example.com"
    settings.DEFAULT_FROM_EMAIL = "Solodesk <billing@desk.example.com>"
    return settings


def issued_invoice(owner, **kwargs) -> Invoice:
    owner.workspace.name = "Owner Studio"
    owner.workspace.payment_details = "IBAN DE89 3704 0044 0532 0130 00\nBIC COBADEFFXXX"
    owner.workspace.save()
    client = kwargs.pop("client", None) or make_client(
        owner.workspace, name="Acme Robotics", email="billing@acme.test"
    )
    return make_issued(
        workspace=owner.workspace,
        user=owner.user,
        client=client,
        lines=[line("Design work", quantity="10", unit_price="100.00", tax_rate="21")],
        **kwargs,
    )


def start(owner, invoice, broker=None, **kwargs) -> InvoiceDelivery:
    return sending.invoice_send_start(invoice=invoice, user=owner.user, **kwargs)


def run_task(delivery: InvoiceDelivery) -> Job:
    tasks.invoice_send_task(delivery.job.pk)
    return Job.objects.get(pk=delivery.job.pk)


# --- invoice_send_start --------------------------------------------------------------------


def test_send_start_writes_the_delivery_and_its_job_and_enqueues_only_after_commit(
    owner, broker, django_capture_on_commit_callbacks
):
    invoice = issued_invoice(owner)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        delivery = start(owner, invoice)
        assert broker.call_count == 0

    assert len(callbacks) == 1
    job = Job.objects.get()
    broker.assert_called_once_with(job.pk, "solodesk.invoicing.tasks.invoice_send_task")
    assert (job.kind, job.status, job.owner, job.workspace) == (
        Job.Kind.INVOICE_SEND,
        Job.Status.QUEUED,
        owner.user,
        owner.workspace,
    )
    assert job.params == {"delivery_id": delivery.pk}
    stored = InvoiceDelivery.objects.get()
    assert (stored.invoice, stored.to_email, stored.status, stored.job, stored.requested_by) == (
        invoice,
        "billing@acme.test",
        InvoiceDelivery.Status.QUEUED,
        job,
        owner.user,
    )
    assert mail.outbox == []


def test_send_start_sends_to_the_address_given_instead_of_the_clients(owner, broker):
    invoice = issued_invoice(owner)

    delivery = start(owner, invoice, to_email="  accounts@acme.test ")

    assert delivery.to_email == "accounts@acme.test"


def test_send_start_creates_one_secret_client_link_and_keeps_it_for_later_sends(owner, broker):
    invoice = issued_invoice(owner)
    assert invoice.portal_token is None

    start(owner, invoice)
    token = Invoice.objects.get(pk=invoice.pk).portal_token
    start(owner, invoice)

    assert Invoice.objects.get(pk=invoice.pk).portal_token == token
    assert invoice.portal_token == token
    # 24 random bytes, URL-safe base64: 32 characters carrying 192 bits.
    assert len(token) == 32
    assert str(invoice.public_id) not in token
    assert InvoiceDelivery.objects.count() == 2


def test_send_start_refuses_a_draft_and_writes_nothing(owner, broker):
    draft = make_draft(workspace=owner.workspace, user=owner.user)

    with pytest.raises(ApplicationError) as error:
        start(owner, draft, to_email="a@b.test")

    assert error.value.message == "Issue the invoice before sending it: a draft has no number yet."
    assert InvoiceDelivery.objects.count() == 0
    assert Job.objects.count() == 0
    assert Invoice.objects.get(pk=draft.pk).portal_token is None


def test_send_start_refuses_a_void_invoice(owner, broker):
    invoice = issued_invoice(owner)
    services.invoice_void(invoice=invoice, user=owner.user)

    with pytest.raises(ApplicationError) as error:
        start(owner, invoice)

    assert error.value.message == "A void invoice cannot be sent."
    assert InvoiceDelivery.objects.count() == 0


def test_send_start_without_any_address_is_an_error_on_to_email(owner, broker):
    client = make_client(owner.workspace, email="")
    invoice = issued_invoice(owner, client=client)

    with pytest.raises(ApplicationError) as error:
        start(owner, invoice)

    assert error.value.errors == {
        "to_email": ["This client has no e-mail address: enter one to send the invoice to."]
    }
    assert Job.objects.count() == 0


def test_send_start_rejects_a_malformed_address(owner, broker):
    invoice = issued_invoice(owner)

    with pytest.raises(ApplicationError) as error:
        start(owner, invoice, to_email="not an address")

    assert error.value.errors == {"to_email": ["“not an address” is not a valid e-mail address."]}


def test_paid_invoices_and_credit_notes_can_be_sent(owner, broker):
    invoice = issued_invoice(owner)
    services.payment_record(
        invoice=invoice,
        user=owner.user,
        amount=invoice.total,
        date=dt.date(2026, 3, 5),
        method="bank_transfer",
    )
    note = services.credit_note_create(invoice=invoice, user=owner.user)

    assert start(owner, invoice).status == InvoiceDelivery.Status.QUEUED
    assert start(owner, note).status == InvoiceDelivery.Status.QUEUED


# --- invoice_send_run ----------------------------------------------------------------------


def test_send_task_run_twice_sends_exactly_one_email(owner, broker, renders):
    invoice = issued_invoice(owner)
    delivery = start(owner, invoice)

    first = run_task(delivery)
    second = run_task(delivery)

    assert len(mail.outbox) == 1
    assert (first.status, second.status) == (Job.Status.SUCCEEDED, Job.Status.SUCCEEDED)
    assert first.progress == 100
    delivery.refresh_from_db()
    assert delivery.status == InvoiceDelivery.Status.SENT
    assert delivery.sent_at is not None
    invoice.refresh_from_db()
    assert invoice.sent_at == delivery.sent_at
    assert list(
        invoice.activities.filter(action=InvoiceActivity.Action.SENT).values_list(
            "message", "actor"
        )
    ) == [("Sent to billing@acme.test.", owner.user.pk)]
    assert renders == [invoice.pk]


def test_send_run_on_an_already_sent_delivery_sends_nothing_more(owner, broker, renders):
    """Even past the job's own claim (a job re-claimed after its worker looked dead), the
    delivery's conditional claim lets one e-mail out."""
    invoice = issued_invoice(owner)
    delivery = start(owner, invoice)
    job = job_claim(job_id=delivery.job.pk)

    sending.invoice_send_run(job=job)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    again = sending.invoice_send_run(job=job)

    assert len(mail.outbox) == 1
    assert again.status == Job.Status.SUCCEEDED


def test_email_tells_the_client_what_is_due_by_when_how_to_pay_and_links_the_portal(
    owner, broker, renders, settings_site
):
    invoice = issued_invoice(owner, issue_date=dt.date(2026, 3, 2), due_date=None)
    delivery = start(owner, invoice)

    run_task(delivery)

    [message] = mail.outbox
    invoice.refresh_from_db()
    assert message.subject == f"Invoice {invoice.number} from Owner Studio"
    assert message.to == ["billing@acme.test"]
    assert message.from_email == "Owner Studio <billing@desk.example.com>"
    assert message.reply_to == [owner.user.email]
    link = f"https://desk.example.com/p/{invoice.portal_token}/"
    assert message.body == (
        "Hello Acme Robotics,\n"
        "\n"
        f"Please find attached invoice {invoice.number} from Owner Studio.\n"
        "\n"
        "Amount due: 1,210.00 EUR\n"
        "Due date: 1 April 2026 (this date has passed)\n"
        "\n"
        "How to pay:\n"
        "IBAN DE89 3704 0044 0532 0130 00\n"
        "BIC COBADEFFXXX\n"
        f"Please mention {invoice.number} as the payment reference.\n"
        "\n"
        "See it online, with its payments and a PDF to download:\n"
        f"{link}\n"
        "\n"
        "If you have a question about it, simply reply to this e-mail.\n"
        "\n"
        "Kind regards,\n"
        "Owner Studio\n"
    )
    [(name, content, mimetype)] = message.attachments
    assert (name, content, mimetype) == (f"{invoice.number}.pdf", FAKE_PDF, "application/pdf")


def test_email_for_a_partly_paid_invoice_shows_the_balance_and_what_was_paid(
    owner, broker, renders, time_machine
):
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC))
    invoice = issued_invoice(owner, issue_date=dt.date(2026, 3, 2))
    services.payment_record(
        invoice=invoice,
        user=owner.user,
        amount=Decimal("210.00"),
        date=dt.date(2026, 3, 5),
        method="bank_transfer",
    )

    run_task(start(owner, invoice))

    body = mail.outbox[0].body
    assert "Amount due: 1,000.00 EUR\nDue date: 1 April 2026\n" in body
    assert "Of the total of 1,210.00 EUR, 210.00 EUR is already paid. Thank you!" in body


def test_email_for_a_paid_invoice_says_nothing_is_due(owner, broker, renders):
    invoice = issued_invoice(owner)
    services.payment_record(
        invoice=invoice,
        user=owner.user,
        amount=invoice.total,
        date=dt.date(2026, 3, 5),
        method="bank_transfer",
    )

    run_task(start(owner, invoice))

    body = mail.outbox[0].body
    assert "Total: 1,210.00 EUR\n" in body
    assert "It is paid in full (last payment on 5 March 2026): nothing more is due." in body
    assert "How to pay" not in body


def test_email_for_a_credit_note_names_the_invoice_it_corrects(owner, broker, renders):
    invoice = issued_invoice(owner)
    note = services.credit_note_create(invoice=invoice, user=owner.user)

    run_task(start(owner, note))

    message = mail.outbox[0]
    assert message.subject == f"Credit note {note.number} from Owner Studio"
    assert f"credit note {note.number} from Owner Studio, which corrects invoice " in message.body
    assert "Amount credited: 1,210.00 EUR" in message.body
    assert "How to pay" not in message.body


def test_a_refused_recipient_fails_the_delivery_and_the_job_with_a_message(owner, broker, renders):
    invoice = issued_invoice(owner)
    delivery = start(owner, invoice)
    refused = smtplib.SMTPRecipientsRefused({"billing@acme.test": (550, b"No such user")})

    with mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=refused
    ):
        job = run_task(delivery)

    message = "The mail server refused the address billing@acme.test. Check it and send again."
    assert (job.status, job.error) == (Job.Status.FAILED, message)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error, delivery.sent_at) == ("failed", message, None)
    invoice.refresh_from_db()
    assert invoice.sent_at is None
    assert not invoice.activities.filter(action=InvoiceActivity.Action.SENT).exists()


def test_an_unreachable_mail_server_is_tried_again_later_not_at_once(owner, broker, renders):
    invoice = issued_invoice(owner)
    delivery = start(owner, invoice)

    with mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.open",
        side_effect=ConnectionRefusedError(111, "refused"),
    ) as connect:
        run_task(delivery)
        job = run_task(delivery)  # the retry: still refused, so once more later

    assert connect.call_count == 2
    assert (job.status, job.attempts) == (Job.Status.QUEUED, 2)
    assert job.error.startswith("Could not reach the mail server (ConnectionRefusedError:")
    assert "Trying again at" in job.error
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error) == (InvoiceDelivery.Status.QUEUED, job.error)


def test_a_pdf_that_cannot_be_made_fails_the_send_before_any_email(owner, broker, monkeypatch):
    invoice = issued_invoice(owner)
    delivery = start(owner, invoice)

    def broken(*, invoice):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(pdf, "invoice_pdf_render", broken)
    job = run_task(delivery)

    assert mail.outbox == []
    error = "The invoice PDF could not be prepared, so nothing was sent. Try again in a minute."
    assert (job.status, job.error) == (Job.Status.FAILED, error)
    delivery.refresh_from_db()
    assert delivery.status == InvoiceDelivery.Status.FAILED


def test_a_delivery_left_sending_by_a_dead_worker_is_failed_and_not_sent_again(
    owner, broker, renders
):
    invoice = issued_invoice(owner)
    delivery = start(owner, invoice)
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    InvoiceDelivery.objects.filter(pk=delivery.pk).update(status="sending", updated_at=long_ago)

    job = run_task(delivery)

    assert mail.outbox == []
    assert job.status == Job.Status.FAILED
    assert job.error == (
        "The worker stopped while sending to billing@acme.test, so the e-mail may or may not "
        "have arrived. Check with your client before sending it again."
    )
    delivery.refresh_from_db()
    assert delivery.status == InvoiceDelivery.Status.FAILED


def test_a_second_send_keeps_the_first_sent_at_and_reuses_the_pdf(owner, broker, renders):
    invoice = issued_invoice(owner)
    run_task(start(owner, invoice))
    first_sent_at = Invoice.objects.get(pk=invoice.pk).sent_at

    run_task(start(owner, invoice, to_email="boss@acme.test"))

    assert [m.to for m in mail.outbox] == [["billing@acme.test"], ["boss@acme.test"]]
    assert Invoice.objects.get(pk=invoice.pk).sent_at == first_sent_at
    assert renders == [invoice.pk]


def test_sending_leaves_the_stored_pdf_current(owner, broker, renders):
    invoice = issued_invoice(owner)

    run_task(start(owner, invoice))

    fresh = Invoice.objects.prefetch_related("lines").get(pk=invoice.pk)
    assert pdf.invoice_pdf_is_current(fresh)
    assert pdf.invoice_pdf_request(invoice=fresh, user=owner.user) is None


# --- the client link -----------------------------------------------------------------------


def test_regenerate_replaces_the_link_and_records_it(owner, broker):
    invoice = issued_invoice(owner)
    start(owner, invoice)
    old = Invoice.objects.get(pk=invoice.pk).portal_token

    sending.portal_link_regenerate(invoice=invoice, user=owner.user)

    new = Invoice.objects.get(pk=invoice.pk).portal_token
    assert new != old
    assert len(new) == 32
    assert invoice.portal_token == new
    activity = invoice.activities.get(action=InvoiceActivity.Action.PORTAL_LINK_RESET)
    assert activity.message == "New client link; the old one no longer works."


def test_regenerate_refuses_a_draft(owner):
    draft = make_draft(workspace=owner.workspace, user=owner.user)

    with pytest.raises(ApplicationError) as error:
        sending.portal_link_regenerate(invoice=draft, user=owner.user)

    assert error.value.message == "Issue the invoice first: a draft has no client link."
    assert Invoice.objects.get(pk=draft.pk).portal_token is None


def test_revoke_clears_the_link_once(owner, broker):
    invoice = issued_invoice(owner)
    start(owner, invoice)

    sending.portal_link_revoke(invoice=invoice, user=owner.user)
    sending.portal_link_revoke(invoice=invoice, user=owner.user)

    assert Invoice.objects.get(pk=invoice.pk).portal_token is None
    assert list(
        invoice.activities.filter(action=InvoiceActivity.Action.PORTAL_LINK_RESET).values_list(
            "message", flat=True
        )
    ) == ["Client link revoked."]
    assert sending.portal_url(invoice) is None


def test_the_first_view_is_recorded_once(owner, broker):
    invoice = issued_invoice(owner)
    start(owner, invoice)

    first = sending.portal_view_record(invoice=invoice)
    viewed_at = Invoice.objects.get(pk=invoice.pk).portal_viewed_at
    second = sending.portal_view_record(invoice=Invoice.objects.get(pk=invoice.pk))

    assert (first, second) == (True, False)
    assert viewed_at is not None
    assert Invoice.objects.get(pk=invoice.pk).portal_viewed_at == viewed_at
    assert list(
        invoice.activities.filter(action=InvoiceActivity.Action.VIEWED).values_list(
            "actor", "message"
        )
    ) == [(None, "The client opened the invoice link.")]


def test_a_temporary_smtp_refusal_says_so_and_is_retried_later(owner, broker, renders):
    invoice = issued_invoice(owner)
    delivery = start(owner, invoice)
    refusal = smtplib.SMTPDataError(451, b"Greylisted, try later")

    with mock.patch(
        "django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=refusal
    ) as send:
        job = run_task(delivery)

    assert send.call_count == 1
    assert job.status == Job.Status.QUEUED
    assert job.error.startswith(
        "The mail server temporarily refused the message (451 Greylisted, try later). "
        "Nothing was sent; try again later or check the e-mail settings. Trying again at "
    )
