"""Writes for quotes: drafts, sending (number + portal link + one e-mail, in a task), the
client's answer from the portal, and converting an accepted quote into a draft invoice
and/or a project.

State changes re-read the quote under a row lock (`_lock`) so two requests cannot both
send, accept or convert it; each writes a QuoteActivity. The quote number comes from the
invoicing counter row (series "quote"), taken inside the sending transaction: gapless.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone

from solodesk.accounts.models import User, Workspace
from solodesk.clients.models import Client
from solodesk.core.exceptions import ApplicationError
from solodesk.core.l10n import format_date, format_money
from solodesk.core.services import tasks_send
from solodesk.invoicing.calculation import document_totals
from solodesk.invoicing.models import DocumentCounter
from solodesk.invoicing.sending import smtp_error_message, smtp_transmit
from solodesk.invoicing.services import (
    decimal_from_input,
    document_lines_clean,
    document_number_next,
    invoice_create_draft,
)
from solodesk.projects.models import Project
from solodesk.projects.services import project_create
from solodesk.quotes.models import (
    QUOTE_NUMBER_FORMAT,
    VALIDITY_DAYS,
    Quote,
    QuoteActivity,
    QuoteLine,
)
from solodesk.quotes.pdf import quote_pdf_ensure, quote_pdf_filename
from solodesk.webhooks.services import webhook_event_record_quote

logger = logging.getLogger(__name__)

EMAIL_TASK_NAME = "solodesk.quotes.tasks.quote_email_task"
DRAFT_FIELDS = ("issue_date", "valid_until", "discount_type", "discount_value", "notes")
SENT_CHANGE_MESSAGE = "A sent quote cannot be changed."
NOT_OPEN_MESSAGE = "This quote can no longer be answered."
EXPIRED_MESSAGE = "This quote has expired; ask for a new one."
# 32 random bytes → 256 bits, URL-safe text of 43 characters.
PORTAL_TOKEN_BYTES = 32


# --- helpers ---------------------------------------------------------------------------------


def _activity(quote: Quote, user: User | None, action: str, message: str = "") -> None:
    QuoteActivity.objects.create(quote=quote, actor=user, action=action, message=message[:500])


def _today(workspace: Workspace) -> dt.date:
    return timezone.localdate(timezone=workspace.tzinfo)


def _lock(quote: Quote) -> Quote:
    """Re-read under a row lock: sending, answering and converting serialise here."""
    return (
        Quote.objects.select_for_update(of=("self",))
        .select_related("workspace", "client")
        .get(pk=quote.pk)
    )


def _clean_lines(
    *, workspace: Workspace, currency: str, lines: Iterable[dict[str, Any]]
) -> list[QuoteLine]:
    """Line dicts as unsaved quote lines, checked by the invoice rules."""
    return [
        QuoteLine(
            position=position,
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            tax_rate=line.tax_rate,
        )
        for position, line in enumerate(
            document_lines_clean(
                workspace=workspace, currency=currency, lines=lines, document="A quote"
            )
        )
    ]


def _apply_fields(quote: Quote, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown quote fields: {', '.join(sorted(unknown))}")
    if "issue_date" in fields:
        quote.issue_date = fields["issue_date"]
    if "valid_until" in fields and fields["valid_until"] is not None:
        quote.valid_until = fields["valid_until"]
    if "notes" in fields:
        quote.notes = str(fields["notes"] or "").strip()
    if "discount_type" in fields:
        quote.discount_type = fields["discount_type"] or Quote.DiscountType.NONE
    if "discount_value" in fields:
        value = fields["discount_value"]
        quote.discount_value = decimal_from_input(
            "0" if value is None else value, "discount_value", "The discount"
        )
    if quote.discount_type not in Quote.DiscountType.values:
        raise ApplicationError.for_field("discount_type", "Choose no discount, percent or amount.")
    if quote.discount_type == Quote.DiscountType.NONE:
        quote.discount_value = Decimal("0.00")
    value = quote.discount_value
    if value < 0 or value >= 10**12 or value != value.quantize(Decimal("0.01")):
        raise ApplicationError.for_field(
            "discount_value", "The discount must be positive, with at most 2 decimals."
        )
    if quote.discount_type == Quote.DiscountType.PERCENT and value > 100:
        raise ApplicationError.for_field(
            "discount_value", "A percentage discount is at most 100 %."
        )
    if quote.issue_date and quote.valid_until < quote.issue_date:
        raise ApplicationError.for_field(
            "valid_until", "The quote cannot expire before its issue date."
        )


def _store_totals(quote: Quote, lines: list[QuoteLine]) -> None:
    totals = document_totals(quote, lines)
    for line, total in zip(lines, totals.line_totals, strict=True):
        line.total = total
    quote.subtotal = totals.subtotal
    quote.discount_amount = totals.discount_amount
    quote.tax_total = totals.tax_total
    quote.total = totals.total


def _check_draft(quote: Quote) -> None:
    if quote.status != Quote.Status.DRAFT:
        raise ApplicationError(SENT_CHANGE_MESSAGE)


def _copy_back(target: Quote, source: Quote) -> Quote:
    """Keep the caller's object in step with the locked row the service changed."""
    for model_field in Quote._meta.concrete_fields:
        setattr(target, model_field.attname, getattr(source, model_field.attname))
    return source


