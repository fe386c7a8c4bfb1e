"""Sending invoices by e-mail, and the client's secret link (the portal).

A send is two steps. `invoice_send_start` runs in the request: it writes an
InvoiceDelivery row and its Job in one transaction and returns in milliseconds; the job is
handed to the broker after commit. `invoice_send_run` runs in the worker: it makes sure the
PDF is current, claims the delivery, sends one e-mail and records it.

Why the e-mail goes out at most once per delivery, even when the task runs twice: the
delivery is claimed with a conditional UPDATE (queued → sending) right before talking to the
mail server; a second run finds nothing to claim and sends nothing. The claim happens after
the PDF is ready (rendering is idempotent, sending is not) so the window in which a dead
worker leaves a delivery "sending" is only the SMTP conversation itself. A transient SMTP
error fails the delivery with a message instead of retrying in a loop: the person sees it
and sends again (a retry with backoff would need a fresh claim per attempt — see the report).

The client link is a random token (192 bits from `secrets`, never derived from ids) stored
on the invoice; revoking it is setting it to NULL, regenerating replaces it, and a wrong or
revoked token is a plain 404. Token changes and the "viewed" mark are queryset UPDATEs: they
do not touch `updated_at`, and the PDF's state does not include them, so the stored PDF
stays current.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from email.utils import formataddr, parseaddr
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from solodesk.core.exceptions import ApplicationError
from solodesk.core.models import Job
from solodesk.core.services import (
    JOB_HEARTBEAT_TIMEOUT,
    job_complete,
    job_create,
    job_fail,
    job_set_progress,
)
from solodesk.invoicing import pdf
from solodesk.invoicing.models import Invoice, InvoiceActivity, InvoiceDelivery

if TYPE_CHECKING:
    from solodesk.accounts.models import User

logger = logging.getLogger(__name__)

SEND_TASK = "solodesk.invoicing.tasks.invoice_send_task"
SENDABLE_STATUSES = (
    Invoice.Status.ISSUED,
    Invoice.Status.PARTIALLY_PAID,
    Invoice.Status.PAID,
)
# 24 bytes = 192 random bits, 32 URL-safe characters.
PORTAL_TOKEN_BYTES = 24
EMAIL_TEMPLATE = "invoicing/email/invoice.txt"


# --- helpers ---------------------------------------------------------------------------------


def _activity(invoice: Invoice, user: User | None, action: str, message: str = "") -> None:
    InvoiceActivity.objects.create(
        invoice=invoice, actor=user, action=action, message=message[:500]
    )


def _lock(invoice: Invoice) -> Invoice:
    """The invoice re-read under a row lock: two sends creating the first client link, or a
    send racing a revoke, serialise here."""
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("client", "workspace")
        .get(pk=invoice.pk)
    )


def _new_token() -> str:
    return secrets.token_urlsafe(PORTAL_TOKEN_BYTES)


def _document_label(invoice: Invoice) -> str:
    """ "Invoice 2026-0007", "Credit note CN-2026-0001"."""
    kind = "Credit note" if invoice.kind == Invoice.Kind.CREDIT_NOTE else "Invoice"
    return f"{kind} {invoice.number}" if invoice.number else f"Draft {kind.lower()}"


def invoice_can_send(invoice: Invoice) -> bool:
    """Issued, partly paid or paid invoices, and issued credit notes."""
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        return invoice.status == Invoice.Status.ISSUED
    return invoice.status in SENDABLE_STATUSES


def _check_sendable(invoice: Invoice) -> None:
    if invoice.is_draft:
        raise ApplicationError(
            "Issue the invoice before sending it: a draft has no number yet.",
            errors={"status": ["Issue the invoice before sending it: a draft has no number yet."]},
        )
    if not invoice_can_send(invoice):
        status = invoice.get_status_display().lower()
        message = f"A {status} {invoice.get_kind_display().lower()} cannot be sent."
        raise ApplicationError(message, errors={"status": [message]})


def portal_url(invoice: Invoice) -> str | None:
    """The client's link, absolute (for e-mails and the API); None while there is none."""
    if not invoice.portal_token:
        return None
    return settings.SITE_URL + reverse("portal:invoice", args=[invoice.portal_token])


# --- sending ---------------------------------------------------------------------------------


