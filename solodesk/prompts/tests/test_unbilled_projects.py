"""`unbilled_projects`, the one definition of a project's unbilled sums: every field of every
row equals what Python computes from the entries (RoundingRule at the project's effective
step), whichever step a project has, in the order of the projects' ids."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from solodesk.accounts.models import TimeRounding
from solodesk.invoicing.services import RoundingRule
from solodesk.invoicing.tests.factories import make_client, make_entry, make_project
from solodesk.projects.models import Project
from solodesk.prompts.rules.families import UnbilledProject, unbilled_projects
from solodesk.tests.factories import ProjectFactory
from solodesk.timetracking.models import TimeEntry

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
# Around each step's edges: 1 s, 29 s, 30 s, 59 s, 1 min, 3 min, 7 min 30 s, 15 min + 1 s …
DURATIONS = [1, 29, 30, 59, 60, 61, 179, 180, 181, 450, 901, 1799, 1800, 5399, 86_400]


def _expected(project: Project, workspace) -> UnbilledProject:
    entries = list(
        TimeEntry.objects.filter(
            project=project, is_billable=True, invoice_line=None, invoiced_at=None
        )
    )
    minutes = project.time_rounding_minutes or workspace.time_rounding_minutes
    up = RoundingRule(mode=TimeRounding.UP, minutes=minutes, scope=TimeRounding.PER_ENTRY)
    nearest = RoundingRule(mode=TimeRounding.NEAREST, minutes=minutes, scope=TimeRounding.PER_ENTRY)
    durations = [e.duration_seconds for e in entries]
    client = project.client
    return UnbilledProject(
        project_id=project.pk,
        client_id=client.pk,
        billing_method=project.billing_method,
        hourly_rate=project.hourly_rate,
        time_rounding_mode=project.time_rounding_mode,
        time_rounding_minutes=project.time_rounding_minutes,
        time_rounding_scope=project.time_rounding_scope,
        client_public_id=client.public_id,
        client_name=client.name,
        client_email=client.email,
        client_terms=client.payment_terms_days,
        client_currency=client.currency,
        client_rate=client.default_hourly_rate,
        client_archived=client.is_archived,
        entries=len(durations),
        seconds=sum(durations),
        up_seconds=up.billed_seconds(durations),
        nearest_seconds=nearest.billed_seconds(durations),
        first_at=min(e.started_at for e in entries),
    )


@pytest.mark.parametrize("workspace_minutes", [1, 6, 15])
def test_each_projects_sums_are_its_entries_rounded_at_its_own_step(owner, workspace_minutes):
    workspace = owner.workspace
    workspace.time_rounding_minutes = workspace_minutes
    workspace.time_rounding_mode = TimeRounding.NONE  # the sums do not depend on the mode
    workspace.save()
    acme = make_client(workspace, name="Acme", default_hourly_rate=Decimal("80.00"))
    archived = make_client(workspace, name="Old", is_archived=True, currency="GBP")
    projects = [
        make_project(acme, hourly_rate=Decimal("95.50")),  # the workspace's step
        make_project(acme, hourly_rate=None, time_rounding_minutes=15),
        make_project(acme, time_rounding_minutes=6, time_rounding_mode=TimeRounding.UP),
        make_project(acme, time_rounding_minutes=1, time_rounding_scope=TimeRounding.PER_LINE),
        make_project(acme, time_rounding_minutes=30, billing_method="fixed"),
        make_project(archived, time_rounding_minutes=workspace_minutes),  # its own = the same
    ]
    non_billable = make_project(acme, billing_method="non_billable", time_rounding_minutes=15)
    make_project(acme, time_rounding_minutes=6)  # no entries: no row
    for index, project in enumerate([*projects, non_billable]):
        for offset, seconds in enumerate(DURATIONS[index:] + DURATIONS[: index * 2]):
            make_entry(
                project=project,
                user=owner.user,
                start=START + dt.timedelta(hours=offset, minutes=index),
                seconds=seconds,
            )
        # Not unbilled billable time: not counted.
        make_entry(project=project, user=owner.user, start=START, seconds=3599, is_billable=False)
        make_entry(project=project, user=owner.user, start=START, seconds=3599, invoiced_at=START)
    # The oldest start to the microsecond.
    make_entry(
        project=projects[0], user=owner.user, start=START - dt.timedelta(microseconds=1), seconds=7
    )
    # A stranger's time is not ours.
    make_entry(project=ProjectFactory(), user=owner.user, start=START, seconds=60)

    expected = [_expected(project, workspace) for project in sorted(projects, key=lambda p: p.pk)]

    assert unbilled_projects(workspace=workspace) == expected
    chosen = [projects[1].pk, projects[2].pk, non_billable.pk]
    assert unbilled_projects(workspace=workspace, project_ids=chosen) == [
        row for row in expected if row.project_id in chosen
    ]
    assert unbilled_projects(workspace=workspace, client_ids=[archived.pk]) == [
        row for row in expected if row.client_id == archived.pk
    ]
    assert unbilled_projects(workspace=workspace, project_ids=[]) == []


@pytest.mark.parametrize("row_limit", [1, 2, 4, 5])
def test_the_clients_family_from_these_rows_keeps_its_querys_order_and_limit(
    owner, monkeypatch, row_limit
):
    """The `clients` family built from the dashboard's rows cuts at 2 × ROW_LIMIT after
    ordering by the oldest unbilled start, then the name (ties included), as its own
    UNION ALL does."""
    from solodesk.prompts.registry import Context
    from solodesk.prompts.rules import families
    from solodesk.prompts.rules.families import UNBILLED_CLIENTS, client_rows, unbilled_clients

    monkeypatch.setattr(families, "ROW_LIMIT", row_limit)
    ws = owner.workspace
    now = dt.datetime(2026, 3, 30, 12, 0, tzinfo=dt.UTC)
    for name, days_ago in [("Delta", 20), ("Alpha", 30), ("Charlie", 20), ("Bravo", 40)]:
        client = make_client(ws, name=name, email=f"{name.lower()}@example.com")
        for project in (make_project(client), make_project(client, billing_method="fixed")):
            make_entry(
                project=project,
                user=owner.user,
                start=now - dt.timedelta(days=days_ago),
                seconds=1800,
            )
    make_client(ws, name="Echo", email="")  # missing details, no time
    recent = make_client(ws, name="Foxtrot", email="f@example.com")
    make_entry(project=make_project(recent), user=owner.user, start=now, seconds=60)

    own = client_rows(Context(workspace=ws, user=owner.user, now=now))
    ctx = Context(workspace=ws, user=owner.user, now=now)
    ctx.results[UNBILLED_CLIENTS] = unbilled_clients(workspace=ws)

    assert client_rows(ctx) == own
    # Charlie and Delta since the same moment: by name. Echo: missing details only.
    expected = ["Bravo", "Alpha", "Charlie", "Delta", "Echo"][:row_limit]
    assert [row.name for row in own] == expected
