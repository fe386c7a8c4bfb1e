from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Case, Q, QuerySet, When
from django.shortcuts import get_object_or_404

from solodesk.accounts.models import Workspace
from solodesk.core.money import quantize
from solodesk.core.rawsql import datetime_value
from solodesk.dashboard.selectors import UnbilledAmount, dashboard_unbilled
from solodesk.projects.models import Project
from solodesk.prompts.rules.families import BudgetRow, unbilled_projects
from solodesk.timetracking.models import TimeEntry, TimeEntryMonth


def project_list(
    *,
    workspace: Workspace,
    include_archived: bool = False,
    client_public_id: UUID | str | None = None,
    search: str = "",
) -> QuerySet[Project]:
    qs = Project.objects.filter(workspace=workspace).select_related("client")
    if not include_archived:
        qs = qs.filter(is_archived=False)
    if client_public_id:
        qs = qs.filter(client__public_id=client_public_id)
    if search:
        qs = qs.filter(name__icontains=search)
    return qs.order_by("client__name", "name", "pk")


def project_get(*, workspace: Workspace, public_id: UUID | str) -> Project:
    return get_object_or_404(
        Project.objects.select_related("client"), workspace=workspace, public_id=public_id
    )


def project_choices(*, workspace: Workspace) -> QuerySet[Project]:
    return (
        Project.objects.filter(workspace=workspace, is_archived=False, client__is_archived=False)
        .select_related("client")
        .order_by("client__name", "name", "pk")
    )


def project_choices_including(
    *, workspace: Workspace, public_id: UUID | str | None = None
) -> QuerySet[Project]:
    """The projects time can be booked on, plus one that may be archived (the project an
    entry already has), so editing an old entry does not force a new project on it."""
    condition = Q(is_archived=False, client__is_archived=False)
    order: list[Any] = ["client__name", "name", "pk"]
    if public_id:
        condition |= Q(public_id=public_id)
        # First, so that a bounded menu (core.choices) always shows the current value.
        order.insert(0, Case(When(public_id=public_id, then=0), default=1))
    return (
        Project.objects.filter(condition, workspace=workspace)
        .select_related("client")
        .order_by(*order)
    )


# --- the list's figures -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectFigures:
    """What a row of the project list shows besides the project's own fields."""

    tracked_seconds: int
    billable_seconds: int
    last_entry_on: dt.date | None
    budget: BudgetRow | None
    unbilled: UnbilledAmount | None

    @property
    def unpriced_hours(self) -> Decimal | None:
        return unpriced_hours(self.unbilled)

    @property
    def tracked_hours(self) -> Decimal:
        return hours_tenths(self.tracked_seconds)

    @property
    def budget_percent(self) -> int | None:
        """The budget used (the higher of hours and amount, as the budget prompts judge
        it), in whole percent; None without a budget."""
        if self.budget is None:
            return None
        return int((self.budget.ratio * 100).to_integral_value(rounding=ROUND_HALF_UP))

    @property
    def budget_bar_percent(self) -> int | None:
        percent = self.budget_percent
        return None if percent is None else min(percent, 100)

    @property
    def budget_hours_used(self) -> Decimal | None:
        if self.budget is None or not self.budget.budget_hours:
            return None
        return hours_tenths(self.tracked_seconds)

    @property
    def budget_amount_used(self) -> Decimal | None:
        if self.budget is None or not self.budget.budget_amount:
            return None
        used = self.budget.amount_used
        return None if used is None else quantize(used, self.budget.currency)