def portal_url(quote: Quote) -> str | None:
    if not quote.portal_token:
        return None
    return settings.SITE_URL + reverse("quote_portal:quote", args=[quote.portal_token])


# --- drafts ----------------------------------------------------------------------------------


@transaction.atomic
def quote_create_draft(
    *,
    workspace: Workspace,
    user: User,
    client: Client,
    lines: Iterable[dict[str, Any]] = (),
    issue_date: dt.date | None = None,
    valid_until: dt.date | None = None,
    discount_type: str = "none",
    discount_value: Decimal = Decimal("0"),
    notes: str = "",
) -> Quote:
    if client.workspace_id != workspace.pk:
        raise ApplicationError.for_field("client_id", "Client not found.")
    quote = Quote(
        workspace=workspace,
        client=client,
        currency=client.currency,
        valid_until=valid_until
        or (issue_date or _today(workspace)) + dt.timedelta(days=VALIDITY_DAYS),
    )
    _apply_fields(
        quote,
        {
            "issue_date": issue_date,
            "discount_type": discount_type,
            "discount_value": discount_value,
            "notes": notes,
        },
    )
    built = _clean_lines(workspace=workspace, currency=quote.currency, lines=lines)
    _store_totals(quote, built)
    quote.save()
    for line in built:
        line.quote = quote
    QuoteLine.objects.bulk_create(built)
    _activity(quote, user, QuoteActivity.Action.CREATED, "Draft created.")
    return quote


@transaction.atomic
def quote_update_draft(
    *, quote: Quote, user: User, lines: Iterable[dict[str, Any]] | None = None, **fields: Any
) -> Quote:
    locked = _lock(quote)
    _check_draft(locked)
    _apply_fields(locked, fields)
    if lines is not None:
        built = _clean_lines(workspace=locked.workspace, currency=locked.currency, lines=lines)
        locked.lines.all().delete()
        for line in built:
            line.quote = locked
    else:
        built = list(locked.lines.all())
    _store_totals(locked, built)
    locked.save()
    if lines is not None:
        QuoteLine.objects.bulk_create(built)
    else:
        QuoteLine.objects.bulk_update(built, ["total"])
    _activity(locked, user, QuoteActivity.Action.UPDATED, "Draft updated.")
    return _copy_back(quote, locked)


@transaction.atomic
def quote_delete_draft(*, quote: Quote, user: User) -> None:
    locked = _lock(quote)
    if locked.status != Quote.Status.DRAFT:
        raise ApplicationError("A sent quote cannot be deleted.")
    locked.delete()


# --- sending ---------------------------------------------------------------------------------


def _enqueue_email(quote_id: int) -> None:
    """After commit. A broker outage does not fail the send: the quote itself is the
    outbox row (sent, with a link, `emailed_at` empty) and `quote_emails_requeue_stale`
    hands its e-mail to the broker again later."""
    tasks_send(EMAIL_TASK_NAME, [quote_id], label="the e-mail of quote {id}")


# A quote e-mail refused this often (each refusal is an "E-mail failed" activity), or
# still unsent this long after the quote was sent, is left alone: the activity says why.
QUOTE_EMAIL_MAX_FAILURES = 5
QUOTE_EMAIL_GIVE_UP_AFTER = dt.timedelta(days=2)


