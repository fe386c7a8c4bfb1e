"""The invoice PDF: what it shows (read back with pdfminer), when it is re-used, and the task
that renders it in the background."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from pdfminer.high_level import extract_text

from solodesk.core.models import Job
from solodesk.invoicing import pdf, services
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.tasks import invoice_pdf_task
from solodesk.invoicing.tests.factories import line, make_client, make_draft, make_issued


def text_of(data: bytes) -> str:
    """The PDF's text with runs of whitespace (line breaks, wrapped lines) as one space."""
    return " ".join(extract_text(io.BytesIO(data)).split())


@pytest.fixture
def seller(workspace):
    workspace.name = "Maria Lopez Design"
    workspace.address = "Calle Mayor 12\n28013 Madrid"
    workspace.tax_id = "ESB12345678"
    workspace.payment_details = "IBAN ES91 2100 0418 4502 0005 1332\nBIC CAIXESBBXXX"
    workspace.save()
    return workspace


@pytest.fixture
def client_(seller):
    return make_client(
        seller,
        name="Acme Robotics GmbH",
        email="accounts@acme.example",
        address="Hauptstrasse 5\n10115 Berlin",
        tax_id="DE123456789",
        currency="EUR",
    )


@pytest.fixture
def issued(owner, seller, client_):
    """1,000.00 at 21 % and 300.00 at 0 %, 10 % off, issued as 2026-0001 on 27 Nov 2026."""
    return make_issued(
        workspace=seller,
        user=owner.user,
        client=client_,
        issue_date=dt.date(2026, 11, 27),
        lines=[
            line("Website redesign", "10", "100.00", "21"),
            line("Hosting setup", "2", "150.00", "0", unit="days"),
        ],
        discount_type="percent",
        discount_value=Decimal("10"),
        notes="Thank you for your business!",
    )


@pytest.fixture
def broker(monkeypatch):
    """Stands in for the broker: records what would have been sent, after commit."""
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(
        "solodesk.core.services._send_to_broker",
        lambda job_id, task_name: sent.append((job_id, task_name)),
    )
    return sent


@pytest.fixture
def render_spy():
    with mock.patch.object(pdf, "invoice_pdf_render", wraps=pdf.invoice_pdf_render) as spy:
        yield spy


# --- what the PDF shows ----------------------------------------------------------------------


def test_issued_pdf_shows_number_parties_lines_tax_breakdown_totals_and_payment_details(issued):
    text = text_of(pdf.invoice_pdf_render(invoice=issued))

    assert issued.number == "2026-0001"
    # Subtotal 1,300.00; discount 130.00 shared 100.00 / 30.00 → bases 900.00 and 270.00;
    # tax 21 % of 900.00 = 189.00; total 1,170.00 + 189.00 = 1,359.00.
    for expected in [
        "INVOICE",
        "No. 2026-0001",
        "Maria Lopez Design",
        "Calle Mayor 12",
        "Tax ID ESB12345678",
        "Acme Robotics GmbH",
        "Hauptstrasse 5",
        "10115 Berlin",
        "Tax ID DE123456789",
        "accounts@acme.example",
        "27 Nov 2026",  # issue date
        "27 Dec 2026",  # due date: 30 days' terms
        "Website redesign",
        "10 hours",
        "100.00 EUR",
        "Hosting setup",
        "2 days",
        "1,300.00 EUR",  # subtotal
        "Discount (10%)",
        "−130.00 EUR",
        "Tax 0% on 270.00 EUR",
        "Tax 21% on 900.00 EUR",
        "189.00 EUR",
        "1,359.00 EUR",  # total and amount due
        "Amount due",
        "IBAN ES91 2100 0418 4502 0005 1332",
        "BIC CAIXESBBXXX",
        "quote 2026-0001 as the reference",
        "Thank you for your business!",
    ]:
        assert expected in text, expected
    assert "DRAFT" not in text.upper().replace("DRAFT-", "")
    assert "Page 1 of" not in text  # one page: no page numbers


def test_payment_shows_as_paid_and_lowers_the_amount_due(owner, issued):
    services.payment_record(
        invoice=issued,
        user=owner.user,
        amount=Decimal("359.00"),
        date=dt.date(2026, 12, 1),
        method="bank_transfer",
    )
    issued.refresh_from_db()

    text = text_of(pdf.invoice_pdf_render(invoice=issued))

    assert "−359.00 EUR" in text
    assert "Please pay 1,000.00 EUR by 27 Dec 2026" in text


