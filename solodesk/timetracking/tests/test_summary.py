"""The entry list's summary (count, total and billable seconds) read from the derived daily
or monthly totals equals the aggregate over the raw entries, for every kind of filter —
around a local month's end in a zone far from UTC, with two users and two clients."""

import datetime as dt
import random

import pytest
from django.db.models import Count, Q, Sum

from solodesk.tests.factories import (
    ClientFactory,
    MembershipFactory,
    ProjectFactory,
    WorkspaceFactory,
)
from solodesk.timetracking import selectors
from solodesk.timetracking.selectors import TimeEntryFilters, time_entry_summary
from solodesk.timetracking.services import time_entry_create


@pytest.fixture
def data(db):
    workspace = WorkspaceFactory(time_zone="Pacific/Auckland")
    users = [MembershipFactory(workspace=workspace).user for _ in range(2)]
    clients = [ClientFactory(workspace=workspace) for _ in range(2)]
    projects = [ProjectFactory(workspace=workspace, client=client) for client in clients * 2]
    rng = random.Random(4)
    start = dt.datetime(2026, 1, 25, tzinfo=dt.UTC)
    for _ in range(80):
        started_at = start + dt.timedelta(minutes=rng.randrange(0, 20 * 24 * 60))
        time_entry_create(
            workspace=workspace,
            user=rng.choice(users),
            project=rng.choice(projects),
            started_at=started_at,
            ended_at=started_at + dt.timedelta(minutes=rng.randrange(5, 300)),
            is_billable=rng.random() < 0.7,
        )
    return workspace, clients, projects


def raw_summary(workspace, filters):
    totals = selectors._filtered(workspace, filters).aggregate(
        count=Count("pk"),
        total=Sum("duration_seconds"),
        billable=Sum("duration_seconds", filter=Q(is_billable=True)),
    )
    return {key: value or 0 for key, value in totals.items()}


FEBRUARY = {"date_from": dt.date(2026, 2, 1), "date_to": dt.date(2026, 2, 28)}


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"date_from": dt.date(2026, 2, 1)},
        {"date_to": dt.date(2026, 1, 31)},
        {"date_from": dt.date(2026, 1, 31), "date_to": dt.date(2026, 2, 3)},
        FEBRUARY,
        {"client": 0},
        {"project": 1},
        {"client": 1, **FEBRUARY},
        {"project": 0, "date_from": dt.date(2026, 2, 1)},
        {"project": 0, "date_from": dt.date(2026, 2, 2)},  # part month: raw entries
        {"billable": True},
        {"billable": False, "client": 0},
        {"unbilled": True},
    ],
)
def test_summary_equals_the_raw_aggregate_for_every_filter(data, filters):
    workspace, clients, projects = data
    fields = dict(filters)
    if "client" in fields:
        fields["client_id"] = clients[fields.pop("client")].public_id
    if "project" in fields:
        fields["project_id"] = projects[fields.pop("project")].public_id
    filters = TimeEntryFilters(**fields)

    summary = time_entry_summary(workspace=workspace, filters=filters)

    assert summary == raw_summary(workspace, filters)
    assert summary["count"] > 0


def test_summary_of_the_whole_workspace_reads_the_daily_totals_not_the_entries(
    data, django_assert_num_queries
):
    workspace, _, _ = data

    with django_assert_num_queries(1) as captured:
        time_entry_summary(workspace=workspace, filters=TimeEntryFilters())

    assert "timetracking_timeentryday" in captured.captured_queries[0]["sql"]
