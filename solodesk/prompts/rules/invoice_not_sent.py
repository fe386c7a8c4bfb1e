"""An issued invoice never sent to the client: send it (the invoice page's send form)."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from solodesk.core.web import url_for
from solodesk.prompts.registry import Card, Context, Cta, Prompt, Rule, register
from solodesk.prompts.rules.families import DocumentRow


@register
class InvoiceNotSent(Rule):
    name = "invoice_not_sent"
    title = "Issued invoice not sent"
    family = "documents"
    priority = 60

    def evaluate(self, ctx: Context, rows: list[DocumentRow]) -> Iterable[Prompt]:
        for row in rows:
            if row.category != self.name:
                continue
            yield Prompt(
                key=f"{self.name}:{row.public_id}",
                rule=self.name,
                priority=self.priority,
                subject=str(row.public_id),
                card=functools.partial(self.card, ctx, row),
            )

    def card(self, ctx: Context, row: DocumentRow) -> Card:
        issued = row.moment.astimezone(ctx.workspace.tzinfo).date()
        return Card(
            title=f"Invoice {row.number} has not been sent",
            message=(
                f"You issued invoice {row.number} to {row.client_name} "
                f"({ctx.money(row.amount, row.currency)}) on {ctx.date(issued)}, "
                "but never sent it."
            ),
            cta=Cta(
                "Send it to the client",
                url_for("invoicing:detail", row.public_id) + "#send",
            ),
        )