def test_paid_invoice_carries_a_paid_stamp_and_no_payment_request(owner, issued):
    services.payment_record(
        invoice=issued,
        user=owner.user,
        amount=Decimal("1359.00"),
        date=dt.date(2026, 12, 3),
        method="bank_transfer",
    )
    issued.refresh_from_db()

    text = text_of(pdf.invoice_pdf_render(invoice=issued))

    assert "PAID 3 DEC 2026" in text.upper()
    assert "0.00 EUR" in text
    assert "How to pay".upper() not in text.upper()


def test_draft_pdf_is_marked_draft_and_shows_the_live_client_details(owner, seller, client_):
    draft = make_draft(workspace=seller, user=owner.user, client=client_)
    client_.name = "Acme Robotics AG"
    client_.save()

    text = text_of(pdf.invoice_pdf_render(invoice=Invoice.objects.get(pk=draft.pk)))

    assert "DRAFT" in text
    assert "Not issued yet" in text
    assert "Acme Robotics AG" in text
    assert pdf.invoice_pdf_filename(draft) == f"draft-{draft.public_id}.pdf"


def test_issued_pdf_shows_the_parties_as_they_were_at_issue(issued, seller, client_):
    state = pdf.invoice_pdf_state(issued)
    client_.name = "Renamed Later Ltd"
    client_.save()
    seller.payment_details = "New bank account"
    seller.save()
    fresh = Invoice.objects.get(pk=issued.pk)

    text = text_of(pdf.invoice_pdf_render(invoice=fresh))

    assert "Acme Robotics GmbH" in text
    assert "Renamed Later Ltd" not in text
    assert "New bank account" not in text
    assert pdf.invoice_pdf_state(fresh) == state


def test_sixty_line_invoice_is_numbered_page_n_of_m(owner, seller, client_):
    invoice = make_issued(
        workspace=seller,
        user=owner.user,
        client=client_,
        lines=[line(f"Sprint task {n}", "1.5", "80.00", "21") for n in range(1, 61)],
    )

    data = pdf.invoice_pdf_render(invoice=invoice)
    text = text_of(data)

    assert "Page 1 of" in text
    assert "Page 2 of" in text
    assert "Sprint task 1 " in text
    assert "Sprint task 60" in text


def test_credit_note_pdf_uses_credit_note_wording_and_names_the_invoice(owner, issued):
    credit_note = services.credit_note_create(invoice=issued, user=owner.user, reason="Cancelled")
    credit_note = Invoice.objects.select_related("credited_invoice").get(pk=credit_note.pk)

    text = text_of(pdf.invoice_pdf_render(invoice=credit_note))

    assert "CREDIT NOTE" in text
    assert f"No. {credit_note.number}" in text
    assert "Credits invoice" in text
    assert "2026-0001" in text
    assert "Total credited" in text
    assert "1,359.00 EUR" in text
    assert "Amount due" not in text
    assert "IBAN" not in text
    assert pdf.invoice_pdf_filename(credit_note) == f"{credit_note.number}.pdf"


def test_text_from_the_user_is_printed_literally_not_as_markup(owner, seller, client_):
    invoice = make_draft(
        workspace=seller,
        user=owner.user,
        client=client_,
        lines=[line('<img src="http://198.51.100.7/x.png"> Audit & <b>review</b>')],
    )

    text = text_of(pdf.invoice_pdf_render(invoice=invoice))

    assert '<img src="http://198.51.100.7/x.png"> Audit & <b>review</b>' in text


def test_another_workspace_never_appears_in_the_pdf(owner, issued, stranger):
    their_client = make_client(stranger.workspace, name="Stranger Client Co", tax_id="XX999")
    make_issued(
        workspace=stranger.workspace,
        user=stranger.user,
        client=their_client,
        lines=[line("Secret stranger work", "1", "999.00")],
    )

    text = text_of(pdf.invoice_pdf_render(invoice=Invoice.objects.get(pk=issued.pk)))

    assert "Stranger" not in text
    assert "XX999" not in text
    assert "999.00" not in text


def test_filename_keeps_the_number_readable_and_safe(issued):
    issued.number = "INV/2026 07"

    assert pdf.invoice_pdf_filename(issued) == "INV-2026-07.pdf"


