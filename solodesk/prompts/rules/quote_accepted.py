"""A quote the client accepted that became neither an invoice nor a project yet."""

from __future__ import annotations

from collections.abc import Iterable

from solodesk.prompts.registry import Context, Cta, Prompt, Rule, register, url_for
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
            accepted = row.moment.astimezone(ctx.workspace.tzinfo).date()
            yield Prompt(
                key=f"{self.name}:{row.public_id}",
                rule=self.name,
                priority=self.priority,
                title=f"{row.client_name} accepted quote {row.number}",
                message=(
                    f"Quote {row.number} ({ctx.money(row.amount, row.currency)}) was accepted "
                    f"on {ctx.date(accepted)} but has no project or invoice yet."
                ),
                cta=Cta(
                    "Turn it into a project or invoice",
                    url_for("quotes:detail", row.public_id) + "#convert",
                ),
                subject=str(row.public_id),
            )
