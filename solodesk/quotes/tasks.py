"""Celery entry point for quote e-mails: an id in, one service call out. The service claims
the e-mail with a conditional UPDATE, so a message delivered twice sends one e-mail."""

from __future__ import annotations

from celery import shared_task

from solodesk.quotes.services import quote_email_deliver


@shared_task(
    name="solodesk.quotes.tasks.quote_email_task",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=60,
    time_limit=90,
)
def quote_email_task(quote_id: int) -> bool:
    return quote_email_deliver(quote_id=quote_id)
