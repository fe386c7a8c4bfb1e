"""Billable time not invoiced for more than UNBILLED_AFTER_DAYS, per client, with the
amount: the button opens the invoice-from-time form with the client and period chosen."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import urlencode

from solodesk.core.web import url_for
from solodesk.prompts.registry import Card, Context, Cta, Prompt, Rule, register
from solodesk.prompts.rules.families import ClientRow


def hours_label(seconds: int) -> str:
    hours = Decimal(seconds) / 3600
    return f"{hours.quantize(Decimal('0.1'))} h"


@register
class UnbilledTime(Rule):
    name = "unbilled_time"
    title = "Unbilled time"
    family = "clients"
    priority = 80

    def evaluate(self, ctx: Context, rows: list[ClientRow]) -> Iterable[Prompt]:
        for row in rows:
            if not row.unbilled_entries or row.first_unbilled_at is None:
                continue
            yield Prompt(
                key=f"{self.name}:{row.public_id}",
                rule=self.name,
                priority=self.priority,
                subject=str(row.public_id),
                card=functools.partial(self.card, ctx, row),
            )

    def card(self, ctx: Context, row: ClientRow) -> Card:
        assert row.first_unbilled_at is not None
        first_day = row.first_unbilled_at.astimezone(ctx.workspace.tzinfo).date()
        if row.unbilled_rate_seconds:
            worth = ctx.money(row.unbilled_rate_seconds / 3600, row.currency)
        else:
            worth = hours_label(row.unbilled_seconds)
        entries = f"{row.unbilled_entries} entr{'y' if row.unbilled_entries == 1 else 'ies'}"
        query = urlencode(
            {
                "client": str(row.public_id),
                "date_from": first_day.isoformat(),
                "date_to": ctx.today.isoformat(),
            }
        )
        return Card(
            title="Time waiting to be invoiced",
            message=(
                f"{row.name} has {worth} of unbilled time from {entries} "
                f"since {ctx.date(first_day)}."
            ),
            cta=Cta("Invoice this time", f"{url_for('invoicing:from_time')}?{query}"),
        )
