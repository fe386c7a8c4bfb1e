"""Celery entry points for quotes: an id in, one service call out.

The e-mail task's service claims the e-mail with a conditional UPDATE, so a message
delivered twice sends one e-mail. The PDF task has no Job row: it makes the quote's stored
PDF current (`quote_pdf_ensure` re-uses a current file, so a repeated message renders once)
and the page that asked for it reloads until it is there."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from solodesk.quotes.models import Quote
from solodesk.quotes.pdf import quote_for_pdf, quote_pdf_ensure
from solodesk.quotes.services import quote_email_deliver, quote_emails_requeue_stale

logger = logging.getLogger(__name__)


@shared_task(
    name="solodesk.quotes.tasks.quote_email_task",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=60,
    time_limit=90,
)
def quote_email_task(quote_id: int) -> bool:
    return quote_email_deliver(quote_id=quote_id)


@shared_task(name="solodesk.quotes.tasks.quote_pdf_task", soft_time_limit=60, time_limit=90)
def quote_pdf_task(quote_id: int) -> bool:
    """Make the quote's PDF current; False when the quote is gone (a deleted draft)."""
    try:
        quote = quote_for_pdf(quote_id=quote_id)
    except Quote.DoesNotExist:
        logger.info("Quote %s no longer exists: no PDF to render", quote_id)
        return False
    quote_pdf_ensure(quote=quote)
    return True


@shared_task(name="solodesk.quotes.tasks.quote_emails_requeue_stale_task")
def quote_emails_requeue_stale_task() -> int:
    """Beat, every five minutes: quote e-mails whose message was lost go out after all."""
    return quote_emails_requeue_stale(
        older_than=timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS)
    )
