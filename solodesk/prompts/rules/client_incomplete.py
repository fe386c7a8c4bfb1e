"""A client without an e-mail address (invoices cannot be sent) or without payment terms
of its own (the workspace's apply, which may not be what was agreed)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from urllib.parse import urlencode

from solodesk.core.web import url_for
from solodesk.prompts.registry import Card, Context, Cta, Prompt, Rule, register
from solodesk.prompts.rules.families import ClientRow


@register
class ClientIncomplete(Rule):
    name = "client_incomplete"
    title = "Client details missing"
    family = "clients"
    priority = 30

    def evaluate(self, ctx: Context, rows: list[ClientRow]) -> Iterable[Prompt]:
        for row in rows:
            if row.email and row.payment_terms_days is not None:
                continue
            yield Prompt(
                key=f"{self.name}:{row.public_id}",
                rule=self.name,
                priority=self.priority,
                subject=str(row.public_id),
                card=functools.partial(self.card, ctx, row),
            )

    def card(self, ctx: Context, row: ClientRow) -> Card:
        missing = []
        if not row.email:
            missing.append("no e-mail address (needed to send invoices)")
        if row.payment_terms_days is None:
            missing.append(
                "no payment terms of its own "
                f"(the workspace's {ctx.workspace.payment_terms_days} days apply)"
            )
        url = url_for("clients:edit", row.public_id)
        return Card(
            title=f"Complete {row.name}",
            message=f"{row.name} has {' and '.join(missing)}.",
            cta=Cta("Complete the client", f"{url}?{urlencode({'next': url_for('home')})}"),
        )
