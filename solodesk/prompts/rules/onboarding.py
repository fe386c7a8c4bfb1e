"""The onboarding checklist: business profile → client → project → first hour → first
invoice issued → first payment. It ticks itself from the data, shows the next step's button,
disappears when everything is done (then its state is marked completed and its query is
never run again for this user) and can be dismissed."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from django.urls import reverse

from solodesk.prompts.registry import Context, Cta, Prompt, Rule, Step, register
from solodesk.prompts.rules.families import OnboardingFacts

HOME = "/"


def _url(name: str, *args: object, **query: object) -> str:
    url = reverse(name, args=args)
    params = {key: str(value) for key, value in query.items() if value}
    return f"{url}?{urlencode(params)}" if params else url


@register
class Onboarding(Rule):
    name = "onboarding"
    title = "Getting started checklist"
    family = "onboarding"
    priority = 100

    def evaluate(self, ctx: Context, rows: OnboardingFacts) -> Iterable[Prompt]:
        ws = ctx.workspace
        facts = rows
        profile = bool(ws.address.strip() and ws.tax_id.strip() and ws.payment_details.strip())
        home = reverse("home")
        if facts.draft_id:
            invoice_cta = Cta(
                "Issue your draft invoice", reverse("invoicing:detail", args=[facts.draft_id])
            )
        elif facts.unbilled_client_id:
            invoice_cta = Cta(
                "Invoice your tracked time",
                _url("invoicing:from_time", client=facts.unbilled_client_id),
            )
        else:
            invoice_cta = Cta("Write your first invoice", reverse("invoicing:new"))
        steps = [
            (
                "business_profile",
                "Complete your business profile (address, tax id, payment details)",
                profile,
                Cta("Complete your business profile", reverse("workspace_settings")),
            ),
            (
                "add_client",
                "Add a client",
                facts.has_client,
                Cta("Add your first client", _url("clients:new", next=home)),
            ),
            (
                "create_project",
                "Create a project",
                facts.has_project,
                Cta("Create a project", _url("projects:new", client=facts.client_id, next=home)),
            ),
            (
                "track_time",
                "Track your first hour",
                facts.has_entry,
                Cta(
                    "Track your first hour",
                    _url("timetracking:entry_new", project=facts.project_id, next=home),
                ),
            ),
            ("issue_invoice", "Issue your first invoice", facts.has_issued, invoice_cta),
            (
                "record_payment",
                "Record your first payment",
                facts.has_payment,
                Cta(
                    "Record a payment",
                    reverse("invoicing:detail", args=[facts.open_invoice_id]) + "#record-payment"
                    if facts.open_invoice_id
                    else reverse("invoicing:list"),
                ),
            ),
        ]
        pending = [step for step in steps if not step[2]]
        if not pending:
            ctx.finished.add(self.name)
            return []
        step_name, label, _done, cta = pending[0]
        done = len(steps) - len(pending)
        return [
            Prompt(
                key=self.name,
                event_key=f"{self.name}:{step_name}",
                rule=self.name,
                priority=self.priority,
                title=f"Get set up: {done} of {len(steps)} done",
                message=f"Next: {label[0].lower()}{label[1:]}.",
                cta=cta,
                steps=tuple(Step(name, text, is_done) for name, text, is_done, _ in steps),
            )
        ]
