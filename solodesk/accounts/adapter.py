from __future__ import annotations

import logging

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    """Account e-mails (password reset, confirmation) are rendered in the request but sent
    by a worker after commit, so a slow SMTP server never holds up a page."""

    def send_mail(self, template_prefix, email, context):
        from solodesk.accounts.tasks import email_send_task

        message = self.render_mail(template_prefix, email, context)
        alternatives = [
            (content, mimetype) for content, mimetype in getattr(message, "alternatives", [])
        ]
        payload = {
            "subject": message.subject,
            "body": message.body,
            "from_email": message.from_email,
            "to": list(message.to),
            "alternatives": alternatives,
        }
        transaction.on_commit(lambda: _enqueue_or_send(email_send_task, payload))


def _enqueue_or_send(task, payload) -> None:
    """Hand the e-mail to a worker; when the broker is down, send it from this request
    instead. An account e-mail has no row to re-find later (the person is waiting for it
    now), and a failed publish costs milliseconds (see the Celery publish settings)."""
    try:
        task.delay(payload)
    except Exception:
        logger.exception("Could not enqueue an account e-mail; sending it from the request")
        try:
            task.run(payload)
        except Exception:
            logger.exception("Could not send the account e-mail to %s", payload["to"])
