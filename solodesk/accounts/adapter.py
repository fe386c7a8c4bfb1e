from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction


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
        transaction.on_commit(lambda: email_send_task.delay(payload))