# --- re-use -----------------------------------------------------------------------------------


def test_second_ensure_reuses_the_stored_pdf(issued, render_spy):
    first = pdf.invoice_pdf_ensure(invoice=issued)
    second = pdf.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=issued.pk))

    assert render_spy.call_count == 1
    assert second.name == first.name == f"invoices/{issued.public_id}/2026-0001.pdf"
    with default_storage.open(first.name, "rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_ensure_records_the_file_and_state_without_touching_updated_at(issued):
    before = Invoice.objects.get(pk=issued.pk)

    pdf.invoice_pdf_ensure(invoice=issued)

    after = Invoice.objects.get(pk=issued.pk)
    assert after.updated_at == before.updated_at
    assert after.pdf_file.name == f"invoices/{issued.public_id}/2026-0001.pdf"
    assert after.pdf_state == pdf.invoice_pdf_state(after)
    assert len(after.pdf_state) == 64
    assert pdf.invoice_pdf_is_current(after) is True


def test_a_payment_makes_the_pdf_stale_and_the_next_ensure_renders_it_again(
    owner, issued, render_spy
):
    old_name = pdf.invoice_pdf_ensure(invoice=issued).name
    services.payment_record(
        invoice=issued,
        user=owner.user,
        amount=Decimal("100.00"),
        date=dt.date(2026, 12, 1),
        method="cash",
    )
    invoice = Invoice.objects.get(pk=issued.pk)
    assert pdf.invoice_pdf_is_current(invoice) is False

    new = pdf.invoice_pdf_ensure(invoice=invoice)

    assert render_spy.call_count == 2
    assert "−100.00 EUR" in text_of(new.read())
    assert Invoice.objects.get(pk=issued.pk).pdf_file.name == new.name
    assert not default_storage.exists(old_name) or old_name == new.name


def test_sending_and_the_client_link_do_not_make_the_pdf_stale(issued, render_spy):
    pdf.invoice_pdf_ensure(invoice=issued)
    Invoice.objects.filter(pk=issued.pk).update(
        sent_at=dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC), portal_token="t" * 40
    )
    invoice = Invoice.objects.get(pk=issued.pk)
    invoice.portal_viewed_at = dt.datetime(2026, 11, 28, 9, tzinfo=dt.UTC)
    invoice.save()  # bumps updated_at

    pdf.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=issued.pk))

    assert render_spy.call_count == 1


def test_editing_a_draft_makes_its_pdf_stale(owner, seller, client_, render_spy):
    draft = make_draft(workspace=seller, user=owner.user, client=client_)
    pdf.invoice_pdf_ensure(invoice=draft)

    services.invoice_update_draft(invoice=draft, user=owner.user, notes="Net 14")
    draft = Invoice.objects.get(pk=draft.pk)

    assert pdf.invoice_pdf_is_current(draft) is False
    assert "Net 14" in text_of(pdf.invoice_pdf_ensure(invoice=draft).read())
    assert render_spy.call_count == 2


def test_ensure_renders_again_when_the_stored_file_is_gone(issued, render_spy):
    name = pdf.invoice_pdf_ensure(invoice=issued).name
    default_storage.delete(name)

    again = pdf.invoice_pdf_ensure(invoice=Invoice.objects.get(pk=issued.pk))

    assert render_spy.call_count == 2
    assert default_storage.exists(again.name)


# --- requesting a PDF and the task ------------------------------------------------------------


