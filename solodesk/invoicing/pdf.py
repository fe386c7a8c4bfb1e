"""The invoice PDF: rendered by WeasyPrint from an HTML template in a worker, stored, re-used.

Rendering takes a few hundred milliseconds of CPU, so it never happens in a web request:
pages and the API ask for it with `invoice_pdf_request` (a Job) and serve the stored file
once it is current. "Current" is decided by `invoice_pdf_state`, a digest of exactly what the
PDF shows (the same dictionary the template receives), so the file is re-used until
something visible changes (a payment, a voided status, an edited draft) and never because
an unrelated column moved. Both the PDF task and the send task go through
`invoice_pdf_ensure`, so a send after a download re-uses the file, and a task delivered
twice renders once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile, File
from django.db.models.fields.files import FieldFile

from solodesk.accounts.selectors import workspace_owner_get
from solodesk.core.models import Job
from solodesk.core.pdf import (
    content_digest,
    document_figures_content,
    document_filename,
    pdf_render,
)
from solodesk.core.services import job_create, job_set_progress, job_succeed
from solodesk.invoicing.calculation import document_totals
from solodesk.invoicing.models import Invoice

if TYPE_CHECKING:
    from solodesk.accounts.models import User

logger = logging.getLogger(__name__)

PDF_TEMPLATE = "invoicing/pdf/invoice.html"
PDF_TASK = "solodesk.invoicing.tasks.invoice_pdf_task"
# Bump when the template changes in a way that should replace PDFs already stored.
PDF_LAYOUT_VERSION = "2"


def _parties(invoice: Invoice) -> tuple[dict[str, str], dict[str, str]]:
    """Issued documents show the seller and buyer as they were at issue; a draft shows the
    workspace's and client's details as they are now (and is re-rendered when they change)."""
    if not invoice.is_draft and (invoice.seller or invoice.buyer):
        seller, buyer = dict(invoice.seller), dict(invoice.buyer)
    else:
        workspace, client = invoice.workspace, invoice.client
        seller = {
            "name": workspace.name,
            "address": workspace.address,
            "tax_id": workspace.tax_id,
            "payment_details": workspace.payment_details,
        }
        buyer = {
            "name": client.name,
            "email": client.email,
            "address": client.address,
            "tax_id": client.tax_id,
        }
    keys = ("name", "address", "tax_id", "email", "payment_details")
    return (
        {key: str(seller.get(key) or "").strip() for key in keys},
        {key: str(buyer.get(key) or "").strip() for key in keys},
    )


def invoice_pdf_content(invoice: Invoice) -> dict[str, Any]:
    """Everything the PDF shows, as plain data: the template's context and the input of the
    state digest. Reads the lines (prefetched ones are used as they are) and, for drafts and
    credit notes, the workspace/client and the credited invoice."""
    seller, buyer = _parties(invoice)
    lines = list(invoice.lines.all())
    totals = document_totals(invoice, lines)
    is_credit_note = invoice.kind == Invoice.Kind.CREDIT_NOTE
    credited = invoice.credited_invoice if invoice.credited_invoice_id else None
    return {
        "layout": PDF_LAYOUT_VERSION,
        "public_id": str(invoice.public_id),
        "kind": invoice.kind,
        "is_credit_note": is_credit_note,
        "title": "Credit note" if is_credit_note else "Invoice",
        "status": invoice.status,
        "is_draft": invoice.is_draft,
        "is_paid": invoice.status == Invoice.Status.PAID,
        "is_void": invoice.status == Invoice.Status.VOID,
        "number": invoice.number or "",
        "credited_number": (credited.number or "") if credited else "",
        "currency": invoice.currency,
        # The workspace's current locale (issued documents too): changing it re-renders.
        "locale": invoice.workspace.locale,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "paid_on": invoice.paid_on,
        "seller": seller,
        "buyer": buyer,
        **document_figures_content(invoice, lines, totals.tax_groups),
        "amount_paid": invoice.amount_paid,
        "amount_credited": invoice.amount_credited,
        "amount_due": invoice.amount_due,
        "notes": invoice.notes.strip(),
    }


def invoice_pdf_state(invoice: Invoice) -> str:
    """A digest (64 hex characters) of what the PDF shows: equal digests, identical PDFs.

    Deliberately not `updated_at`: saving the PDF, the send time or the client link must not
    make the PDF stale, and a payment must, whichever way each column is written."""
    return content_digest(invoice_pdf_content(invoice))


def invoice_pdf_filename(invoice: Invoice) -> str:
    """The name people see: "2026-0007.pdf", "CN-2026-0001.pdf", "draft-<uuid>.pdf"."""
    return document_filename(invoice.number, fallback=f"draft-{invoice.public_id}")


def invoice_pdf_is_current(invoice: Invoice, *, state: str | None = None) -> bool:
    """True when the stored PDF shows the invoice as it is now (no storage round trip)."""
    if not invoice.pdf_file or not invoice.pdf_state:
        return False
    return invoice.pdf_state == (state or invoice_pdf_state(invoice))


def invoice_pdf_render(*, invoice: Invoice) -> bytes:
    """The PDF\'s bytes (see core.pdf.pdf_render): call it from a worker, never a request."""
    return pdf_render(PDF_TEMPLATE, invoice_pdf_content(invoice))