def invoice_send_start(
    *, invoice: Invoice, user: User, to_email: str | None = None
) -> InvoiceDelivery:
    """Queue one e-mail of the invoice (PDF attached, client link in the text).

    The delivery and its job are written in one transaction and the job reaches the broker
    only after commit. Each call is its own send action: calling twice sends twice."""
    with transaction.atomic():
        locked = _lock(invoice)
        _check_sendable(locked)
        address = (to_email or "").strip() or (locked.client.email or "").strip()
        if not address:
            raise ApplicationError.for_field(
                "to_email", "This client has no e-mail address: enter one to send the invoice to."
            )
        try:
            validate_email(address)
        except ValidationError:
            raise ApplicationError.for_field(
                "to_email", f"“{address[:100]}” is not a valid e-mail address."
            ) from None
        if not locked.portal_token:
            locked.portal_token = _new_token()
            Invoice.objects.filter(pk=locked.pk).update(portal_token=locked.portal_token)
        invoice.portal_token = locked.portal_token
        delivery = InvoiceDelivery.objects.create(
            invoice=locked, requested_by=user, to_email=address
        )
        job = job_create(
            workspace=locked.workspace,
            owner=user,
            kind=Job.Kind.INVOICE_SEND,
            task_name=SEND_TASK,
            params={"delivery_id": delivery.pk},
        )
        InvoiceDelivery.objects.filter(pk=delivery.pk).update(job=job)
        delivery.job = job
    return delivery


def _delivery_for(job: Job) -> InvoiceDelivery:
    """The job's delivery with what the e-mail and the PDF read, in the job's workspace."""
    return (
        InvoiceDelivery.objects.select_related(
            "requested_by",
            "invoice__workspace",
            "invoice__client",
            "invoice__credited_invoice",
        )
        .prefetch_related("invoice__lines")
        .get(pk=job.params["delivery_id"], invoice__workspace_id=job.workspace_id)
    )


def _fail(job: Job, delivery: InvoiceDelivery, error: str) -> Job:
    """Record a failed send on the delivery (whichever step it reached) and on the job."""
    InvoiceDelivery.objects.filter(
        pk=delivery.pk, status__in=[InvoiceDelivery.Status.QUEUED, InvoiceDelivery.Status.SENDING]
    ).update(status=InvoiceDelivery.Status.FAILED, error=error, updated_at=timezone.now())
    job_fail(job_id=job.pk, error=error)
    job.refresh_from_db()
    return job


def _unclaimed(job: Job, delivery: InvoiceDelivery) -> Job:
    """Another run got to this delivery first: finish the job to match, never send again."""
    if delivery.status == InvoiceDelivery.Status.SENT:
        return job_complete(job=job)
    if delivery.status == InvoiceDelivery.Status.FAILED:
        job_fail(job_id=job.pk, error=delivery.error or "The e-mail could not be sent.")
        job.refresh_from_db()
        return job
    # "sending": a live run is talking to the mail server (it finishes the job), or a run
    # died mid-conversation. We cannot know whether that e-mail left, so we say so rather
    # than risk a second copy in the client's inbox.
    if delivery.updated_at < timezone.now() - JOB_HEARTBEAT_TIMEOUT:
        return _fail(
            job,
            delivery,
            f"The worker stopped while sending to {delivery.to_email}, so the e-mail may or "
            "may not have arrived. Check with your client before sending it again.",
        )
    return job


def _claim(delivery: InvoiceDelivery) -> bool:
    claimed = InvoiceDelivery.objects.filter(
        pk=delivery.pk, status=InvoiceDelivery.Status.QUEUED
    ).update(status=InvoiceDelivery.Status.SENDING, updated_at=timezone.now())
    return claimed == 1


def _smtp_error_message(error: Exception, to_email: str) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return f"The mail server refused the address {to_email}. Check it and send again."
    if isinstance(error, smtplib.SMTPResponseException):
        raw = error.smtp_error
        detail = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw or "")
        kind = "temporarily refused" if 400 <= error.smtp_code < 500 else "refused"
        return (
            f"The mail server {kind} the message ({f'{error.smtp_code} {detail}'.strip()}). "
            "Nothing was sent; try again later or check the e-mail settings."
        )
    if isinstance(error, (smtplib.SMTPException, OSError)):
        return (
            f"Could not reach the mail server ({error.__class__.__name__}: {error}). "
            "Nothing was sent; check the e-mail settings and try again."
        )
    return "The e-mail could not be sent. Try again."


def invoice_email_message(
    *, delivery: InvoiceDelivery, pdf_name: str, pdf_bytes: bytes
) -> EmailMessage:
    """The e-mail the client receives: who it is from, what is due and by when, how to pay,
    the link to see it online, and the PDF."""
    invoice = delivery.invoice
    seller = invoice.seller or {}
    buyer = invoice.buyer or {}
    business = seller.get("name") or invoice.workspace.name
    label = _document_label(invoice)
    _display, from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    credited = invoice.credited_invoice if invoice.credited_invoice_id else None
    text = render_to_string(
        EMAIL_TEMPLATE,
        {
            "invoice": invoice,
            "label": label,
            "is_credit_note": invoice.kind == Invoice.Kind.CREDIT_NOTE,
            "credited_number": credited.number if credited else "",
            "business": business,
            "buyer_name": buyer.get("name") or invoice.client.name,
            "seller": seller,
            "portal_url": portal_url(invoice),
            "is_paid": invoice.status == Invoice.Status.PAID,
            "is_overdue": invoice.is_overdue,
        },
    )
    body = text.strip() + "\n"
    reply_to = []
    if delivery.requested_by is not None and delivery.requested_by.email:
        reply_to = [delivery.requested_by.email]
    message = EmailMessage(
        subject=f"{label} from {business}",
        body=body,
        from_email=formataddr((business, from_address or "solodesk@localhost")),
        to=[delivery.to_email],
        reply_to=reply_to,
    )
    message.attach(pdf_name, pdf_bytes, "application/pdf")
    return message


