"""An invoice past its due date with money still owed: days and amount; the button sends a
reminder now (a POST to the reminders app), or opens the invoice where that does not exist.
Also shown on the invoice list."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from django.urls import NoReverseMatch

from solodesk.core.web import url_for
from solodesk.prompts.registry import Card, Context, Cta, Prompt, Rule, register
from solodesk.prompts.rules.families import DocumentRow


def reminder_cta(public_id: object) -> Cta:
    try:
        url = url_for("reminders:invoice_send", public_id)
    except NoReverseMatch:
        return Cta("Open the invoice", url_for("invoicing:detail", public_id))
    return Cta("Send a reminder now", url, method="POST")


@register
class InvoiceOverdue(Rule):
    name = "invoice_overdue"
    title = "Invoice overdue"
    family = "documents"
    priority = 90
    placements = ("dashboard", "invoice_list")

    def evaluate(self, ctx: Context, rows: list[DocumentRow]) -> Iterable[Prompt]:
        for row in rows:
            if row.category != self.name or row.day is None:
                continue
            yield Prompt(
                key=f"{self.name}:{row.public_id}",
                rule=self.name,
                priority=self.priority,
                subject=str(row.public_id),
                tone="warn",
                card=functools.partial(self.card, ctx, row),
            )

    def card(self, ctx: Context, row: DocumentRow) -> Card:
        assert row.day is not None
        days = (ctx.today - row.day).days
        return Card(
            title=f"Invoice {row.number} is overdue",
            message=(
                f"{row.client_name} owes {ctx.money(row.amount, row.currency)} on invoice "
                f"{row.number}, due {ctx.date(row.day)}: {days} day{'s' if days != 1 else ''} "
                "overdue."
            ),
            cta=reminder_cta(row.public_id),
        )
