"""A project past 80 % and past 100 % of its budget (hours tracked, or billable time at the
project's rate against an amount). Two rules, two keys: dismissing the 80 % warning does
not hide the 100 % one. Also shown on the project's page."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from decimal import Decimal
from urllib.parse import urlencode

from solodesk.core.web import url_for
from solodesk.prompts.registry import Card, Context, Cta, Prompt, Rule, register
from solodesk.prompts.rules.families import BudgetRow

FULL = Decimal(1)


def _percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).quantize(Decimal('1'))} %"


def _usage(ctx: Context, row: BudgetRow) -> str:
    parts = []
    if row.hours_ratio is not None and row.budget_hours:
        used = (Decimal(row.tracked_seconds) / 3600).quantize(Decimal("0.1"))
        parts.append(f"{used} of {row.budget_hours.normalize():f} hours")
    if row.amount_ratio is not None and row.budget_amount and row.amount_used is not None:
        parts.append(
            f"{ctx.money(row.amount_used, row.currency)} of "
            f"{ctx.money(row.budget_amount, row.currency)}"
        )
    return " and ".join(parts)


class _BudgetRule(Rule):
    family = "projects"
    placements = ("dashboard", "project_detail")
    minimum: Decimal
    maximum: Decimal | None

    def _matches(self, row: BudgetRow) -> bool:
        ratio = row.ratio
        return ratio >= self.minimum and (self.maximum is None or ratio < self.maximum)

    def evaluate(self, ctx: Context, rows: list[BudgetRow]) -> Iterable[Prompt]:
        for row in rows:
            if not self._matches(row):
                continue
            yield Prompt(
                key=f"{self.name}:{row.public_id}",
                rule=self.name,
                priority=self.priority,
                subject=str(row.public_id),
                tone="warn" if self.maximum is None else "info",
                card=functools.partial(self.card, ctx, row),
            )

    def card(self, ctx: Context, row: BudgetRow) -> Card:
        edit = url_for("projects:edit", row.public_id)
        return Card(
            title=f"{row.name} is at {_percent(row.ratio)} of its budget",
            message=(
                f"{row.name} ({row.client_name}) has used {_usage(ctx, row)} "
                f"of its budget: {_percent(row.ratio)}."
            ),
            cta=Cta("Review the budget", f"{edit}?{urlencode({'next': url_for('home')})}"),
        )


@register
class ProjectBudgetWarning(_BudgetRule):
    name = "budget_80"
    title = "Project past 80 % of budget"
    priority = 70
    minimum = Decimal("0.8")
    maximum = FULL

    def also_raised(self, ctx: Context, rows: list[BudgetRow]) -> Iterable[str]:
        # Past 100 % the 80 % warning is still true, only not shown: not a completion.
        return [f"{self.name}:{row.public_id}" for row in rows if row.ratio >= FULL]


@register
class ProjectBudgetExceeded(_BudgetRule):
    name = "budget_100"
    title = "Project over budget"
    priority = 85
    minimum = FULL
    maximum = None
