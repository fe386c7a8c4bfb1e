"""Sending invoices by e-mail, and the client's secret link (the portal).

A send is two steps. `invoice_send_start` runs in the request: it writes an
InvoiceDelivery row and its Job in one transaction and returns in milliseconds; the job is
handed to the broker after commit. `invoice_send_run` runs in the worker: it makes sure the
PDF is current, claims the delivery, sends one e-mail and records it.

Why the e-mail goes out at most once per delivery, even when the task runs twice: the
delivery is claimed with a conditional UPDATE (queued → sending) right before talking to the
mail server; a second run finds nothing to claim and sends nothing. The claim happens after
the PDF is ready (rendering is idempotent, sending is not) so the window in which a dead
worker leaves a delivery "sending" is only the SMTP conversation itself. An SMTP failure
is retried later (the delivery back to queued, the job re-sent with a countdown: a fresh
claim per attempt) only when the server surely did not take the message and the reason
is temporary; anything else fails with a message the person can act on (decision 0003).

The client link is a random token (192 bits from `secrets`, never derived from ids) stored
on the invoice; revoking it is setting it to NULL, regenerating replaces it, and a wrong or
revoked token is a plain 404. Token changes and the "viewed" mark are queryset UPDATEs: they
do not touch `updated_at`, and the PDF's state does not include them, so the stored PDF
stays current.
"""

from __future__ import annotations

import contextlib
import logging
import random
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formataddr, parseaddr
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from solodesk.core.exceptions import ApplicationError
from solodesk.core.models import Job
from solodesk.core.services import (
    job_complete,
    job_create,
    job_fail,
    job_heartbeat_timeout,
    job_retry_later,
    job_set_progress,
)
from solodesk.invoicing import pdf
from solodesk.invoicing.models import Invoice, InvoiceActivity, InvoiceDelivery
from solodesk.webhooks.services import webhook_event_record_invoice

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


def new_portal_token() -> str:
    """A fresh client-link token (also used by reminders for an invoice never sent)."""
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
            locked.portal_token = new_portal_token()
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
    if delivery.updated_at < timezone.now() - job_heartbeat_timeout():
        return _fail(job, delivery, in_doubt_message(delivery.to_email))
    return job


def in_doubt_message(to_email: str) -> str:
    return (
        f"The worker stopped while sending to {to_email}, so the e-mail may or may not "
        "have arrived. Check with your client before sending it again."
    )


def _claim(delivery: InvoiceDelivery) -> bool:
    claimed = InvoiceDelivery.objects.filter(
        pk=delivery.pk, status=InvoiceDelivery.Status.QUEUED
    ).update(status=InvoiceDelivery.Status.SENDING, updated_at=timezone.now())
    return claimed == 1


