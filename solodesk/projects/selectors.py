from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.core.money import quantize
from solodesk.dashboard.selectors import UnbilledAmount, dashboard_unbilled
from solodesk.invoicing.services import unbilled_entries
from solodesk.projects.models import Project
from solodesk.prompts.rules.families import BudgetRow, UnbilledProject
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
        """Unbilled time with no price yet (fixed-fee projects, hourly ones without a
        rate), in hours; None when there is none."""
        if self.unbilled is None or not self.unbilled.unpriced_seconds:
            return None
        return _hours(self.unbilled.unpriced_seconds)

    @property
    def tracked_hours(self) -> Decimal:
        return _hours(self.tracked_seconds)

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
        return _hours(self.tracked_seconds)

    @property
    def budget_amount_used(self) -> Decimal | None:
        if self.budget is None or not self.budget.budget_amount:
            return None
        used = self.budget.amount_used
        return None if used is None else quantize(used, self.budget.currency)


def _hours(seconds: int) -> Decimal:
    return (Decimal(seconds) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def local_date(moment: dt.datetime | None, workspace: Workspace) -> dt.date | None:
    return None if moment is None else moment.astimezone(workspace.tzinfo).date()


def last_entry_of_project() -> Subquery:
    """The start of the project's latest entry: one backward probe of
    entry_project_start_idx (project, started_at) per project."""
    return Subquery(
        TimeEntry.objects.filter(project=OuterRef("pk"))
        .order_by("-started_at")
        .values("started_at")[:1]
    )


def _month_sum(field_name: str) -> Subquery:
    """The project's monthly totals (timetracking.TimeEntryMonth, decision 0005) summed:
    a few dozen rows per project, however many entries it has."""
    return Subquery(
        TimeEntryMonth.objects.filter(project=OuterRef("pk"))
        .values("project")
        .annotate(total=Sum(field_name))
        .values("total"),
        output_field=BigIntegerField(),
    )


@dataclass(frozen=True)
class UnbilledSums:
    """A project's unbilled billable time, and the project's fields that price it."""

    client_id: int
    billing_method: str
    hourly_rate: Decimal | None
    time_rounding_mode: str
    time_rounding_minutes: int | None
    time_rounding_scope: str
    entries: int
    seconds: int
    up_seconds: int
    nearest_seconds: int
    first_at: dt.datetime


def project_unbilled_sums(
    *, workspace: Workspace, projects: QuerySet[Project] | Sequence[int]
) -> dict[int, UnbilledSums]:
    """ONE query: per project (a queryset of projects, used as a subquery, or their pks)
    with unbilled billable time, that time counted and summed — raw, and rounded per entry
    at the project's step (its rounding minutes, else the workspace's): the sums
    `prompts.rules.families.unbilled_projects` computes for the dashboard — with the
    project's own fields that price it. The entries are
    `invoicing.services.unbilled_entries` (its one definition of "unbilled"), probed per
    project in the partial index `entry_unbilled_idx` (workspace, project), an index-only
    scan, and hashed per project (grouping by the project's and client's columns sorted
    ~3,400 wide rows at the `large` seed: 19 ms)."""
    ids: Any = projects.values("pk") if isinstance(projects, QuerySet) else list(projects)
    step = ExpressionWrapper(
        Coalesce(F("project__time_rounding_minutes"), Value(workspace.time_rounding_minutes))
        * Value(60),
        output_field=IntegerField(),
    )
    seconds = F("duration_seconds")
    rows = (
        unbilled_entries(workspace=workspace)
        .filter(project_id__in=ids)
        # The project's text fields are grouped by (hashed: one value per project), its
        # numbers read as MAX() of their one value (a MAX() of text compares by collation:
        # 3x slower at the `large` seed).
        .values(
            "project_id",
            "project__billing_method",
            "project__time_rounding_mode",
            "project__time_rounding_scope",
        )
        .annotate(
            client=Max("project__client_id"),
            rate=Max("project__hourly_rate"),
            minutes=Max("project__time_rounding_minutes"),
            entries=Count("*"),
            seconds=Sum(seconds),
            up=Sum((seconds + step - Value(1)) / step * step, output_field=BigIntegerField()),
            nearest=Sum((seconds + step / Value(2)) / step * step, output_field=BigIntegerField()),
            first_at=Min("started_at"),
        )
        .order_by()
        .values_list(
            "project_id",
            "client",
            "project__billing_method",
            "rate",
            "project__time_rounding_mode",
            "minutes",
            "project__time_rounding_scope",
            "entries",
            "seconds",
            "up",
            "nearest",
            "first_at",
        )
    )
    return {
        project_id: UnbilledSums(
            client_id=client_id,
            billing_method=method,
            hourly_rate=rate,
            time_rounding_mode=mode,
            time_rounding_minutes=minutes,
            time_rounding_scope=scope,
            entries=entries,
            seconds=total or 0,
            up_seconds=up or 0,
            nearest_seconds=nearest or 0,
            first_at=first_at,
        )
        for (
            project_id,
            client_id,
            method,
            rate,
            mode,
            minutes,
            scope,
            entries,
            total,
            up,
            nearest,
            first_at,
        ) in rows
    }


def project_unbilled_price(
    *, workspace: Workspace, client: Client, sums: UnbilledSums
) -> UnbilledAmount:
    """A project's unbilled time priced by `dashboard.selectors.dashboard_unbilled`,
    exactly as the dashboard prices it: the project's rounding rule and effective rate
    (its own, else its client's); fixed-fee and rate-less time unpriced."""
    row = UnbilledProject(
        billing_method=sums.billing_method,
        hourly_rate=sums.hourly_rate,
        time_rounding_mode=sums.time_rounding_mode,
        time_rounding_minutes=sums.time_rounding_minutes,
        time_rounding_scope=sums.time_rounding_scope,
        client_public_id=client.public_id,
        client_name=client.name,
        client_email=client.email,
        client_terms=client.payment_terms_days,
        client_currency=client.currency,
        client_rate=client.default_hourly_rate,
        client_archived=client.is_archived,
        entries=sums.entries,
        seconds=sums.seconds,
        up_seconds=sums.up_seconds,
        nearest_seconds=sums.nearest_seconds,
        first_at=sums.first_at,
    )
    return dashboard_unbilled(workspace=workspace, projects=[row])[0]


def project_list_figures(*, workspace: Workspace, projects: Iterable[Project]) -> list[Project]:
    """Sets `figures` (ProjectFigures) on each project of a list page (their clients
    loaded, as `project_list` does), in TWO queries whatever the page or the data:

    1. the page's projects again, each with its hours tracked and billable (summed from
       the monthly totals) and its latest entry (one index probe);
    2. their unbilled time (`project_unbilled_sums`), priced as the dashboard prices it
       (`project_unbilled_price`).

    Budget progress is the budget prompts' `BudgetRow` (hours tracked against budget
    hours, billable time at the effective rate against a budget amount)."""
    projects = list(projects)
    if not projects:
        return projects
    totals = {
        pk: (tracked or 0, billable or 0, last)
        for pk, tracked, billable, last in Project.objects.filter(
            pk__in=[project.pk for project in projects]
        )
        .annotate(
            tracked=_month_sum("seconds"),
            billable=_month_sum("billable_seconds"),
            last_entry_at=last_entry_of_project(),
        )
        .values_list("pk", "tracked", "billable", "last_entry_at")
    }
    by_id = {project.pk: project for project in projects}
    unbilled = {
        project_id: project_unbilled_price(
            workspace=workspace, client=by_id[project_id].client, sums=sums
        )
        for project_id, sums in project_unbilled_sums(
            workspace=workspace, projects=list(by_id)
        ).items()
    }
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