def invoice_send_run(*, job: Job) -> Job:
    """The send task's work, for a job already claimed by `job_claim`. Sends at most one
    e-mail per delivery however often it runs; every outcome ends in the job's status."""
    delivery = _delivery_for(job)
    if delivery.status != InvoiceDelivery.Status.QUEUED:
        return _unclaimed(job, delivery)
    invoice = delivery.invoice
    job_set_progress(job=job, progress=10)
    try:
        pdf_file = pdf.invoice_pdf_ensure(invoice=invoice)
        with pdf_file.open("rb") as handle:
            pdf_bytes = handle.read()
    except Exception:
        logger.exception("PDF for delivery %s failed", delivery.pk)
        return _fail(
            job,
            delivery,
            "The invoice PDF could not be prepared, so nothing was sent. Try again in a minute.",
        )
    job_set_progress(job=job, progress=60)
    if not _claim(delivery):
        delivery.refresh_from_db(fields=["status", "error", "updated_at"])
        return _unclaimed(job, delivery)
    message = invoice_email_message(
        delivery=delivery, pdf_name=pdf.invoice_pdf_filename(invoice), pdf_bytes=pdf_bytes
    )
    try:
        message.send(fail_silently=False)
    except Exception as error:
        logger.warning("Delivery %s failed: %r", delivery.pk, error)
        return _fail(job, delivery, _smtp_error_message(error, delivery.to_email))
    now = timezone.now()
    with transaction.atomic():
        InvoiceDelivery.objects.filter(pk=delivery.pk).update(
            status=InvoiceDelivery.Status.SENT, sent_at=now, error="", updated_at=now
        )
        Invoice.objects.filter(pk=invoice.pk, sent_at__isnull=True).update(sent_at=now)
        _activity(
            invoice,
            delivery.requested_by,
            InvoiceActivity.Action.SENT,
            f"Sent to {delivery.to_email}.",
        )
    return job_complete(job=job)


# --- the client link -------------------------------------------------------------------------


def portal_link_regenerate(*, invoice: Invoice, user: User) -> Invoice:
    """A new client link; the old one stops working at once. (Creates the first link for an
    invoice that was never sent, to share by hand.)"""
    with transaction.atomic():
        locked = _lock(invoice)
        if locked.is_draft:
            raise ApplicationError(
                "Issue the invoice first: a draft has no client link.",
                errors={"status": ["Issue the invoice first: a draft has no client link."]},
            )
        had_link = bool(locked.portal_token)
        token = _new_token()
        Invoice.objects.filter(pk=locked.pk).update(portal_token=token)
        _activity(
            locked,
            user,
            InvoiceActivity.Action.PORTAL_LINK_RESET,
            "New client link; the old one no longer works." if had_link else "Client link created.",
        )
    invoice.portal_token = token
    return invoice


def portal_link_revoke(*, invoice: Invoice, user: User) -> Invoice:
    """The client link stops working (a plain 404) until a new one is made or it is sent."""
    with transaction.atomic():
        locked = _lock(invoice)
        if locked.portal_token:
            Invoice.objects.filter(pk=locked.pk).update(portal_token=None)
            _activity(
                locked,
                user,
                InvoiceActivity.Action.PORTAL_LINK_RESET,
                "Client link revoked.",
            )
    invoice.portal_token = None
    return invoice


def portal_view_record(*, invoice: Invoice) -> bool:
    """Mark the first time the client opened the link; True only for that first time.

    The conditional UPDATE (portal_viewed_at IS NULL) is the once-only guard: two clicks at
    the same moment record one view. `savepoint=False` keeps this to two statements."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        recorded = Invoice.objects.filter(pk=invoice.pk, portal_viewed_at__isnull=True).update(
            portal_viewed_at=now
        )
        if recorded:
            _activity(
                invoice, None, InvoiceActivity.Action.VIEWED, "The client opened the invoice link."
            )
    if recorded:
        invoice.portal_viewed_at = now
    return bool(recorded)


def portal_pdf_request(*, invoice: Invoice) -> Job | None:
    """The portal's "Download PDF": None when the stored PDF is current, else the job that
    renders it (owned by the workspace's owner: the client has no account)."""
    return pdf.invoice_pdf_request(invoice=invoice, user=None)
