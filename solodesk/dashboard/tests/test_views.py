"""The dashboard page: what it shows, to whom, and what it costs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from solodesk.core.models import Heartbeat
from solodesk.dashboard import views
from solodesk.invoicing import services as invoicing
from solodesk.invoicing.tests.factories import line, make_client, make_entry, make_project
from solodesk.tests.factories import ProjectFactory, RunningTimerFactory
from solodesk.timetracking.models import RunningTimer

HOME = reverse("home")
BRUSSELS = dt.timezone(dt.timedelta(hours=1))  # Europe/Brussels in winter (CET)
NOW = dt.datetime(2026, 3, 11, 10, 0, tzinfo=dt.UTC)


def test_home_is_the_dashboard_at_the_root():
    assert HOME == "/"


def test_an_anonymous_visitor_is_sent_to_log_in(db):
    response = DjangoClient().get(HOME)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_shows_the_users_figures(owner):
    client = make_client(owner.workspace, name="Acme Ltd", currency="EUR")
    project = make_project(client, name="Website", hourly_rate=Decimal("100.00"))
    # 2 h this morning (billable, unbilled) → 200.00 EUR unbilled.
    make_entry(
        project=project,
        user=owner.user,
        start=dt.datetime(2026, 3, 11, 8, 0, tzinfo=BRUSSELS),
        minutes=120,
    )

    response = owner.client.get(HOME)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'aria-current="page">Dashboard' in body
    assert "200.00 EUR" in body
    assert "Website" in body  # a quick start
    assert f'name="project" value="{project.public_id}"' in body
    assert "<svg" in body and "<title" in body and "<desc" in body


def test_a_quick_start_starts_the_timer_and_comes_back(owner):
    project = ProjectFactory(client__workspace=owner.workspace, name="Website")
    make_entry(
        project=project,
        user=owner.user,
        start=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
        minutes=30,
    )

    response = owner.client.post(
        reverse("timetracking:timer_start"), {"project": str(project.public_id), "next": HOME}
    )

    assert response.status_code == 302
    assert response["Location"] == HOME
    assert RunningTimer.objects.get(user=owner.user).project == project
    assert "Switch to" in owner.client.get(HOME).content.decode()


def test_a_strangers_data_never_appears(owner, stranger):
    client = make_client(stranger.workspace, name="Secret Client", currency="USD")
    project = make_project(client, name="Secret Project", hourly_rate=Decimal("999.00"))
    make_entry(
        project=project,
        user=stranger.user,
        start=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
        minutes=60,
    )
    invoicing.invoice_issue(
        invoice=invoicing.invoice_create_draft(
            workspace=stranger.workspace,
            user=stranger.user,
            client=client,
            lines=[line(unit_price="777.00", tax_rate="0")],
        ),
        user=stranger.user,
    )

    body = owner.client.get(HOME).content.decode()

    assert "Secret" not in body
    assert "USD" not in body
    assert "999" not in body and "777" not in body


@time_machine.travel(NOW, tick=False)
def test_owners_are_warned_when_the_scheduler_never_ran(owner, member):
    warning = "Background jobs may not be running"

    assert warning in owner.client.get(HOME).content.decode()
    assert warning not in member.client.get(HOME).content.decode()


@time_machine.travel(NOW, tick=False)
def test_owners_are_warned_when_the_scheduler_is_late(owner):
    Heartbeat.objects.create(name="scheduler", seen_at=NOW - dt.timedelta(minutes=16))

    body = owner.client.get(HOME).content.decode()

    assert "Background jobs may not be running: the scheduler last ran 16" in body


@time_machine.travel(NOW, tick=False)
def test_no_warning_while_the_scheduler_runs(owner):
    Heartbeat.objects.create(name="scheduler", seen_at=NOW - dt.timedelta(minutes=14))

    body = owner.client.get(HOME).content.decode()

    assert "Background jobs may not be running" not in body
    # When it last ran is shown all the same.
    assert "the scheduler last ran 14\xa0minutes ago" in body


def _fill(persona, size: int) -> None:
    """`size` time entries over 3 projects and 2 clients (2 currencies), `size` invoices
    (issued, some paid, some credited, some drafts), a running timer."""
    workspace, user = persona.workspace, persona.user
    euro = make_client(workspace, currency="EUR")
    dollar = make_client(workspace, currency="USD", default_hourly_rate=None)
    projects = [
        make_project(euro, hourly_rate=Decimal("90.00")),
        make_project(dollar, hourly_rate=None),  # no rate: unpriced
        make_project(euro, billing_method="fixed", fixed_fee=Decimal("1000.00")),
    ]
    start = dt.datetime(2026, 3, 11, 7, 0, tzinfo=dt.UTC)
    for index in range(size):
        make_entry(
            project=projects[index % 3],
            user=user,
            start=start - dt.timedelta(days=index * 3),
            minutes=45,
            is_billable=index % 4 != 0,
        )
    for index in range(size):
        client = euro if index % 2 else dollar
        draft = invoicing.invoice_create_draft(
            workspace=workspace,
            user=user,
            client=client,
            lines=[line(unit_price=f"{100 + index}.00")],
        )
        if index % 5 == 0:
            continue
        issued = invoicing.invoice_issue(
            invoice=draft, user=user, issue_date=dt.date(2026, 3, 10) - dt.timedelta(days=index * 9)
        )
        if index % 7 == 0:
            invoicing.credit_note_create(invoice=issued, user=user)
        elif index % 3 == 0:
            invoicing.payment_record(
                invoice=issued,
                user=user,
                amount=Decimal("50.00"),
                date=dt.date(2026, 3, 10),
                method="bank_transfer",
            )
    RunningTimer.objects.filter(user=user).delete()
    RunningTimerFactory(user=user, workspace=workspace, project=projects[0])


@pytest.fixture
def without_prompts(monkeypatch):
    """The dashboard's own queries, without the prompts' (measured separately below)."""
    monkeypatch.setattr(views, "prompt_list_for_user", lambda **kwargs: [])


@pytest.mark.parametrize("size", [10, 60])
@time_machine.travel(NOW, tick=False)
def test_query_count_does_not_grow_with_the_data(
    owner, size, without_prompts, django_assert_num_queries
):
    _fill(owner, size)
    Heartbeat.objects.create(name="scheduler", seen_at=NOW)

    # 1 session, 2 user + running timer + project + client, 3 membership + workspace,
    # 4 unbilled time (GROUP BY project + client; read once, shared with the prompts),
    # 5 hours (the daily totals of 12 months, summed in Python), 6 quick-start projects
    # (+ clients), 7 receivables (GROUP BY currency), 8 revenue (invoiced UNION ALL paid),
    # 9 the scheduler's heartbeat.
    with django_assert_num_queries(9):
        response = owner.client.get(HOME)

    assert response.status_code == 200


def test_query_count_for_a_member_skips_the_heartbeat(
    member, without_prompts, django_assert_num_queries
):
    # The same 8 queries as the owner's page without the scheduler's heartbeat.
    with django_assert_num_queries(8):
        response = member.client.get(HOME)

    assert response.status_code == 200


@time_machine.travel(NOW, tick=False)
def test_the_whole_page_with_its_prompts_stays_within_15_queries_at_any_size(owner):
    """The issue's budget: ≤ 15 queries for the whole dashboard, prompts included, and the
    same number at two data sizes (the prompts' own queries are itemised in
    solodesk/prompts/selectors.py)."""
    Heartbeat.objects.create(name="scheduler", seen_at=NOW)
    counts = []
    for size in (10, 120):
        _fill(owner, size)
        owner.client.get(HOME)  # the first view of new prompts records "shown" once
        with CaptureQueriesContext(connection) as queries:
            response = owner.client.get(HOME)
        assert response.status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 15, counts
    # The reload wrote nothing: the hour's "shown" memo is a row the page already read.
    writes = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SELECT")]
    assert writes == []


@time_machine.travel(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC), tick=False)
def test_the_demo_dashboard_shows_months_of_history(db):
    from solodesk.accounts.models import User
    from solodesk.demo import demo_load

    assert demo_load(email="demo@example.com", password="demo passphrase 1")
    client = DjangoClient()
    client.force_login(User.objects.get(email="demo@example.com"))

    response = client.get(HOME)

    assert response.status_code == 200
    revenue = response.context["summary"].revenue
    months_with_payments = {
        point.month for row in revenue for point in row.months if point.paid > 0
    }
    # January to August from the history, October and November from the demo's own data.
    assert len(months_with_payments) >= 8
