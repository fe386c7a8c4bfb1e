"""The documents and projects (budgets) families cut their rows early (one SELECT per
urgency, each limited; the projects read in name order until enough are past their
budget): the same rows, in the same order, as classifying every document and project
and taking the first ROW_LIMIT."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from solodesk.invoicing import services as invoicing
from solodesk.invoicing.models import Invoice
from solodesk.prompts.registry import Context
from solodesk.prompts.rules import families
from solodesk.prompts.rules.families import budget_rows, document_rows
from solodesk.prompts.tests.conftest import issued_invoice, quote_in_status, ws_today
from solodesk.quotes.models import Quote
from solodesk.tests.factories import ClientFactory, ProjectFactory
from solodesk.timetracking.models import TimeEntryMonth

RANK_OF = {category: rank for rank, category in families.CATEGORY_OF_RANK.items()}


def _documents(owner):
    """Every kind of document the family reads, and some it must not, several per urgency."""
    acme = ClientFactory(workspace=owner.workspace, name="Acme Ltd")
    # Overdue: issued (never sent, so also candidates for "not sent": listed once) ...
    overdue = [issued_invoice(owner, client=acme, days_ago=d, due_days=14) for d in (60, 90, 40)]
    # ... and partially paid.
    for days in (70, 50):
        invoice = issued_invoice(owner, client=acme, days_ago=days, due_days=14)
        Invoice.objects.filter(pk=invoice.pk).update(
            status=Invoice.Status.PARTIALLY_PAID, amount_paid=Decimal("1.00")
        )
    Invoice.objects.filter(pk=overdue[0].pk).update(sent_at=timezone.now())
    # Not sent, not overdue: not due yet, or past due but settled by a credit note.
    for days in (5, 2, 9):
        issued_invoice(owner, client=acme, days_ago=days, due_days=30)
    settled = issued_invoice(owner, client=acme, days_ago=80, due_days=14)
    Invoice.objects.filter(pk=settled.pk).update(amount_credited=settled.total)
    sent = issued_invoice(owner, client=acme, days_ago=3, due_days=30)
    Invoice.objects.filter(pk=sent.pk).update(sent_at=timezone.now())  # nothing to say
    # Drafts: three stale, one fresh.
    for days in (6, 4, 10, 1):
        draft = invoicing.invoice_create_draft(
            workspace=owner.workspace,
            user=owner.user,
            client=acme,
            lines=[
                {
                    "description": "Work",
                    "quantity": Decimal("1"),
                    "unit": "pieces",
                    "unit_price": Decimal("50.00"),
                    "tax_rate": Decimal("0"),
                }
            ],
        )
        Invoice.objects.filter(pk=draft.pk).update(
            created_at=timezone.now() - dt.timedelta(days=days)
        )
    # Quotes: accepted (one converted), sent and about to expire (or not).
    for days, converted in ((20, False), (10, False), (30, True), (15, False)):
        quote_in_status(
            owner, acme, status=Quote.Status.ACCEPTED, valid_in_days=days, converted=converted
        )
    for days in (3, 1, 20, -1):
        quote_in_status(owner, acme, status=Quote.Status.SENT, valid_in_days=days)


def _expected_documents(owner, limit):
    """Every document classified in Python as the rules define it, in the family's order
    (urgency, day, moment; the database's own place for a missing day), first `limit`."""
    ctx = Context(workspace=owner.workspace, user=owner.user)
    today, now = ctx.today, ctx.now
    rows = []
    for invoice in Invoice.objects.filter(workspace=owner.workspace, kind=Invoice.Kind.INVOICE):
        owed = invoice.total > invoice.amount_paid + invoice.amount_credited
        if (
            invoice.status in families.OPEN_STATUSES
            and invoice.due_date is not None
            and invoice.due_date < today
            and owed
        ):
            rank = 1
        elif invoice.status == Invoice.Status.ISSUED and invoice.sent_at is None:
            rank = 3
        elif invoice.status == Invoice.Status.DRAFT and invoice.created_at < now - dt.timedelta(
            days=families.DRAFT_STALE_AFTER_DAYS
        ):
            rank = 4
        else:
            continue
        rows.append((rank, invoice.due_date, invoice.issued_at or invoice.created_at, invoice))
    for quote in Quote.objects.filter(workspace=owner.workspace):
        if quote.status == Quote.Status.ACCEPTED and not (
            quote.converted_invoice_id or quote.converted_project_id
        ):
            rank = 2
        elif quote.status == Quote.Status.SENT and today <= quote.valid_until <= (
            today + dt.timedelta(days=families.QUOTE_EXPIRY_WARNING_DAYS)
        ):
            rank = 5
        else:
            continue
        rows.append((rank, quote.valid_until, quote.accepted_at or quote.created_at, quote))
    nulls_last = connection.vendor == "postgresql"

    def order(row):
        rank, day, moment, _document = row
        return (rank, (day is None) == nulls_last, day or dt.date.min, moment)

    rows.sort(key=order)
    return [(families.CATEGORY_OF_RANK[row[0]], row[3].public_id) for row in rows[:limit]]


@pytest.mark.parametrize("limit", [2, 4, 7, 11, 50])
def test_documents_are_every_urgency_s_first_rows_in_order(owner, monkeypatch, limit):
    _documents(owner)
    monkeypatch.setattr(families, "ROW_LIMIT", limit)
    rows = document_rows(Context(workspace=owner.workspace, user=owner.user))
    assert [(row.category, row.public_id) for row in rows] == _expected_documents(owner, limit)
    if limit == 50:
        # Every urgency is represented, each document once (overdue and never sent: overdue).
        counts = {
            c: [r.category for r in rows].count(c) for c in families.CATEGORY_OF_RANK.values()
        }
        assert counts == {
            "invoice_overdue": 5,
            "quote_accepted": 3,
            "invoice_not_sent": 4,
            "invoice_draft_stale": 3,
            "quote_expiring": 2,
        }


def test_the_invoice_list_s_overdue_rows_are_the_first_overdue_rows(owner, monkeypatch):
    _documents(owner)
    monkeypatch.setattr(families, "ROW_LIMIT", 4)
    listed = document_rows(
        Context(workspace=owner.workspace, user=owner.user, placement="invoice_list")
    )
    expected = [row for row in _expected_documents(owner, 50) if row[0] == "invoice_overdue"]
    assert [(row.category, row.public_id) for row in listed] == expected[:4]


def _months(project, seconds: int, billable: int) -> None:
    """A project's history as two monthly totals (what the time-entry services keep)."""
    first = ws_today(project.workspace).replace(day=1)
    for month, share in ((first, 1), ((first - dt.timedelta(days=1)).replace(day=1), 2)):
        TimeEntryMonth.objects.create(
            workspace=project.workspace,
            project=project,
            month=month,
            entries=1,
            seconds=seconds * share // 3,
            billable_seconds=billable * share // 3,
        )


@pytest.mark.parametrize("limit", [1, 2, 3, 50])
def test_budgets_are_the_first_projects_past_80_percent_by_name(owner, monkeypatch, limit):
    client = ClientFactory(workspace=owner.workspace, default_hourly_rate=None)
    hour = 3600
    cases = [
        # name, budget hours, budget amount, rate, tracked, billable, listed
        ("Delta", Decimal("10"), None, None, 9 * hour, 0, True),
        ("Alpha", Decimal("10"), None, None, 8 * hour, 0, True),  # exactly 80 %
        ("Bravo", None, Decimal("1000.00"), Decimal("100"), 0, 9 * hour, True),
        ("Echo", Decimal("10"), None, None, 7 * hour, 0, False),
        ("Charlie", None, Decimal("1000.00"), None, 0, 30 * hour, False),  # no rate
        ("Foxtrot", Decimal("0"), Decimal("0"), Decimal("100"), 99 * hour, 99 * hour, False),
        ("Golf", None, None, Decimal("100"), 99 * hour, 99 * hour, False),  # no budget
        ("Hotel", Decimal("1"), Decimal("10.00"), Decimal("100"), 0, 0, False),  # nothing yet
        ("Bravo", Decimal("100"), Decimal("100.00"), Decimal("50"), 0, 3 * hour, True),
    ]
    listed = []
    for name, hours, amount, rate, tracked, billable, is_listed in cases:
        project = ProjectFactory(
            client=client, name=name, budget_hours=hours, budget_amount=amount, hourly_rate=rate
        )
        _months(project, tracked, billable)
        if is_listed:
            listed.append((name, project.pk, project.public_id))
    archived = ProjectFactory(client=client, name="Aardvark", budget_hours=Decimal("1"))
    archived.is_archived = True
    archived.save(update_fields=["is_archived"])
    _months(archived, 9 * hour, 0)
    monkeypatch.setattr(families, "ROW_LIMIT", limit)

    rows = budget_rows(Context(workspace=owner.workspace, user=owner.user))

    assert [row.public_id for row in rows] == [key for _n, _pk, key in sorted(listed)][:limit]
    if limit == 50:
        delta = next(row for row in rows if row.name == "Delta")
        assert (delta.tracked_seconds, delta.billable_seconds) == (9 * hour, 0)
        assert delta.hours_ratio == Decimal("0.9")