def test_request_creates_a_pdf_job_and_enqueues_it_after_commit(
    owner, issued, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = pdf.invoice_pdf_request(invoice=issued, user=owner.user)
        assert broker == []

    assert job is not None
    assert (job.workspace, job.owner, job.kind, job.task_name, job.params, job.status) == (
        owner.workspace,
        owner.user,
        Job.Kind.INVOICE_PDF,
        "solodesk.invoicing.tasks.invoice_pdf_task",
        {"invoice_id": issued.pk},
        Job.Status.QUEUED,
    )
    assert broker == [(job.pk, "solodesk.invoicing.tasks.invoice_pdf_task")]


def test_request_reuses_the_users_unfinished_job(owner, member, issued, broker):
    first = pdf.invoice_pdf_request(invoice=issued, user=owner.user)

    again = pdf.invoice_pdf_request(invoice=issued, user=owner.user)
    members = pdf.invoice_pdf_request(invoice=issued, user=member.user)

    assert again == first
    assert members is not None and members != first and members.owner == member.user
    assert Job.objects.count() == 2


def test_request_without_a_user_belongs_to_the_workspace_owner(owner, issued, broker):
    job = pdf.invoice_pdf_request(invoice=issued, user=None)

    assert job is not None and job.owner == owner.user
    assert pdf.invoice_pdf_request(invoice=issued, user=None) == job


def test_request_returns_none_while_the_stored_pdf_is_current(owner, issued, broker):
    pdf.invoice_pdf_ensure(invoice=issued)

    assert (
        pdf.invoice_pdf_request(invoice=Invoice.objects.get(pk=issued.pk), user=owner.user) is None
    )
    assert Job.objects.count() == 0


def test_pdf_task_run_twice_renders_once_and_the_job_serves_the_pdf(
    owner, issued, broker, render_spy
):
    job = pdf.invoice_pdf_request(invoice=issued, user=owner.user)
    assert job is not None

    invoice_pdf_task(job.pk)
    invoice_pdf_task(job.pk)

    job.refresh_from_db()
    assert render_spy.call_count == 1
    assert (job.status, job.progress, job.error, job.result_content_type, job.attempts) == (
        Job.Status.SUCCEEDED,
        100,
        "",
        "application/pdf",
        1,
    )
    assert job.result_name == "2026-0001.pdf"
    with job.result_file.open("rb") as handle:
        assert "2026-0001" in text_of(handle.read())
    assert Invoice.objects.get(pk=issued.pk).pdf_state == pdf.invoice_pdf_state(issued)


def test_a_second_pdf_job_for_an_unchanged_invoice_reuses_the_file(
    owner, member, issued, broker, render_spy
):
    first = pdf.invoice_pdf_request(invoice=issued, user=owner.user)
    second = pdf.invoice_pdf_request(invoice=issued, user=member.user)
    assert first is not None and second is not None

    invoice_pdf_task(first.pk)
    invoice_pdf_task(second.pk)

    assert render_spy.call_count == 1
    assert list(Job.objects.order_by("pk").values_list("status", flat=True)) == [
        Job.Status.SUCCEEDED,
        Job.Status.SUCCEEDED,
    ]


def test_pdf_task_fails_with_a_message_when_the_draft_was_deleted(owner, seller, client_, broker):
    draft = make_draft(workspace=seller, user=owner.user, client=client_)
    job = pdf.invoice_pdf_request(invoice=draft, user=owner.user)
    assert job is not None
    services.invoice_delete_draft(invoice=draft, user=owner.user)

    invoice_pdf_task(job.pk)

    job.refresh_from_db()
    assert (job.status, job.error) == (
        Job.Status.FAILED,
        "This invoice no longer exists (was the draft deleted?).",
    )


def test_pdf_task_never_renders_another_workspaces_invoice(owner, stranger, broker, render_spy):
    theirs = make_issued(workspace=stranger.workspace, user=stranger.user)
    job = Job.objects.create(
        workspace=owner.workspace,
        owner=owner.user,
        kind=Job.Kind.INVOICE_PDF,
        task_name=pdf.PDF_TASK,
        params={"invoice_id": theirs.pk},
    )

    invoice_pdf_task(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert not job.result_file
    assert render_spy.call_count == 0
    assert Invoice.objects.get(pk=theirs.pk).pdf_file.name == ""


def test_pdf_task_marks_the_job_failed_when_rendering_breaks(owner, issued, broker):
    job = pdf.invoice_pdf_request(invoice=issued, user=owner.user)
    assert job is not None

    broken = mock.patch.object(pdf, "invoice_pdf_render", side_effect=OSError("fonts gone"))
    with broken, pytest.raises(OSError):
        invoice_pdf_task(job.pk)

    job.refresh_from_db()
    assert (job.status, job.error) == (
        Job.Status.FAILED,
        "The PDF could not be prepared. Try again.",
    )
    assert Invoice.objects.get(pk=issued.pk).pdf_state == ""


def test_request_starts_a_job_when_the_stored_file_is_gone(owner, issued, broker):
    name = pdf.invoice_pdf_ensure(invoice=issued).name
    default_storage.delete(name)

    job = pdf.invoice_pdf_request(invoice=Invoice.objects.get(pk=issued.pk), user=owner.user)

    assert job is not None and job.kind == Job.Kind.INVOICE_PDF
