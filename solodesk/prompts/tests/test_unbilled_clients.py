"""`unbilled_clients`: the dashboard's unbilled time per client, priced per project in SQL.
It must give the same money as the one definition of a project's price
(`dashboard_unbilled` over `unbilled_projects`' rows, in Python) for every rounding mode,
scope and step, set on the project or inherited from the workspace, with the project's
rate, the client's or none, in currencies of 2 and 0 decimals; and the same `clients`
family rows as summing those per-project rows."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from solodesk.accounts.models import TimeRounding
from solodesk.dashboard.selectors import dashboard_unbilled, unbilled_by_currency
from solodesk.invoicing.tests.factories import make_client, make_entry, make_project
from solodesk.prompts.registry import Context
from solodesk.prompts.rules.families import (
    UNBILLED_AFTER_DAYS,
    ClientRow,
    _clients_from_unbilled,
    unbilled_clients,
    unbilled_projects,
)
from solodesk.tests.factories import ProjectFactory

NOW = dt.datetime(2026, 3, 30, 12, 0, tzinfo=dt.UTC)
# Around each step's edges, as in test_unbilled_projects.py.
DURATIONS = [1, 29, 30, 59, 61, 179, 181, 450, 901, 1799, 1800, 5399, 86_400]
MODES = ["", TimeRounding.NONE, TimeRounding.UP, TimeRounding.NEAREST]
SCOPES = ["", TimeRounding.PER_ENTRY, TimeRounding.PER_LINE]
STEPS = [None, 1, 6, 15, 30]


def _fill(owner):
    """Clients in EUR and JPY (one archived), each with a client rate or none, and one
    hourly project per mode × scope × step (rate: the project's, the client's, none in
    turn), plus fixed-fee and non-billable projects; a few entries of odd lengths each."""
    workspace = owner.workspace
    clients = [
        make_client(workspace, name="Acme", currency="EUR", default_hourly_rate=Decimal("80.00")),
        make_client(workspace, name="Bolt", currency="EUR", default_hourly_rate=None),
        make_client(workspace, name="Kyo", currency="JPY", default_hourly_rate=Decimal("9000")),
        make_client(
            workspace, name="Old", currency="EUR", is_archived=True, default_hourly_rate=None
        ),
    ]
    rates = [Decimal("95.50"), None, Decimal("0.01"), Decimal("123.45"), Decimal("0.00")]
    combos = itertools.product(MODES, SCOPES, STEPS)
    for index, (mode, scope, step) in enumerate(combos):
        client = clients[index % len(clients)]
        project = make_project(
            client,
            hourly_rate=rates[index % len(rates)],
            time_rounding_mode=mode,
            time_rounding_scope=scope,
            time_rounding_minutes=step,
        )
        for offset in range(1 + index % 3):
            make_entry(
                project=project,
                user=owner.user,
                start=NOW - dt.timedelta(days=1 + index % 40, hours=offset),
                seconds=DURATIONS[(index + offset) % len(DURATIONS)],
            )
    # The line's total exactly on a step and exactly half a step: the edges of rounding up
    # and to nearest, where an off-by-one in the integer arithmetic would show.
    for step, mode, seconds in itertools.product(
        [1, 6, 15, 30], [TimeRounding.UP, TimeRounding.NEAREST], [3, Decimal("0.5")]
    ):
        project = make_project(
            clients[0],
            hourly_rate=Decimal("60.00"),
            time_rounding_mode=mode,
            time_rounding_scope=TimeRounding.PER_LINE,
            time_rounding_minutes=step,
        )
        make_entry(
            project=project,
            user=owner.user,
            start=NOW - dt.timedelta(days=20),
            seconds=int(step * 60 * seconds),
        )
    for client in clients:
        for method in ("fixed", "non_billable"):
            project = make_project(client, billing_method=method, hourly_rate=Decimal("50.00"))
            make_entry(project=project, user=owner.user, start=NOW, seconds=3_723)
    return clients


@pytest.mark.parametrize(
    ("mode", "minutes", "scope"),
    [
        (TimeRounding.NONE, 1, TimeRounding.PER_ENTRY),
        (TimeRounding.UP, 6, TimeRounding.PER_ENTRY),
        (TimeRounding.NEAREST, 15, TimeRounding.PER_LINE),
        (TimeRounding.UP, 30, TimeRounding.PER_LINE),
    ],
)
def test_the_sql_price_is_the_python_price_for_every_rule(owner, mode, minutes, scope):
    workspace = owner.workspace
    workspace.time_rounding_mode = mode
    workspace.time_rounding_minutes = minutes
    workspace.time_rounding_scope = scope
    workspace.save()
    clients = _fill(owner)
    # A stranger's time is not ours.
    make_entry(project=ProjectFactory(), user=owner.user, start=NOW, seconds=600)

    rows = unbilled_clients(workspace=workspace)
    projects = unbilled_projects(workspace=workspace)

    assert [row.client_id for row in rows] == sorted(client.pk for client in clients)
    # Per currency, as the dashboard shows it, and per client (its amount alone).
    assert unbilled_by_currency(rows) == dashboard_unbilled(workspace=workspace)
    assert any(amount.amount for amount in unbilled_by_currency(rows))
    for row in rows:
        own = [project for project in projects if project.client_id == row.client_id]
        assert unbilled_by_currency([row]) == dashboard_unbilled(workspace=workspace, projects=own)
        assert row.first_at == min(project.first_at for project in own)
        assert row.archived == own[0].client_archived


def _expected_client_rows(projects, limit: int) -> list[ClientRow]:
    """The clients family's branch (a) summed from per-project rows, plainly."""
    cutoff = NOW - dt.timedelta(days=UNBILLED_AFTER_DAYS)
    by_client: dict[int, list] = {}
    for project in projects:
        if project.client_archived:
            continue
        row = by_client.setdefault(project.client_id, [project, 0, 0, Decimal(0), None])
        row[1] += project.entries
        row[2] += project.seconds
        rate = project.hourly_rate if project.hourly_rate is not None else project.client_rate
        if project.billing_method == "hourly" and rate is not None:
            row[3] += project.seconds * rate
        row[4] = min(row[4] or project.first_at, project.first_at)
    due = sorted(
        (row for row in by_client.values() if row[4] < cutoff),
        key=lambda row: (row[4], row[0].client_name),
    )
    return [
        ClientRow(
            public_id=first.client_public_id,
            name=first.client_name,
            email=first.client_email,
            payment_terms_days=first.client_terms,
            currency=first.client_currency,
            unbilled_entries=entries,
            unbilled_seconds=seconds,
            unbilled_rate_seconds=rate_seconds,
            first_unbilled_at=first_at,
        )
        for first, entries, seconds, rate_seconds, first_at in due[:limit]
    ]


