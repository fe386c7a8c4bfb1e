"""Builders for the prompt tests: a workspace with a realistic book of data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from solodesk.accounts.models import User
from solodesk.invoicing import services as invoicing
from solodesk.invoicing.models import Invoice
from solodesk.prompts.selectors import prompt_list_for_user
from solodesk.quotes.models import Quote
from solodesk.quotes.services import quote_create_draft
from solodesk.tests.factories import ClientFactory, ProjectFactory, TimeEntryFactory


def entry(project, user, *, days_ago: int, hours: float = 1.0, **kwargs):
    started = timezone.now() - dt.timedelta(days=days_ago)
    return TimeEntryFactory(
        project=project,
        user=user,
        started_at=started,
        ended_at=started + dt.timedelta(hours=hours),
        **kwargs,
    )


def issued_invoice(persona, *, client, days_ago: int = 40, due_days: int = 14, total="100.00"):
    invoice = invoicing.invoice_create_draft(
        workspace=persona.workspace,
        user=persona.user,
        client=client,
        lines=[
            {
                "description": "Work",
                "quantity": Decimal("1"),
                "unit": "pieces",
                "unit_price": Decimal(total),
                "tax_rate": Decimal("0"),
            }
        ],
    )
    issue_date = ws_today(persona.workspace) - dt.timedelta(days=days_ago)
    invoice.due_date = issue_date + dt.timedelta(days=due_days)
    invoice.save(update_fields=["due_date"])
    invoicing.invoice_issue(invoice=invoice, user=persona.user, issue_date=issue_date)
    invoice.refresh_from_db()
    if invoice.due_date != issue_date + dt.timedelta(days=due_days):
        Invoice.objects.filter(pk=invoice.pk).update(
            due_date=issue_date + dt.timedelta(days=due_days)
        )
        invoice.refresh_from_db()
    return invoice


def ws_today(workspace) -> dt.date:
    return timezone.localdate(timezone=workspace.tzinfo)


def fresh_user(user: User) -> User:
    """The user as the authentication backend loads it: joined with the running timer."""
    return User.objects.select_related("running_timer__project__client").get(pk=user.pk)


def prompts_for(persona, **kwargs):
    return prompt_list_for_user(
        workspace=persona.workspace, user=fresh_user(persona.user), **kwargs
    )


def keys(prompts) -> list[str]:
    return [p.key for p in prompts]


@pytest.fixture
def acme(owner):
    return ClientFactory(workspace=owner.workspace, name="Acme Ltd")


@pytest.fixture
def rebrand(acme):
    return ProjectFactory(client=acme, name="Rebrand", hourly_rate=Decimal("100.00"))


def quote_in_status(owner, client, *, status, valid_in_days=30, converted=False):
    """A quote of 1,600.00 (2 days at 800.00) put straight into `status`, numbered, and
    accepted now or converted to a new project when asked."""
    quote = quote_create_draft(
        workspace=owner.workspace,
        user=owner.user,
        client=client,
        valid_until=ws_today(owner.workspace) + dt.timedelta(days=valid_in_days),
        lines=[
            {
                "description": "Design",
                "quantity": Decimal("2"),
                "unit": "days",
                "unit_price": Decimal("800.00"),
                "tax_rate": Decimal("0"),
            }
        ],
    )
    number = f"Q-{quote.pk:04d}"
    Quote.objects.filter(pk=quote.pk).update(
        status=status,
        number=number,
        accepted_at=timezone.now() if status == Quote.Status.ACCEPTED else None,
        converted_project=ProjectFactory(client=client) if converted else None,
    )
    quote.refresh_from_db()
    return quote
