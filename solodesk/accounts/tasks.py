from __future__ import annotations

from typing import Any

from celery import shared_task
from django.core.mail import EmailMultiAlternatives


@shared_task(
    name="solodesk.accounts.tasks.email_send_task",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=8,
)
def email_send_task(payload: dict[str, Any]) -> None:
    """Send a rendered account e-mail. Retried with backoff while the SMTP server is away."""
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["body"],
        from_email=payload["from_email"],
        to=payload["to"],
    )
    for content, mimetype in payload.get("alternatives", []):
        message.attach_alternative(content, mimetype)
    message.send()