@pytest.mark.parametrize("limit", [1, 2, 100])
def test_the_clients_family_rows_are_the_per_project_sums(owner, limit):
    _fill(owner)
    workspace = owner.workspace
    ctx = Context(workspace=workspace, user=owner.user, now=NOW)

    got = _clients_from_unbilled(ctx, unbilled_clients(workspace=workspace), limit)

    expected = _expected_client_rows(unbilled_projects(workspace=workspace), limit)
    assert got == expected
    assert len(got) == min(limit, 3)  # Acme, Bolt, Kyo: time before the cutoff; Old: archived
    assert all(row.unbilled_rate_seconds for row in got)


def test_one_query_and_nothing_without_unbilled_time(owner, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert unbilled_clients(workspace=owner.workspace) == []
    assert unbilled_by_currency([]) == []


def test_restricted_to_some_clients_it_gives_their_rows(owner, django_assert_num_queries):
    """The clients list reads its page's clients only: the same rows as the whole
    workspace's, filtered; an empty page runs no query; a stranger's client is not ours."""
    clients = _fill(owner)
    workspace = owner.workspace
    stranger = ProjectFactory()
    make_entry(project=stranger, user=owner.user, start=NOW, seconds=600)
    every = unbilled_clients(workspace=workspace)
    chosen = [clients[2].pk, clients[0].pk]

    assert unbilled_clients(workspace=workspace, client_ids=chosen) == [
        row for row in every if row.client_id in chosen
    ]
    assert unbilled_clients(workspace=workspace, client_ids=[stranger.client_id]) == []
    with django_assert_num_queries(0):
        assert unbilled_clients(workspace=workspace, client_ids=[]) == []
