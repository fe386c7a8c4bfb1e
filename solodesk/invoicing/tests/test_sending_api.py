"""POST /api/v1/invoices/{id}/send, GET /api/v1/invoices/{id}/pdf, and the invoice's
portal_url and sent_at fields."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core import mail

from solodesk.core.models import Job
from solodesk.invoicing import pdf, sending, tasks
from solodesk.invoicing.models import Invoice, InvoiceDelivery
from solodesk.invoicing.tests.factories import make_client, make_draft, make_issued

URL = "/api/v1/invoices"
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


def issued(persona, email="billing@acme.test") -> Invoice:
    client = make_client(persona.workspace, name="Acme Robotics", email=email)
    return make_issued(workspace=persona.workspace, user=persona.user, client=client)


def url(invoice: Invoice, action: str = "") -> str:
    return f"{URL}/{invoice.public_id}" + (f"/{action}" if action else "")


def nothing_sent() -> bool:
    return not InvoiceDelivery.objects.exists() and not Job.objects.exists()


def test_send_answers_202_with_the_job_and_delivery_and_enqueues_after_commit(
    owner, broker, django_capture_on_commit_callbacks
):
    invoice = issued(owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = owner.api().post(url(invoice, "send"), content_type="application/json")

    assert response.status_code == 202
    job = Job.objects.get()
    delivery = InvoiceDelivery.objects.get()
    assert response.json() == {"job_id": str(job.public_id), "delivery_id": str(delivery.public_id)}
    assert (delivery.to_email, delivery.job, job.kind) == (
        "billing@acme.test",
        job,
        Job.Kind.INVOICE_SEND,
    )
    broker.assert_called_once_with(job.pk, "solodesk.invoicing.tasks.invoice_send_task")
    assert mail.outbox == []


def test_send_to_another_address(member):
    invoice = issued(member)

    response = member.api().post(
        url(invoice, "send"), {"to_email": "boss@acme.test"}, content_type="application/json"
    )

    assert response.status_code == 202
    assert InvoiceDelivery.objects.get().to_email == "boss@acme.test"


def test_send_a_draft_is_a_400_with_a_message(owner):
    draft = make_draft(workspace=owner.workspace, user=owner.user)

    response = owner.api().generic("POST", url(draft, "send"), content_type="")

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Issue the invoice before sending it: a draft has no number yet."
    )
    assert nothing_sent()


def test_send_without_an_address_names_to_email(owner):
    invoice = issued(owner, email="")

    response = owner.api().post(url(invoice, "send"), {}, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "to_email": ["This client has no e-mail address: enter one to send the invoice to."]
    }
    assert nothing_sent()


def test_send_another_workspaces_invoice_is_a_404_and_sends_nothing(owner, stranger):
    invoice = issued(stranger)

    response = owner.api().post(url(invoice, "send"), content_type="application/json")

    assert response.status_code == 404
    assert nothing_sent()
    assert Invoice.objects.get(pk=invoice.pk).portal_token is None


def test_send_then_the_job_endpoint_reports_it_succeeded(owner, renders, settings):
    settings.SITE_URL = "https://desk.example.com"
    invoice = issued(owner)
    job_id = (
        owner.api().post(url(invoice, "send"), content_type="application/json").json()["job_id"]
    )

    tasks.invoice_send_task(Job.objects.get(public_id=job_id).pk)
    job = owner.api().get(f"/api/v1/jobs/{job_id}").json()
    detail = owner.api().get(url(invoice)).json()

    assert (job["status"], job["progress"], job["result_url"]) == ("succeeded", 100, None)
    invoice.refresh_from_db()
    assert detail["portal_url"] == f"https://desk.example.com/p/{invoice.portal_token}/"
    assert detail["sent_at"] == invoice.sent_at.isoformat()
    assert len(mail.outbox) == 1


def test_portal_url_is_null_until_sent_shown_in_the_list_and_null_once_revoked(owner, settings):
    settings.SITE_URL = "https://desk.example.com"
    invoice = issued(owner)

    before = owner.api().get(url(invoice)).json()
    sending.invoice_send_start(invoice=invoice, user=owner.user)
    token = Invoice.objects.get(pk=invoice.pk).portal_token
    listed = owner.api().get(URL).json()["items"][0]
    sending.portal_link_revoke(invoice=invoice, user=owner.user)
    revoked = owner.api().get(url(invoice)).json()

    assert (before["portal_url"], before["sent_at"]) == (None, None)
    assert listed["portal_url"] == f"https://desk.example.com/p/{token}/"
    assert listed["sent_at"] is None  # asked for, not gone out yet
    assert revoked["portal_url"] is None


def test_pdf_not_current_is_a_202_with_one_job_however_often_asked(owner, renders, broker):
    invoice = issued(owner)

    first = owner.api().get(url(invoice, "pdf"))
    second = owner.api().get(url(invoice, "pdf"))

    assert (first.status_code, second.status_code) == (202, 202)
    job = Job.objects.get()
    assert first.json() == second.json() == {"job_id": str(job.public_id)}
    assert job.kind == Job.Kind.INVOICE_PDF
    assert renders == []


def test_pdf_when_current_is_the_file(owner, renders):
    invoice = issued(owner)
    pdf.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=invoice.pk))

    response = owner.api().get(url(invoice, "pdf"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == FAKE_PDF
    assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'


def test_pdf_job_then_its_result_is_the_pdf(owner, renders):
    invoice = issued(owner)
    job_id = owner.api().get(url(invoice, "pdf")).json()["job_id"]

    tasks.invoice_pdf_task(Job.objects.get(public_id=job_id).pk)
    result = owner.api().get(f"/api/v1/jobs/{job_id}/result")

    assert result.status_code == 200
    assert b"".join(result.streaming_content) == FAKE_PDF
    assert owner.api().get(url(invoice, "pdf")).status_code == 200


def test_pdf_of_another_workspaces_invoice_is_a_404_and_starts_nothing(owner, stranger):
    invoice = issued(stranger)

    response = owner.api().get(url(invoice, "pdf"))

    assert response.status_code == 404
    assert not Job.objects.exists()