def hours_tenths(seconds: int) -> Decimal:
    """Seconds as hours to the tenth, as the client and project lists show them."""
    return (Decimal(seconds) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def unpriced_hours(unbilled: UnbilledAmount | None) -> Decimal | None:
    """Unbilled time with no price yet (fixed-fee projects, hourly ones without a rate),
    in hours to the tenth; None when there is none."""
    if unbilled is None or not unbilled.unpriced_seconds:
        return None
    return hours_tenths(unbilled.unpriced_seconds)


def local_date(moment: dt.datetime | None, workspace: Workspace) -> dt.date | None:
    return None if moment is None else moment.astimezone(workspace.tzinfo).date()


@functools.lru_cache(maxsize=128)
def _project_totals_sql(count: int) -> str:
    """Per project of the page: its hours tracked and billable, summed from its monthly
    totals (timetracking.TimeEntryMonth, decision 0005: a few dozen rows per project,
    however many entries it has), and the start of its latest entry (one backward probe
    of entry_project_start_idx (project, started_at)). Written by hand (portable SQL):
    the ORM spent more CPU building and compiling it than the database answering it."""
    project = Project._meta.db_table
    month = TimeEntryMonth._meta.db_table
    entry = TimeEntry._meta.db_table
    return (
        f"SELECT p.id,"  # noqa: S608
        f" (SELECT SUM(m.seconds) FROM {month} m WHERE m.project_id = p.id),"
        f" (SELECT SUM(m.billable_seconds) FROM {month} m WHERE m.project_id = p.id),"
        f" (SELECT e.started_at FROM {entry} e WHERE e.project_id = p.id"
        f" ORDER BY e.started_at DESC LIMIT 1)"
        f" FROM {project} p WHERE p.workspace_id = %s AND p.id IN ({', '.join(['%s'] * count)})"
    )


def project_unbilled_amounts(
    *, workspace: Workspace, project_ids: Collection[int]
) -> dict[int, UnbilledAmount]:
    """Per project (of `project_ids`) with unbilled billable time: that time priced as the
    dashboard prices it (`dashboard.selectors.dashboard_unbilled`: the project's rounding
    rule and effective rate; fixed-fee and rate-less time unpriced), from the dashboard's
    own per-project sums (`prompts.rules.families.unbilled_projects`, restricted to these
    projects). ONE query."""
    return {
        row.project_id: dashboard_unbilled(workspace=workspace, projects=[row])[0]
        for row in unbilled_projects(workspace=workspace, project_ids=project_ids)
    }


def project_list_figures(*, workspace: Workspace, projects: Iterable[Project]) -> list[Project]:
    """Sets `figures` (ProjectFigures) on each project of a list page (their clients
    loaded, as `project_list` does), in TWO queries whatever the page or the data, both
    written by hand:

    1. the page's projects again, each with its hours tracked and billable (summed from
       the monthly totals) and its latest entry (one index probe);
    2. their unbilled time (`project_unbilled_amounts`), priced as the dashboard prices it.

    Budget progress is the budget prompts' `BudgetRow` (hours tracked against budget
    hours, billable time at the effective rate against a budget amount)."""
    projects = list(projects)
    if not projects:
        return projects
    ids = sorted(project.pk for project in projects)
    with connection.cursor() as cursor:
        cursor.execute(_project_totals_sql(len(ids)), [workspace.pk, *ids])
        totals = {
            pk: (
                int(tracked or 0),
                int(billable or 0),
                None if last is None else datetime_value(last),
            )
            for pk, tracked, billable, last in cursor.fetchall()
        }
    unbilled = project_unbilled_amounts(workspace=workspace, project_ids=ids)
    for project in projects:
        tracked, billable, last = totals.get(project.pk, (0, 0, None))
        budget = None
        if project.budget_hours or project.budget_amount:
            budget = BudgetRow(
                public_id=project.public_id,
                name=project.name,
                client_name=project.client.name,
                currency=project.client.currency,
                budget_hours=project.budget_hours,
                budget_amount=project.budget_amount,
                tracked_seconds=tracked,
                billable_seconds=billable,
                rate=project.effective_hourly_rate,
            )
        project.figures = ProjectFigures(  # type: ignore[attr-defined]
            tracked_seconds=tracked,
            billable_seconds=billable,
            last_entry_on=local_date(last, workspace),
            budget=budget,
            unbilled=unbilled.get(project.pk),
        )
    return projects
