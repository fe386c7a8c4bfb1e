"""A sent quote whose valid-until day is within QUOTE_EXPIRY_WARNING_DAYS: follow up."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from solodesk.core.web import url_for
from solodesk.prompts.registry import Card, Context, Cta, Prompt, Rule, register
from solodesk.prompts.rules.families import DocumentRow


@register
class QuoteExpiring(Rule):
    name = "quote_expiring"
    title = "Quote about to expire"
    family = "documents"
    priority = 65

    def evaluate(self, ctx: Context, rows: list[DocumentRow]) -> Iterable[Prompt]:
        for row in rows:
            if row.category != self.name or row.day is None:
                continue
            yield Prompt(
                key=f"{self.name}:{row.public_id}",
                rule=self.name,
                priority=self.priority,
                subject=str(row.public_id),
                card=functools.partial(self.card, ctx, row),
            )

    def card(self, ctx: Context, row: DocumentRow) -> Card:
        assert row.day is not None
        days = (row.day - ctx.today).days
        when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        return Card(
            title=f"Quote {row.number} expires {when}",
            message=(
                f"{row.client_name} has not answered quote {row.number} "
                f"({ctx.money(row.amount, row.currency)}); it is valid until "
                f"{ctx.date(row.day)}."
            ),
            cta=Cta("Follow up on the quote", url_for("quotes:detail", row.public_id)),
        )