def invoice_pdf_ensure(*, invoice: Invoice) -> FieldFile:
    """The stored PDF if it is current, else a fresh one: rendered, stored, and recorded.

    Written with a targeted UPDATE of pdf_file/pdf_state only (no save(), so no updated_at
    and no clobbering of columns another process changed meanwhile). The UPDATE is
    conditional on the file we replaced: when two workers render the same invoice at once,
    the first one's file wins and the second removes its own copy instead of leaving it
    orphaned."""
    state = invoice_pdf_state(invoice)
    storage = invoice.pdf_file.storage
    if invoice_pdf_is_current(invoice, state=state) and storage.exists(invoice.pdf_file.name or ""):
        return invoice.pdf_file
    previous = invoice.pdf_file.name or ""
    data = invoice_pdf_render(invoice=invoice)
    field = Invoice._meta.get_field("pdf_file")
    name = storage.save(
        field.generate_filename(invoice, invoice_pdf_filename(invoice)),  # type: ignore[union-attr]
        ContentFile(data),
    )
    stored = Invoice.objects.filter(pk=invoice.pk, pdf_file=previous).update(
        pdf_file=name, pdf_state=state
    )
    if stored:
        if previous and previous != name:
            storage.delete(previous)
        invoice.pdf_file.name = name
    else:
        storage.delete(name)
        current = Invoice.objects.values("pdf_file", "pdf_state").get(pk=invoice.pk)
        invoice.pdf_file.name, state = current["pdf_file"], current["pdf_state"]
    invoice.pdf_state = state
    return invoice.pdf_file


def _job_owner(invoice: Invoice) -> User:
    owner = workspace_owner_get(workspace_id=invoice.workspace_id)
    if owner is None:
        raise ValueError(f"Workspace {invoice.workspace_id} has no owner to run its jobs.")
    return owner


def invoice_pdf_request(*, invoice: Invoice, user: User | None) -> Job | None:
    """None when the stored PDF is current; else the job that renders it.

    Re-uses an unfinished PDF job of the same invoice (the user's own: a job's page and
    download are its owner's), so clicking "Download PDF" twice starts one render. With no
    user (the client portal), any unfinished job of the invoice will do, and a new one
    belongs to the workspace's owner."""
    if invoice_pdf_is_current(invoice) and invoice.pdf_file.storage.exists(
        invoice.pdf_file.name or ""
    ):
        return None
    unfinished = Job.objects.filter(
        workspace_id=invoice.workspace_id,
        kind=Job.Kind.INVOICE_PDF,
        status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
        params__invoice_id=invoice.pk,
    )
    if user is not None:
        unfinished = unfinished.filter(owner=user)
    job = unfinished.order_by("-created_at", "-pk").first()
    if job is not None:
        return job
    return job_create(
        workspace=invoice.workspace,
        owner=user if user is not None else _job_owner(invoice),
        kind=Job.Kind.INVOICE_PDF,
        task_name=PDF_TASK,
        params={"invoice_id": invoice.pk},
    )


def invoice_for_pdf(*, job: Job) -> Invoice:
    """The job's invoice with what rendering reads, scoped to the job's workspace."""
    return (
        Invoice.objects.select_related("workspace", "client", "credited_invoice")
        .prefetch_related("lines")
        .get(pk=job.params["invoice_id"], workspace_id=job.workspace_id)
    )


def invoice_pdf_run(*, job: Job) -> Job:
    """The PDF task's work: ensure the invoice's PDF, then hand a copy to the job so its
    download page serves it like any other job result."""
    invoice = invoice_for_pdf(job=job)
    job_set_progress(job=job, progress=10)
    pdf_file = invoice_pdf_ensure(invoice=invoice)
    job_set_progress(job=job, progress=90)
    with pdf_file.open("rb") as handle:
        return job_succeed(
            job=job,
            file=File(handle),
            filename=invoice_pdf_filename(invoice),
            content_type="application/pdf",
        )
