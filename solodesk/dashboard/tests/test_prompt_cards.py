"""The dashboard shows the top three prompts, links to all of them, builds the cards of
those three only and records "shown" for those three only; /prompts/ keeps the full list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from solodesk.prompts.models import PromptEvent, PromptState
from solodesk.prompts.registry import RULES
from solodesk.prompts.tests.conftest import issued_invoice
from solodesk.tests.factories import ClientFactory

HOME = reverse("home")


def _book(owner, invoices: int) -> None:
    """`invoices` overdue invoices (priority 90), each to a client without an e-mail
    address (client_incomplete, priority 30); the checklist done."""
    for n in range(invoices):
        client = ClientFactory(workspace=owner.workspace, name=f"Client {n:02d}", email="")
        issued_invoice(owner, client=client, days_ago=40 + n)
    PromptState.objects.create(
        workspace=owner.workspace, user=owner.user, key="onboarding", completed_at=timezone.now()
    )


def _cards(html: str) -> int:
    return html.count('data-testid="prompt"')


@pytest.mark.parametrize("invoices", [4, 12])
def test_the_dashboard_shows_the_top_three_and_links_to_all(owner, invoices):
    _book(owner, invoices)

    response = owner.client.get(HOME)

    html = response.content.decode()
    assert _cards(html) == 3
    shown = [prompt.rule for prompt in response.context["prompts"]]
    assert shown == ["invoice_overdue"] * 3  # highest priority first
    assert f"See all {2 * invoices} suggestions" in html
    assert f'href="{reverse("prompts:list")}"' in html
    # The full list is on /prompts/.
    assert _cards(owner.client.get(reverse("prompts:list")).content.decode()) == 2 * invoices


def test_no_link_when_everything_is_shown(owner):
    _book(owner, 1)  # one overdue invoice, one client missing details

    html = owner.client.get(HOME).content.decode()

    assert _cards(html) == 2
    assert 'data-testid="all-prompts"' not in html


def test_shown_is_recorded_only_for_the_cards_on_the_dashboard(owner):
    _book(owner, 6)

    response = owner.client.get(HOME)

    keys = {prompt.event_key for prompt in response.context["prompts"]}
    events = PromptEvent.objects.filter(user=owner.user, kind=PromptEvent.Kind.SHOWN)
    assert set(events.values_list("key", flat=True)) == keys
    assert len(keys) == 3


def test_cards_are_built_only_for_the_prompts_shown(owner, monkeypatch):
    _book(owner, 8)
    built = []
    for name in ("invoice_overdue", "client_incomplete"):
        rule = RULES[name]
        original = rule.card  # type: ignore[attr-defined]

        def counting(ctx, row, _original=original, _name=name):
            built.append(_name)
            return _original(ctx, row)

        monkeypatch.setattr(rule, "card", counting)

    response = owner.client.get(HOME)

    assert built == ["invoice_overdue"] * 3
    first = response.context["prompts"][0]
    assert first.message.startswith("Client 07 owes")  # the most overdue first
    assert first.cta.method == "POST" or first.cta.url


def test_a_completion_is_recorded_although_its_card_is_not_shown(owner):
    """Conversion: "completed" comes from the whole evaluation, not from the cards shown."""
    _book(owner, 5)
    overdue = issued_invoice(
        owner, client=ClientFactory(workspace=owner.workspace, email="x@example.com")
    )
    key = f"invoice_overdue:{overdue.public_id}"
    owner.client.get(HOME)
    PromptState.objects.create(
        workspace=owner.workspace,
        user=owner.user,
        key=key,
        clicked_at=timezone.now() - dt.timedelta(hours=1),
    )
    type(overdue).objects.filter(pk=overdue.pk).update(status="paid")

    owner.client.get(HOME)

    assert PromptEvent.objects.filter(key=key, kind=PromptEvent.Kind.COMPLETED).count() == 1
