"""The project list's figures: hours tracked, budget progress, unbilled money and the last
entry — exact values, as the budget prompts and the dashboard compute them, and a query
count that stays the same at 3 and 50 projects with data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from solodesk.invoicing.tests.factories import make_client, make_entry, make_project
from solodesk.projects import selectors

D = Decimal
pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 4, 15, 10, tzinfo=dt.UTC)
LIST_URL = reverse("projects:list")


def _at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


@pytest.fixture
def site(owner, stranger):
    """Site (the client's 100/h, 10 h and 2,000 EUR of budget): 3 h billable (one hour
    of it last year), 1 h not billable. A fixed-fee project, a project without time, and
    a stranger's project with time."""
    workspace, user = owner.workspace, owner.user
    client = make_client(workspace, name="Acme", currency="EUR", default_hourly_rate=D("100"))
    project = make_project(
        client, name="Site", hourly_rate=None, budget_hours=D("10"), budget_amount=D("2000")
    )
    make_entry(project=project, user=user, start=_at("2025-11-03"), minutes=60)
    make_entry(project=project, user=user, start=_at("2026-03-10"), minutes=120)
    make_entry(
        project=project, user=user, start=_at("2026-03-12", 23), minutes=60, is_billable=False
    )
    fixed = make_project(client, name="Audit", billing_method="fixed", fixed_fee=D("900"))
    make_entry(project=fixed, user=user, start=_at("2026-02-01"), minutes=45)
    make_project(client, name="Idle", budget_hours=D("5"))
    theirs = make_project(make_client(stranger.workspace, name="Theirs"), name="Their site")
    make_entry(project=theirs, user=stranger.user, start=_at("2026-04-01"), minutes=300)
    return project


@time_machine.travel(NOW, tick=False)
def test_the_figures_of_each_project_are_exact(owner, site):
    projects = selectors.project_list_figures(
        workspace=owner.workspace, projects=selectors.project_list(workspace=owner.workspace)
    )

    figures = {project.name: project.figures for project in projects}
    site_figures = figures["Site"]
    assert (site_figures.tracked_seconds, site_figures.billable_seconds) == (4 * 3600, 3 * 3600)
    assert site_figures.tracked_hours == D("4.0")
    # Hours: 4 of 10 (40 %); money: 3 billable hours × 100 = 300 of 2,000 (15 %): the
    # higher, as the budget prompts judge it.
    assert site_figures.budget_hours_used == D("4.0")
    assert site_figures.budget_amount_used == D("300.00")
    assert (site_figures.budget_percent, site_figures.budget_bar_percent) == (40, 40)
    assert (site_figures.unbilled.currency, site_figures.unbilled.amount) == ("EUR", D("300.00"))
    assert site_figures.unpriced_hours is None
    assert site_figures.last_entry_on == dt.date(2026, 3, 13)  # Brussels time
    assert figures["Audit"].unbilled.amount == D("0")
    assert figures["Audit"].unpriced_hours == D("0.8")  # 45 minutes of fixed-fee time
    assert figures["Audit"].budget is None
    assert figures["Idle"].tracked_seconds == 0
    assert (figures["Idle"].budget_percent, figures["Idle"].unbilled) == (0, None)
    assert figures["Idle"].last_entry_on is None


@time_machine.travel(NOW, tick=False)
def test_a_project_over_budget_fills_the_bar_and_says_how_far(owner):
    client = make_client(owner.workspace, default_hourly_rate=D("50"))
    project = make_project(client, name="Over", budget_hours=D("2"))
    make_entry(project=project, user=owner.user, start=_at("2026-04-01"), minutes=300)

    [listed] = selectors.project_list_figures(
        workspace=owner.workspace, projects=selectors.project_list(workspace=owner.workspace)
    )

    assert (listed.figures.budget_percent, listed.figures.budget_bar_percent) == (250, 100)


@time_machine.travel(NOW, tick=False)
def test_the_page_shows_the_figures_and_not_the_strangers(owner, site):
    response = owner.client.get(LIST_URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="hours">4.0 h<' in html
    assert "4.0 of 10.00 h" in html
    assert "300.00 of 2000.00 EUR" in html
    assert 'aria-valuenow="40"' in html and 'style="width: 40%"' in html
    assert "300.00 EUR" in html
    assert "+ 0.8 h unpriced" in html
    assert 'data-testid="last-entry">2026-03-13<' in html
    assert "Their site" not in html


def test_unbilled_projects_restricted_are_the_unrestricted_rows_of_those_projects(
    owner, stranger, site
):
    """The lists read the dashboard's one query restricted to their page (project ids, or
    the projects of client ids): the same rows, and none of another workspace's."""
    from solodesk.prompts.rules.families import unbilled_projects

    workspace = owner.workspace
    every = unbilled_projects(workspace=workspace)
    assert {row.project_id for row in every} == {
        site.pk,
        site.client.projects.get(name="Audit").pk,
    }
    theirs = unbilled_projects(workspace=stranger.workspace)
    assert len(theirs) == 1

    assert unbilled_projects(workspace=workspace, project_ids=[site.pk]) == [
        row for row in every if row.project_id == site.pk
    ]
    assert unbilled_projects(workspace=workspace, client_ids=[site.client_id]) == every
    # A stranger's project or client is not read through another workspace.
    assert unbilled_projects(workspace=workspace, project_ids=[theirs[0].project_id]) == []
    assert unbilled_projects(workspace=workspace, client_ids=[theirs[0].client_id]) == []
    assert unbilled_projects(workspace=workspace, project_ids=[]) == []
    assert unbilled_projects(workspace=workspace, client_ids=[]) == []