def quote_emails_requeue_stale(*, older_than: dt.timedelta, limit: int = 200) -> int:
    """Enqueue again the e-mails of sent quotes that have not gone out `older_than` after
    the quote was sent: their message never reached the broker, or a worker lost it. A
    duplicate is harmless: `quote_email_deliver` claims `emailed_at` before sending.
    One query, bounded by `limit`."""
    now = timezone.now()
    pending = list(
        Quote.objects.filter(
            status=Quote.Status.SENT,
            portal_token__isnull=False,
            emailed_at__isnull=True,
            sent_at__lt=now - older_than,
            sent_at__gte=now - QUOTE_EMAIL_GIVE_UP_AFTER,
        )
        .annotate(
            failures=Count(
                "activities", filter=Q(activities__action=QuoteActivity.Action.EMAIL_FAILED)
            )
        )
        .filter(failures__lt=QUOTE_EMAIL_MAX_FAILURES)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for quote_id in pending:
        _enqueue_email(quote_id)
    return len(pending)


@transaction.atomic
def quote_send(*, quote: Quote, user: User, to_email: str | None = None) -> Quote:
    """Draft → sent: the quote gets its number (gapless: taken from the locked counter row
    inside this transaction) and its secret client link; the e-mail leaves in a task after
    commit, so a rollback never e-mails a quote that was not sent."""
    locked = _lock(quote)
    if locked.status != Quote.Status.DRAFT:
        raise ApplicationError("This quote was sent already.")
    if locked.total <= 0 or not locked.lines.exists():
        raise ApplicationError("Add at least one line with an amount before sending the quote.")
    recipient = (to_email or locked.client.email or "").strip()
    if not recipient:
        raise ApplicationError.for_field(
            "to_email", "The client has no e-mail address; enter one to send the quote to."
        )
    try:
        validate_email(recipient)
    except ValidationError:
        raise ApplicationError.for_field("to_email", "Enter a valid e-mail address.") from None
    today = _today(locked.workspace)
    locked.issue_date = locked.issue_date or today
    if locked.valid_until < today:
        raise ApplicationError.for_field(
            "valid_until", "The quote's valid-until date has passed; choose a later one."
        )
    locked.number, locked.number_sequence = document_number_next(
        workspace=locked.workspace,
        series=DocumentCounter.Series.QUOTE,
        year=locked.issue_date.year,
        number_format=QUOTE_NUMBER_FORMAT,
    )
    locked.number_year = locked.issue_date.year
    locked.status = Quote.Status.SENT
    locked.sent_at = timezone.now()
    locked.sent_to = recipient
    locked.portal_token = secrets.token_urlsafe(PORTAL_TOKEN_BYTES)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        raise ApplicationError(f"The number {locked.number} is already used.") from None
    _activity(locked, user, QuoteActivity.Action.SENT, f"Sent as {locked.number} to {recipient}.")
    quote_id = locked.pk
    transaction.on_commit(lambda: _enqueue_email(quote_id))
    return _copy_back(quote, locked)


def _email_pdf(quote_id: int) -> FieldFile | None:
    """The quote's current PDF for the e-mail, rendered here if needed (this runs in the
    e-mail task, a worker). Done before the e-mail is claimed, so a slow or failed render
    never leaves an e-mail claimed but unsent; a render that fails sends the e-mail without
    the attachment (the portal link still offers the PDF). None when the e-mail went out
    already or the quote is not sent: nothing to render for."""
    quote = (
        Quote.objects.select_related("workspace", "client")
        .prefetch_related("lines")
        .filter(pk=quote_id, emailed_at__isnull=True, portal_token__isnull=False)
        .first()
    )
    if quote is None:
        return None
    try:
        return quote_pdf_ensure(quote=quote)
    except Exception:
        logger.exception("Could not render the PDF of quote %s for its e-mail", quote_id)
        return None


def quote_email_deliver(*, quote_id: int) -> bool:
    """Send the quote's e-mail once. The conditional UPDATE on `emailed_at` is the claim: a
    second run (a redelivered message, a retry) changes no row and sends nothing. If the
    mail server surely did not take it, the claim is given back so a later run may try
    again; if the connection broke mid-message the claim stays (it may have arrived).
    Returns whether this run sent the e-mail."""
    pdf_file = _email_pdf(quote_id)
    now = timezone.now()
    claimed = Quote.objects.filter(
        pk=quote_id, emailed_at__isnull=True, portal_token__isnull=False
    ).update(emailed_at=now)
    if not claimed:
        return False
    quote = Quote.objects.select_related("workspace", "client").get(pk=quote_id)
    business = quote.workspace.name
    locale = quote.workspace.locale
    link = portal_url(quote)
    body = (
        f"Hello {quote.client.name},\n\n"
        f"{business} sent you quote {quote.number} for "
        f"{format_money(quote.total, quote.currency, locale)}, valid until "
        f"{format_date(quote.valid_until, locale, long=True)}.\n\n"
        f"See it, and accept or decline it, here:\n{link}\n\n"
        f"{business}\n"
    )
    message = EmailMessage(
        subject=f"Quote {quote.number} from {business}",
        body=body,
        to=[quote.sent_to or quote.client.email],
    )
    if pdf_file is not None:
        with pdf_file.open("rb") as handle:
            message.attach(quote_pdf_filename(quote), handle.read(), "application/pdf")
    failure = smtp_transmit(message)
    if failure is None:
        _activity(quote, None, QuoteActivity.Action.EMAILED, f"E-mailed to {message.to[0]}.")
        return True
    if failure.in_doubt:
        # The message may have been handed over: the claim stays, so no sweep sends it again
        # (the same rule as invoice e-mails, decision 0003).
        _activity(
            quote,
            None,
            QuoteActivity.Action.EMAIL_FAILED,
            f"E-mail failed: the connection to the mail server broke while sending to "
            f"{message.to[0]}, so it may or may not have arrived. Check with your client "
            "before sending it again.",
        )
        return False
    Quote.objects.filter(pk=quote_id, emailed_at=now).update(emailed_at=None)
    _activity(
        quote,
        None,
        QuoteActivity.Action.EMAIL_FAILED,
        f"E-mail failed: {smtp_error_message(failure.error, message.to[0])}",
    )
    raise failure.error


# --- the client's view (portal) ---------------------------------------------------------------


def quote_view_record(*, quote: Quote) -> bool:
    """Mark the first time the client opened the link; True only for that first time.

    The conditional UPDATE (viewed_at IS NULL) is the once-only guard: two clicks at the
    same moment record one view. `savepoint=False` keeps this to two statements."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        recorded = Quote.objects.filter(pk=quote.pk, viewed_at__isnull=True).update(viewed_at=now)
        if recorded:
            _activity(quote, None, QuoteActivity.Action.VIEWED, "The client opened the quote link.")
    if recorded:
        quote.viewed_at = now
    return bool(recorded)


# --- the client's answer (portal) ------------------------------------------------------------


def _lock_open_quote(token: str) -> Quote:
    quote = (
        Quote.objects.select_for_update(of=("self",))
        .select_related("workspace")
        .filter(portal_token=token)
        .first()
    )
    if quote is None:
        raise ApplicationError("This link is no longer valid.")
    if quote.status != Quote.Status.SENT:
        raise ApplicationError(NOT_OPEN_MESSAGE)
    if quote.is_expired_on(_today(quote.workspace)):
        raise ApplicationError(EXPIRED_MESSAGE)
    return quote


@transaction.atomic
def quote_accept(*, token: str, name: str = "") -> Quote:
    quote = _lock_open_quote(token)
    quote.status = Quote.Status.ACCEPTED
    quote.accepted_at = timezone.now()
    quote.accepted_by_name = " ".join(str(name or "").split())[:200]
    quote.save(update_fields=["status", "accepted_at", "accepted_by_name", "updated_at"])
    signed = f" by {quote.accepted_by_name}" if quote.accepted_by_name else ""
    _activity(quote, None, QuoteActivity.Action.ACCEPTED, f"Accepted{signed}.")
    webhook_event_record_quote(quote=quote, event_type="quote.accepted")
    return quote


@transaction.atomic
def quote_decline(*, token: str, reason: str = "") -> Quote:
    quote = _lock_open_quote(token)
    quote.status = Quote.Status.DECLINED
    quote.declined_at = timezone.now()
    quote.decline_reason = str(reason or "").strip()[:2000]
    quote.save(update_fields=["status", "declined_at", "decline_reason", "updated_at"])
    _activity(quote, None, QuoteActivity.Action.DECLINED, quote.decline_reason or "Declined.")
    webhook_event_record_quote(quote=quote, event_type="quote.declined")
    return quote


# --- converting ------------------------------------------------------------------------------


@transaction.atomic
def quote_convert(
    *, quote: Quote, user: User, make_invoice: bool = True, make_project: bool = False
) -> Quote:
    """An accepted quote becomes, once, a draft invoice with its lines and/or an hourly
    project whose budget is the quote's subtotal. The lock makes "once" hold under two
    concurrent clicks."""
    if not make_invoice and not make_project:
        raise ApplicationError("Choose an invoice, a project, or both.")
    locked = _lock(quote)
    if locked.status != Quote.Status.ACCEPTED:
        raise ApplicationError("Only an accepted quote can be converted.")
    if locked.converted_at is not None:
        raise ApplicationError("This quote was converted already.")
    made = []
    if make_invoice:
        lines = [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit": line.unit,
                "unit_price": line.unit_price,
                "tax_rate": line.tax_rate,
            }
            for line in locked.lines.all()
        ]
        notes = f"As agreed in quote {locked.number}."
        if locked.notes:
            notes = f"{notes}\n\n{locked.notes}"
        invoice = invoice_create_draft(
            workspace=locked.workspace,
            user=user,
            client=locked.client,
            lines=lines,
            discount_type=locked.discount_type,
            discount_value=locked.discount_value,
            notes=notes,
        )
        locked.converted_invoice = invoice
        made.append("a draft invoice")
    if make_project:
        project = project_create(
            workspace=locked.workspace,
            client=locked.client,
            name=f"Quote {locked.number}",
            billing_method=Project.BillingMethod.HOURLY,
            budget_amount=locked.subtotal,
        )
        locked.converted_project = project
        made.append("a project")
    locked.converted_at = timezone.now()
    locked.save(
        update_fields=["converted_invoice", "converted_project", "converted_at", "updated_at"]
    )
    _activity(locked, user, QuoteActivity.Action.CONVERTED, f"Converted into {' and '.join(made)}.")
    return _copy_back(quote, locked)
