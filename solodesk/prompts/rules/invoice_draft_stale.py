"""A draft invoice left for more than DRAFT_STALE_AFTER_DAYS: issue it (or delete it)."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from solodesk.core.web import url_for
from solodesk.prompts.registry import Card, Context, Cta, Prompt, Rule, register
from solodesk.prompts.rules.families import DocumentRow


@register
class InvoiceDraftStale(Rule):
    name = "invoice_draft_stale"
    title = "Draft invoice waiting"
    family = "documents"
    priority = 50

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
        created = row.moment.astimezone(ctx.workspace.tzinfo).date()
        days = (ctx.today - created).days
        return Card(
            title=f"A draft for {row.client_name} is waiting",
            message=(
                f"Your draft invoice to {row.client_name} for "
                f"{ctx.money(row.amount, row.currency)} was started {days} days ago, "
                f"on {ctx.date(created)}."
            ),
            cta=Cta("Review and issue", url_for("invoicing:detail", row.public_id)),
        )
