"""Evaluating the prompts: states hide them, placements pick them, and the cost is a fixed
number of queries whatever the number of rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from solodesk.prompts.models import PromptEvent, PromptState
from solodesk.prompts.selectors import prompt_list_for_user, prompt_report
from solodesk.prompts.services import prompt_events_record_shown
from solodesk.prompts.tests.conftest import entry, fresh_user, issued_invoice, keys, prompts_for
from solodesk.quotes.models import Quote
from solodesk.tests.factories import ClientFactory, ProjectFactory, RunningTimerFactory


def book(owner, rows: int) -> None:
    """`rows` of everything a rule looks at: clients with old unbilled time (and no e-mail),
    overdue invoices, projects past their budget, accepted quotes; and a long timer."""
    for n in range(rows):
        client = ClientFactory(workspace=owner.workspace, name=f"Client {n:03d}", email="")
        project = ProjectFactory(client=client, budget_hours=Decimal("1"))
        entry(project, owner.user, days_ago=20, hours=2)
        issued_invoice(owner, client=client, days_ago=40)
        Quote.objects.create(
            workspace=owner.workspace,
            client=client,
            status=Quote.Status.ACCEPTED,
            number=f"Q-{n:04d}",
            currency="EUR",
            valid_until=timezone.localdate(),
            total=Decimal("500.00"),
            accepted_at=timezone.now(),
        )
    RunningTimerFactory(
        project=project, user=owner.user, started_at=timezone.now() - dt.timedelta(hours=12)
    )


@pytest.mark.parametrize("rows", [3, 30])
def test_dashboard_prompts_and_events_cost_five_queries_whatever_the_rows(
    owner, rows, django_assert_num_queries
):
    book(owner, rows)
    PromptState.objects.create(
        workspace=owner.workspace, user=owner.user, key="onboarding", completed_at=timezone.now()
    )
    user = fresh_user(owner.user)
    # Budget 6. 1 the user's prompt states, 2 clients (unbilled time, missing details: one
    # GROUP BY), 3 documents (overdue / draft / unsent invoices UNION accepted / expiring
    # quotes), 4 projects past 80 % of budget (one GROUP BY), 5 one INSERT of every "shown"
    # event, 6 the upsert of the hour's memo of them. The checklist is done (no onboarding
    # query); the timer came with the user.
    with django_assert_num_queries(6):
        prompts = prompt_list_for_user(workspace=owner.workspace, user=user, limit=None)
        prompt_events_record_shown(workspace=owner.workspace, user=user, prompts=prompts)
    # A reload within the hour reads the memo with the states and writes nothing.
    with django_assert_num_queries(4):
        again = prompt_list_for_user(workspace=owner.workspace, user=user, limit=None)
        prompt_events_record_shown(workspace=owner.workspace, user=user, prompts=again)
    rules = {p.rule for p in prompts}
    assert rules == {
        "unbilled_time",
        "client_incomplete",
        "invoice_overdue",
        "quote_accepted",
        "budget_100",
        "timer_long",
    }
    assert PromptEvent.objects.filter(kind="shown").count() == len(prompts)


@pytest.mark.parametrize("rows", [3, 30])
def test_dashboard_during_onboarding_costs_six_queries_whatever_the_rows(
    owner, rows, django_assert_num_queries
):
    book(owner, rows)
    user = fresh_user(owner.user)
    # Budget 7 (the first view of the hour). 1 prompt states, 2 onboarding facts (EXISTS /
    # LIMIT 1 subqueries), 3 clients, 4 documents, 5 projects, 6 the INSERT of "shown"
    # events, 7 the upsert of the hour's memo.
    with django_assert_num_queries(7):
        prompts = prompt_list_for_user(workspace=owner.workspace, user=user)
        prompt_events_record_shown(workspace=owner.workspace, user=user, prompts=prompts)
    assert prompts[0].rule == "onboarding"


def test_a_new_workspace_costs_three_queries(owner, django_assert_num_queries):
    user = fresh_user(owner.user)
    # 1 prompt states, 2 onboarding facts (which prove the other families empty), 3 INSERT,
    # 4 the hour's memo.
    with django_assert_num_queries(4):
        prompts = prompt_list_for_user(workspace=owner.workspace, user=user)
        prompt_events_record_shown(workspace=owner.workspace, user=user, prompts=prompts)
    assert keys(prompts) == ["onboarding"]


def test_dismissed_and_snoozed_prompts_are_hidden_until_the_day(owner, acme):
    client = ClientFactory(workspace=owner.workspace, name="Quiet Co", email="")
    key = f"client_incomplete:{client.public_id}"
    assert key in keys(prompts_for(owner))
    today = timezone.localdate(timezone=owner.workspace.tzinfo)
    state = PromptState.objects.create(
        workspace=owner.workspace, user=owner.user, key=key, snoozed_until=today
    )
    assert key in keys(prompts_for(owner))  # snoozed until today: back today
    state.snoozed_until = today + dt.timedelta(days=1)
    state.save()
    assert key not in keys(prompts_for(owner))
    state.snoozed_until = None
    state.dismissed_at = timezone.now()
    state.save()
    prompts = prompts_for(owner)
    assert key not in keys(prompts)
    assert key in prompts.evaluation.raised  # still true, only hidden


def test_state_is_per_user(owner, member):
    PromptState.objects.create(
        workspace=owner.workspace, user=owner.user, key="onboarding", dismissed_at=timezone.now()
    )
    assert "onboarding" not in keys(prompts_for(owner))
    assert "onboarding" in keys(prompts_for(member))


def test_the_report_counts_per_rule_with_rates_and_median(owner, member, stranger):
    now = timezone.now()

    def event(user, key, kind, minutes, workspace=owner.workspace):
        PromptEvent.objects.create(
            workspace=workspace,
            user=user,
            key=key,
            rule=key.split(":")[0],
            kind=kind,
            created_at=now + dt.timedelta(minutes=minutes),
            hour=minutes if kind == "shown" else None,
        )

    for user in (owner.user, member.user):
        event(user, "unbilled_time:a", "shown", 0)
        event(user, "unbilled_time:a", "shown", 60)
    event(owner.user, "unbilled_time:a", "clicked", 61)
    event(owner.user, "unbilled_time:a", "completed", 120)
    event(member.user, "unbilled_time:a", "clicked", 70)
    event(member.user, "unbilled_time:a", "completed", 240)
    event(stranger.user, "unbilled_time:a", "shown", 0, workspace=stranger.workspace)
    report = {row.rule: row for row in prompt_report(workspace=owner.workspace)}
    row = report["unbilled_time"]
    assert (row.shown, row.clicked, row.completed) == (4, 2, 2)
    assert row.click_through_rate == 0.5
    assert row.completion_rate == 1.0
    assert row.median_to_complete == dt.timedelta(minutes=180)  # median of 120 and 240
    assert report["onboarding"].shown == 0


def test_a_page_shows_at_most_three_prompts_of_one_rule(owner):
    for _ in range(5):
        issued_invoice(owner, client=ClientFactory(workspace=owner.workspace), days_ago=40)
    prompts = prompts_for(owner)
    assert [p.rule for p in prompts].count("invoice_overdue") == 3
    assert len([k for k in prompts.evaluation.raised if k.startswith("invoice_overdue")]) == 5


def test_clients_family_from_the_dashboards_unbilled_rows_equals_its_own_query(
    owner, stranger, django_assert_num_queries
):
    """The dashboard reads the unbilled time per project once and hands it to the prompts:
    the `clients` family built from those rows (plus one query for the clients missing
    details) gives exactly the rows of its own UNION ALL."""
    from solodesk.prompts.registry import Context
    from solodesk.prompts.rules.families import UNBILLED_CLIENTS, client_rows, unbilled_clients

    ws = owner.workspace
    acme = ClientFactory(workspace=ws, name="Acme", email="a@example.com", payment_terms_days=30)
    bare = ClientFactory(workspace=ws, name="Bare", email="", default_hourly_rate=Decimal("80"))
    old = ClientFactory(workspace=ws, name="Old", is_archived=True, email="")
    ClientFactory(workspace=ws, name="Nothing", email="", payment_terms_days=None)
    hourly = ProjectFactory(client=acme, hourly_rate=Decimal("95.50"))
    entry(hourly, owner.user, days_ago=30, hours=1.25)
    entry(hourly, owner.user, days_ago=2, hours=3)
    entry(ProjectFactory(client=acme, billing_method="fixed"), owner.user, days_ago=20, hours=2)
    entry(ProjectFactory(client=bare, hourly_rate=None), owner.user, days_ago=16, hours=0.5)
    entry(ProjectFactory(client=bare, billing_method="non_billable"), owner.user, days_ago=40)
    entry(ProjectFactory(client=old), owner.user, days_ago=50)
    recent = ClientFactory(workspace=ws, name="Recent", email="r@example.com")
    entry(ProjectFactory(client=recent), owner.user, days_ago=3)
    entry(
        ProjectFactory(client=ClientFactory(workspace=stranger.workspace)),
        stranger.user,
        days_ago=30,
    )

    own = client_rows(Context(workspace=ws, user=owner.user))
    ctx = Context(workspace=ws, user=owner.user)
    ctx.results[UNBILLED_CLIENTS] = unbilled_clients(workspace=ws)
    with django_assert_num_queries(1):  # the clients missing details
        shared = client_rows(ctx)
    assert shared == own
    assert [row.name for row in own] == ["Acme", "Bare", "Nothing"]
    # Acme: 4.25 h on the hourly project (only its hours priced) and 2 h fixed fee.
    assert own[0].unbilled_entries == 3
    assert own[0].unbilled_seconds == 6.25 * 3600
    assert own[0].unbilled_rate_seconds == Decimal("95.50") * 15300