def smtp_error_message(error: Exception, to_email: str) -> str:
    """What went wrong, in words the person can act on (invoices and reminders)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = list(error.recipients.values())
        if replies and all(400 <= code < 500 for code, _reply in replies):
            code, reply = replies[0]
            said = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
            return (
                f"The mail server temporarily refused the address {to_email} "
                f"({code} {said}). Nothing was sent."
            )
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


@dataclass(frozen=True)
class SmtpFailure:
    error: Exception
    # The conversation broke after the message may have been handed over (a reply we
    # never read): the e-mail may have arrived. Otherwise the server surely did not take it.
    in_doubt: bool

    @property
    def is_transient(self) -> bool:
        """Worth another try later: the server was unreachable, or answered 4xx."""
        if self.in_doubt:
            return False
        error = self.error
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            return all(400 <= code < 500 for code, _reply in error.recipients.values())
        if isinstance(error, smtplib.SMTPResponseException):
            return 400 <= error.smtp_code < 500
        if isinstance(error, ssl.SSLError):
            return False  # a certificate or TLS setting: waiting does not fix it
        return isinstance(error, (smtplib.SMTPServerDisconnected, OSError))


def smtp_transmit(message: EmailMessage) -> SmtpFailure | None:
    """Send one message; None when the mail server accepted it (invoices and quotes).

    The connection is opened first, on its own: a failure there (refused, timeout, TLS,
    login) happens before any part of the message left, so it is surely not delivered.
    During the transaction, an SMTP reply code (4xx/5xx to MAIL, RCPT, DATA or the end
    of data) is the server saying it did not take the message. Anything else while the
    transaction runs (the connection dropped, a read timed out) leaves it in doubt."""
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as error:
        return SmtpFailure(error=error, in_doubt=False)
    try:
        connection.send_messages([message])
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as error:
        return SmtpFailure(error=error, in_doubt=False)
    except Exception as error:
        return SmtpFailure(error=error, in_doubt=True)
    finally:
        # A failing QUIT after the server accepted the message changes nothing.
        with contextlib.suppress(Exception):
            connection.close()
    return None


def _retry_delay(attempt: int) -> int | None:
    """Seconds until the next try after failed attempt number `attempt` (1-based), with
    up to 10 % jitter so many e-mails refused together do not return together; None when
    the attempts are used up."""
    delays = settings.INVOICE_EMAIL_RETRY_DELAYS
    if attempt > len(delays):
        return None
    delay = delays[attempt - 1]
    return delay + random.randint(0, max(delay // 10, 0))


def _after_smtp_failure(job: Job, delivery: InvoiceDelivery, failure: SmtpFailure) -> Job:
    """At most once per delivery: an e-mail that may have arrived is never sent again; one
    the server surely did not take is tried again later if the reason is temporary."""
    logger.warning(
        "Delivery %s failed: %r (in doubt: %s)", delivery.pk, failure.error, failure.in_doubt
    )
    if failure.in_doubt:
        return _fail(
            job,
            delivery,
            f"The connection to the mail server broke while sending to {delivery.to_email} "
            f"({failure.error.__class__.__name__}), so the e-mail may or may not have "
            "arrived. Check with your client before sending it again.",
        )
    reason = smtp_error_message(failure.error, delivery.to_email)
    delay = _retry_delay(job.attempts) if failure.is_transient else None
    if delay is None:
        if failure.is_transient:
            reason = f"{reason} (Gave up after {job.attempts} attempts.)"
        return _fail(job, delivery, reason)
    retry_at = timezone.now() + timedelta(seconds=delay)
    message = f"{reason} Trying again at {retry_at:%H:%M} UTC (attempt {job.attempts + 1})."
    with transaction.atomic():
        # Back to "queued" only from our own claim: nothing else may have moved it.
        InvoiceDelivery.objects.filter(
            pk=delivery.pk, status=InvoiceDelivery.Status.SENDING
        ).update(status=InvoiceDelivery.Status.QUEUED, error=message, updated_at=timezone.now())
        job_retry_later(job=job, delay_seconds=delay, message=message)
    return job


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
    # Everything but the SMTP conversation happens before the claim, so a delivery that
    # is "sending" is one whose e-mail is on the wire: nothing else can leave it there.
    message = invoice_email_message(
        delivery=delivery, pdf_name=pdf.invoice_pdf_filename(invoice), pdf_bytes=pdf_bytes
    )
    if not _claim(delivery):
        delivery.refresh_from_db(fields=["status", "error", "updated_at"])
        return _unclaimed(job, delivery)
    failure = smtp_transmit(message)
    if failure is not None:
        return _after_smtp_failure(job, delivery, failure)
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
        # invoice.sent: when the mail server accepted the e-mail, not at the send action.
        webhook_event_record_invoice(invoice=invoice, event_type="invoice.sent")
    return job_complete(job=job)


def invoice_deliveries_sweep(*, limit: int = 500) -> int:
    """Close deliveries that no job will finish, so no send stays "sending" or "queued"
    on the invoice page forever. Returns how many it closed.

    - "sending" for longer than the job heartbeat timeout while its job is finished (it
      failed on a time limit or an unexpected error mid-conversation) or gone: the only
      step after the claim is the SMTP conversation, so the e-mail may have left. It is
      marked failed with a message saying so, and never re-queued (decision 0003). A job
      still "running" is left to the job sweeper: its re-run reaches `_unclaimed`.
    - "queued" while its job failed or is gone: nothing was sent, and the job already told
      the user it failed; the delivery says the same instead of waiting forever."""
    stale_before = timezone.now() - job_heartbeat_timeout()
    finished = [Job.Status.SUCCEEDED, Job.Status.FAILED]
    rows = list(
        InvoiceDelivery.objects.filter(
            Q(status=InvoiceDelivery.Status.SENDING, updated_at__lt=stale_before)
            & (Q(job__isnull=True) | Q(job__status__in=finished))
            | Q(status=InvoiceDelivery.Status.QUEUED)
            & (Q(job__isnull=True) | Q(job__status=Job.Status.FAILED))
        )
        .order_by("pk")
        .values_list("pk", "status", "to_email", "job_id", "job__error")[:limit]
    )
    closed = 0
    for delivery_id, status, to_email, job_id, job_error in rows:
        if status == InvoiceDelivery.Status.SENDING:
            error = in_doubt_message(to_email)
        else:
            error = (
                job_error or "The send job stopped before the e-mail went out. Nothing was sent."
            )
        closed += InvoiceDelivery.objects.filter(pk=delivery_id, status=status).update(
            status=InvoiceDelivery.Status.FAILED, error=error, updated_at=timezone.now()
        )
        if job_id is not None:
            job_fail(job_id=job_id, error=error)
    return closed


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
        token = new_portal_token()
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
            webhook_event_record_invoice(invoice=invoice, event_type="invoice.viewed")
    if recorded:
        invoice.portal_viewed_at = now
    return bool(recorded)


def portal_pdf_request(*, invoice: Invoice) -> Job | None:
    """The portal's "Download PDF": None when the stored PDF is current, else the job that
    renders it (owned by the workspace's owner: the client has no account)."""
    return pdf.invoice_pdf_request(invoice=invoice, user=None)
