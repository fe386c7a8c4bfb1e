"""The quote PDF: rendered by WeasyPrint from an HTML template in a worker, stored, re-used.

Like the invoice PDF (solodesk/invoicing/pdf.py), rendering never happens in a web request:
pages ask for it with `quote_pdf_request`, which enqueues `quote_pdf_task` after commit (no
Job row: a quote's PDF has no progress page, the page that asked simply reloads) and serve
the stored file once it is current. "Current" is decided by `quote_pdf_state`, a digest of
exactly what the PDF shows, so the file is re-used until something visible changes (the
client accepts, an edited draft, the quote expires) and never because an unrelated column
moved (the e-mail time, the first view, the PDF itself).

A quote has no seller/buyer snapshot: it shows the workspace's and the client's details as
they are, and a change to them makes the stored PDF stale.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from solodesk.core.pdf import (
    content_digest,
    document_figures_content,
    document_filename,
    pdf_render,
)
from solodesk.core.services import tasks_send
from solodesk.invoicing.calculation import document_totals
from solodesk.quotes.models import Quote

logger = logging.getLogger(__name__)

PDF_TEMPLATE = "quotes/pdf/quote.html"
PDF_TASK = "solodesk.quotes.tasks.quote_pdf_task"
# Bump when the template changes in a way that should replace PDFs already stored.
PDF_LAYOUT_VERSION = "2"
# The "being prepared" pages reload every few seconds; one enqueue per quote state is enough
# for this long (a lost message is re-sent once it passes).
ENQUEUE_DEBOUNCE_SECONDS = 30


def _clean(value: object) -> str:
    return str(value or "").strip()


def quote_pdf_content(quote: Quote) -> dict[str, Any]:
    """Everything the PDF shows, as plain data: the template's context and the input of the
    state digest. Reads the quote's workspace, client and lines (use select_related /
    prefetched lines to keep it free)."""
    workspace, client = quote.workspace, quote.client
    lines = list(quote.lines.all())
    totals = document_totals(quote, lines)
    today = timezone.localdate(timezone=workspace.tzinfo)
    accepted_on = (
        timezone.localtime(quote.accepted_at, workspace.tzinfo).date()
        if quote.status == Quote.Status.ACCEPTED and quote.accepted_at
        else None
    )
    return {
        "layout": PDF_LAYOUT_VERSION,
        "public_id": str(quote.public_id),
        "title": "Quote",
        "status": quote.status,
        "is_draft": quote.is_draft,
        "is_accepted": quote.status == Quote.Status.ACCEPTED,
        "is_declined": quote.status == Quote.Status.DECLINED,
        "is_expired": quote.is_expired_on(today),
        "accepted_on": accepted_on,
        "accepted_by_name": quote.accepted_by_name.strip(),
        "number": quote.number or "",
        "currency": quote.currency,
        # The workspace's current locale: changing it re-renders.
        "locale": workspace.locale,
        "issue_date": quote.issue_date,
        "valid_until": quote.valid_until,
        "seller": {
            "name": _clean(workspace.name),
            "address": _clean(workspace.address),
            "tax_id": _clean(workspace.tax_id),
        },
        "buyer": {
            "name": _clean(client.name),
            "email": _clean(client.email),
            "address": _clean(client.address),
            "tax_id": _clean(client.tax_id),
        },
        **document_figures_content(quote, lines, totals.tax_groups),
        "notes": quote.notes.strip(),
    }


def quote_pdf_state(quote: Quote) -> str:
    """A digest (64 hex characters) of what the PDF shows: equal digests, identical PDFs.
    Deliberately not `updated_at`: storing the PDF or recording a view must not make the
    PDF stale."""
    return content_digest(quote_pdf_content(quote))


def quote_pdf_filename(quote: Quote) -> str:
    """The name people see: "Q-2026-0003.pdf", or "draft-quote-<uuid>.pdf"."""
    return document_filename(quote.number, fallback=f"draft-quote-{quote.public_id}")


def quote_pdf_is_current(quote: Quote, *, state: str | None = None) -> bool:
    """True when the stored PDF shows the quote as it is now and its file is there."""
    if not quote.pdf_file or not quote.pdf_state:
        return False
    if quote.pdf_state != (state or quote_pdf_state(quote)):
        return False
    return bool(quote.pdf_file.storage.exists(quote.pdf_file.name or ""))


def quote_pdf_render(*, quote: Quote) -> bytes:
    """The PDF\'s bytes (see core.pdf.pdf_render): call it from a worker, never a request."""
    return pdf_render(PDF_TEMPLATE, quote_pdf_content(quote))


def quote_pdf_ensure(*, quote: Quote) -> FieldFile:
    """The stored PDF if it is current, else a fresh one: rendered, stored, recorded.

    Recorded with a targeted UPDATE of pdf_file/pdf_state only (no save(): updated_at and
    columns another process changed meanwhile stay as they are), conditional on the file it
    replaces: when two workers render the same quote at once, the first one's file wins and
    the second deletes its own copy instead of orphaning it."""
    state = quote_pdf_state(quote)
    if quote_pdf_is_current(quote, state=state):
        return quote.pdf_file
    storage = quote.pdf_file.storage
    previous = quote.pdf_file.name or ""
    data = quote_pdf_render(quote=quote)
    field = Quote._meta.get_field("pdf_file")
    name = storage.save(
        field.generate_filename(quote, quote_pdf_filename(quote)),  # type: ignore[union-attr]
        ContentFile(data),
    )
    stored = Quote.objects.filter(pk=quote.pk, pdf_file=previous).update(
        pdf_file=name, pdf_state=state
    )
    if stored:
        if previous and previous != name:
            storage.delete(previous)
        quote.pdf_file.name = name
    else:
        storage.delete(name)
        current = Quote.objects.values("pdf_file", "pdf_state").get(pk=quote.pk)
        quote.pdf_file.name, state = current["pdf_file"], current["pdf_state"]
    quote.pdf_state = state
    return quote.pdf_file


def _enqueue_pdf(quote_id: int) -> None:
    tasks_send(PDF_TASK, [quote_id], label="the PDF of quote {id}")


def quote_pdf_request(*, quote: Quote) -> bool:
    """False when the stored PDF is current (serve it); else True, and `quote_pdf_task` is
    enqueued after commit — once per quote state per ENQUEUE_DEBOUNCE_SECONDS, so a page
    that reloads while it waits does not queue a render per reload."""
    state = quote_pdf_state(quote)
    if quote_pdf_is_current(quote, state=state):
        return False
    if cache.add(f"quote-pdf-enqueued:{quote.public_id}:{state}", 1, ENQUEUE_DEBOUNCE_SECONDS):
        quote_id = quote.pk
        transaction.on_commit(lambda: _enqueue_pdf(quote_id))
    return True


def quote_for_pdf(*, quote_id: int) -> Quote:
    """The quote with everything the PDF reads, in two queries."""
    return (
        Quote.objects.select_related("workspace", "client")
        .prefetch_related("lines")
        .get(pk=quote_id)
    )
