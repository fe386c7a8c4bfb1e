"""One test per rule: the prompt it raises from the workspace's own numbers, and when it
stays quiet."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from solodesk.invoicing import services as invoicing
from solodesk.invoicing.models import Invoice
from solodesk.prompts.registry import RULES, rule_of
from solodesk.prompts.tests.conftest import (
    entry,
    issued_invoice,
    keys,
    prompts_for,
    quote_in_status,
    ws_today,
)
from solodesk.quotes.models import Quote
from solodesk.tests.factories import ClientFactory, ProjectFactory, RunningTimerFactory


def by_rule(prompts, rule):
    return [p for p in prompts if p.rule == rule]


def test_every_rule_is_registered_once_with_a_title_and_priority():
    assert set(RULES) == {
        "onboarding",
        "unbilled_time",
        "client_incomplete",
        "invoice_overdue",
        "invoice_draft_stale",
        "invoice_not_sent",
        "quote_accepted",
        "quote_expiring",
        "budget_80",
        "budget_100",
        "timer_long",
    }
    assert all(rule.title and rule.priority for rule in RULES.values())
    assert rule_of("unbilled_time:abc") == "unbilled_time"


def test_onboarding_ticks_each_step_from_the_data(owner):
    workspace = owner.workspace
    workspace.payment_details = ""
    workspace.save()
    [card] = by_rule(prompts_for(owner), "onboarding")
    assert card.key == "onboarding"
    assert card.event_key == "onboarding:business_profile"
    assert [s.done for s in card.steps] == [False] * 6
    assert card.cta.url == "/settings/workspace/"

    workspace.payment_details = "IBAN BE71 0961 2345 6769"
    workspace.save()
    [card] = by_rule(prompts_for(owner), "onboarding")
    assert card.event_key == "onboarding:add_client"
    assert card.cta.url == "/clients/new/?next=%2F"

    client = ClientFactory(workspace=workspace, name="Acme Ltd")
    [card] = by_rule(prompts_for(owner), "onboarding")
    assert card.event_key == "onboarding:create_project"
    assert card.cta.url == f"/projects/new/?client={client.public_id}&next=%2F"

    project = ProjectFactory(client=client)
    [card] = by_rule(prompts_for(owner), "onboarding")
    assert card.event_key == "onboarding:track_time"
    assert card.cta.url == f"/time/new/?project={project.public_id}&next=%2F"

    entry(project, owner.user, days_ago=1)
    [card] = by_rule(prompts_for(owner), "onboarding")
    assert card.event_key == "onboarding:issue_invoice"
    assert card.cta.url == f"/invoices/from-time/?client={client.public_id}"
    assert card.title == "Get set up: 4 of 6 done"

    invoice = invoicing.invoice_create_from_time(
        workspace=workspace, user=owner.user, client=client, date_from=None, date_to=None
    )
    [card] = by_rule(prompts_for(owner), "onboarding")
    assert card.cta.url == f"/invoices/{invoice.public_id}/"

    invoicing.invoice_issue(invoice=invoice, user=owner.user)
    [card] = by_rule(prompts_for(owner), "onboarding")
    assert card.event_key == "onboarding:record_payment"
    assert card.cta.url == f"/invoices/{invoice.public_id}/#record-payment"

    invoice.refresh_from_db()
    invoicing.payment_record(
        invoice=invoice,
        user=owner.user,
        amount=invoice.total,
        date=timezone.localdate(),
        method="cash",
    )
    prompts = prompts_for(owner)
    assert by_rule(prompts, "onboarding") == []
    assert prompts.evaluation.finished == {"onboarding"}


def test_unbilled_time_per_client_with_amount_and_prefilled_period(owner, acme, rebrand):
    owner.workspace.locale = "de-DE"
    owner.workspace.save()
    for days in (30, 20, 16):
        entry(rebrand, owner.user, days_ago=days, hours=2)
    entry(rebrand, owner.user, days_ago=3, hours=1.5)
    entry(rebrand, owner.user, days_ago=3, hours=1, is_billable=False)
    fresh = ClientFactory(workspace=owner.workspace, name="Fresh Ltd")
    entry(ProjectFactory(client=fresh), owner.user, days_ago=2)  # younger than 14 days

    [prompt] = by_rule(prompts_for(owner), "unbilled_time")
    first = (timezone.now() - dt.timedelta(days=30)).astimezone(owner.workspace.tzinfo).date()
    assert prompt.key == f"unbilled_time:{acme.public_id}"
    assert prompt.message == (
        f"Acme Ltd has 750,00 EUR of unbilled time from 4 entries since {first:%d.%m.%Y}."
    )
    assert prompt.cta.url == (
        f"/invoices/from-time/?client={acme.public_id}&date_from={first.isoformat()}"
        f"&date_to={timezone.localdate(timezone=owner.workspace.tzinfo).isoformat()}"
    )


def test_unbilled_time_ignores_time_on_a_draft_or_invoiced(owner, acme, rebrand):
    entry(rebrand, owner.user, days_ago=30)
    invoicing.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=acme, date_from=None, date_to=None
    )
    assert by_rule(prompts_for(owner), "unbilled_time") == []


def test_client_incomplete_without_email_or_payment_terms(owner):
    ClientFactory(workspace=owner.workspace, name="Complete Co")
    no_email = ClientFactory(workspace=owner.workspace, name="Quiet Co", email="")
    no_terms = ClientFactory(workspace=owner.workspace, name="Loose Co", payment_terms_days=None)
    ClientFactory(workspace=owner.workspace, name="Gone Co", email="", is_archived=True)
    prompts = by_rule(prompts_for(owner), "client_incomplete")
    assert sorted(keys(prompts)) == sorted(
        [f"client_incomplete:{no_email.public_id}", f"client_incomplete:{no_terms.public_id}"]
    )
    messages = {p.subject: p.message for p in prompts}
    assert messages[str(no_email.public_id)] == (
        "Quiet Co has no e-mail address (needed to send invoices)."
    )
    assert "workspace's 30 days apply" in messages[str(no_terms.public_id)]


def test_invoice_overdue_with_days_amount_and_reminder_button(owner, acme):
    invoice = issued_invoice(owner, client=acme, days_ago=40, due_days=14, total="1234.50")
    issued_invoice(owner, client=acme, days_ago=1, due_days=14)  # not due yet
    [prompt] = by_rule(prompts_for(owner), "invoice_overdue")
    assert prompt.key == f"invoice_overdue:{invoice.public_id}"
    assert prompt.message == (
        f"Acme Ltd owes 1,234.50 EUR on invoice {invoice.number}, due "
        f"{invoice.due_date.day} {invoice.due_date:%b %Y}: "
        f"{(ws_today(owner.workspace) - invoice.due_date).days} days overdue."
    )
    assert prompt.cta.label in {"Send a reminder now", "Open the invoice"}
    if prompt.cta.method == "POST":
        assert prompt.cta.url == f"/reminders/invoices/{invoice.public_id}/send/"
    # Also where it matters: the invoice list.
    assert keys(prompts_for(owner, placement="invoice_list")) == [prompt.key]


def test_invoice_draft_stale_after_three_days(owner, acme, rebrand):
    entry(rebrand, owner.user, days_ago=5)
    draft = invoicing.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=acme, date_from=None, date_to=None
    )
    assert by_rule(prompts_for(owner), "invoice_draft_stale") == []
    Invoice.objects.filter(pk=draft.pk).update(created_at=timezone.now() - dt.timedelta(days=4))
    [prompt] = by_rule(prompts_for(owner), "invoice_draft_stale")
    assert prompt.cta.url == f"/invoices/{draft.public_id}/"
    assert "100.00 EUR was started 4 days ago" in prompt.message


def test_invoice_not_sent(owner, acme):
    invoice = issued_invoice(owner, client=acme, days_ago=2, due_days=30)
    [prompt] = by_rule(prompts_for(owner), "invoice_not_sent")
    assert prompt.key == f"invoice_not_sent:{invoice.public_id}"
    assert prompt.cta.url == f"/invoices/{invoice.public_id}/#send"
    Invoice.objects.filter(pk=invoice.pk).update(sent_at=timezone.now())
    assert by_rule(prompts_for(owner), "invoice_not_sent") == []


def test_quote_accepted_without_invoice_or_project(owner, acme):
    accepted = quote_in_status(owner, acme, status=Quote.Status.ACCEPTED)
    quote_in_status(owner, acme, status=Quote.Status.ACCEPTED, converted=True)
    [prompt] = by_rule(prompts_for(owner), "quote_accepted")
    assert prompt.key == f"quote_accepted:{accepted.public_id}"
    assert prompt.cta.url == f"/quotes/{accepted.public_id}/#convert"
    assert "(1,600.00 EUR) was accepted" in prompt.message


def test_quote_about_to_expire(owner, acme):
    soon = quote_in_status(owner, acme, status=Quote.Status.SENT, valid_in_days=2)
    quote_in_status(owner, acme, status=Quote.Status.SENT, valid_in_days=20)
    quote_in_status(owner, acme, status=Quote.Status.SENT, valid_in_days=-1)  # expired already
    [prompt] = by_rule(prompts_for(owner), "quote_expiring")
    assert prompt.key == f"quote_expiring:{soon.public_id}"
    assert prompt.title == f"Quote {soon.number} expires in 2 days"


@pytest.mark.parametrize(
    ("hours", "rules"),
    [(15, []), (17, ["budget_80"]), (20, ["budget_100"]), (25, ["budget_100"])],
)
def test_project_budget_in_hours(owner, acme, hours, rules):
    project = ProjectFactory(client=acme, name="Site", budget_hours=Decimal("20"))
    entry(project, owner.user, days_ago=2, hours=hours / 2)
    entry(project, owner.user, days_ago=1, hours=hours / 2)
    prompts = [p for p in prompts_for(owner) if p.rule.startswith("budget")]
    assert [p.rule for p in prompts] == rules
    if rules:
        assert prompts[0].key == f"{rules[0]}:{project.public_id}"
        assert f"used {hours:.1f} of 20 hours" in prompts[0].message
        page = prompts_for(owner, placement="project_detail", subject=str(project.public_id))
        assert keys(page) == [prompts[0].key]
    if rules == ["budget_100"]:
        # The 80 % warning is still true, only not shown: not a completion.
        assert f"budget_80:{project.public_id}" in prompts_for(owner).evaluation.raised


def test_project_budget_in_amount(owner, acme):
    project = ProjectFactory(
        client=acme, hourly_rate=Decimal("100.00"), budget_amount=Decimal("1000.00")
    )
    entry(project, owner.user, days_ago=1, hours=9)
    [prompt] = [p for p in prompts_for(owner) if p.rule.startswith("budget")]
    assert prompt.rule == "budget_80"
    assert "900.00 EUR of 1,000.00 EUR" in prompt.message


def test_timer_running_for_more_than_ten_hours(owner, rebrand):
    timer = RunningTimerFactory(
        project=rebrand,
        user=owner.user,
        started_at=timezone.now() - dt.timedelta(hours=11),
    )
    [prompt] = by_rule(prompts_for(owner), "timer_long")
    assert prompt.key == f"timer_long:{timer.public_id}"
    assert prompt.title == "Still working?"
    assert prompt.cta.url == "/prompts/timer/stop/"
    assert "running for 11 hours" in prompt.message


def test_timer_running_for_a_short_while_raises_nothing(owner, rebrand):
    RunningTimerFactory(project=rebrand, user=owner.user)
    assert by_rule(prompts_for(owner), "timer_long") == []


def test_stranger_data_never_raises_prompts_for_the_owner(owner, stranger):
    other = ClientFactory(workspace=stranger.workspace, email="")
    entry(ProjectFactory(client=other), stranger.user, days_ago=30)
    issued_invoice(stranger, client=other, days_ago=60)
    assert [p.rule for p in prompts_for(owner)] == ["onboarding"]


def test_the_invoice_list_reads_only_the_overdue_branch_with_the_same_rows(
    owner, acme, rebrand, django_assert_num_queries
):
    """On the invoice list only the overdue rule reads the `documents` family, so it runs
    the overdue branch alone: the same overdue rows, in the same order, as the dashboard's
    whole family, and none of the other documents."""
    from solodesk.prompts.registry import Context
    from solodesk.prompts.rules.families import document_rows

    late = [
        issued_invoice(owner, client=acme, days_ago=days, due_days=14, total="10.00")
        for days in (60, 40, 90)
    ]
    issued_invoice(owner, client=acme, days_ago=2, due_days=30)  # not sent, not overdue
    quote_in_status(owner, acme, status=Quote.Status.ACCEPTED)  # accepted, not converted
    entry(rebrand, owner.user, days_ago=5)
    draft = invoicing.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=acme, date_from=None, date_to=None
    )
    Invoice.objects.filter(pk=draft.pk).update(created_at=timezone.now() - dt.timedelta(days=4))

    everything = document_rows(Context(workspace=owner.workspace, user=owner.user))
    with django_assert_num_queries(1):
        listed = document_rows(
            Context(workspace=owner.workspace, user=owner.user, placement="invoice_list")
        )

    overdue = [row for row in everything if row.category == "invoice_overdue"]
    assert {row.category for row in everything} > {"invoice_overdue"}
    assert listed == overdue
    assert [row.public_id for row in listed] == [
        late[2].public_id,
        late[0].public_id,
        late[1].public_id,
    ]
