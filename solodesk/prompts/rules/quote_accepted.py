"""A quote the client accepted that became neither an invoice nor a project yet."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from solodesk.core.web import url_for
from solodesk.prompts.registry import Card, Context, Cta, Prompt, Rule, register
from solodesk.prompts.rules.families import DocumentRow


@register
class QuoteAccepted(Rule):
    name = "quote_accepted"
    title = "Accepted quote not converted"
    family = "documents"
    priority = 75

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
        accepted = row.moment.astimezone(ctx.workspace.tzinfo).date()
        return Card(
            title=f"{row.client_name} accepted quote {row.number}",
            message=(
                f"Quote {row.number} ({ctx.money(row.amount, row.currency)}) was accepted "
                f"on {ctx.date(accepted)} but has no project or invoice yet."
            ),
            cta=Cta(
                "Turn it into a project or invoice",
                url_for("quotes:detail", row.public_id) + "#convert",
            ),
        )
