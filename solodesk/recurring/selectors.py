"""Reads of recurring profiles. Each takes the workspace and owns its joins and prefetches."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from solodesk.accounts.models import Workspace
from solodesk.recurring.models import (
    RecurringActivity,
    RecurringLine,
    RecurringProfile,
    RecurringRun,
)

# The detail shows this many of the latest runs and activity rows.
RUNS_SHOWN = 50
ACTIVITY_SHOWN = 50


def recurring_profile_list(*, workspace: Workspace) -> QuerySet[RecurringProfile]:
    """With the client, and how many runs succeeded and failed (one query)."""
    return (
        RecurringProfile.objects.filter(workspace=workspace)
        .select_related("client")
        .annotate(
            succeeded_count=Count("runs", filter=Q(runs__status=RecurringRun.Status.SUCCEEDED)),
            failed_count=Count("runs", filter=Q(runs__status=RecurringRun.Status.FAILED)),
        )
        .order_by("name", "pk")
    )


def recurring_profile_get(*, workspace: Workspace, public_id: UUID | str) -> RecurringProfile:
    """The profile with its lines, projects, and its latest runs (with invoices) and
    activity as `latest_runs` / `latest_activities`: five queries whatever their number."""
    queryset = (
        RecurringProfile.objects.filter(workspace=workspace)
        .select_related("client", "created_by")
        .prefetch_related(
            Prefetch("lines", queryset=RecurringLine.objects.order_by("position", "pk")),
            "projects",
        )
    )
    profile = get_object_or_404(queryset, public_id=public_id)
    profile.latest_runs = list(  # type: ignore[attr-defined]
        RecurringRun.objects.filter(profile=profile)
        .select_related("invoice")
        .order_by("-period_start", "-pk")[:RUNS_SHOWN]
    )
    profile.latest_activities = list(  # type: ignore[attr-defined]
        RecurringActivity.objects.filter(profile=profile)
        .select_related("actor", "invoice")
        .order_by("-created_at", "-pk")[:ACTIVITY_SHOWN]
    )
    return profile


def recurring_profile_target(*, workspace: Workspace, public_id: UUID | str) -> RecurringProfile:
    """The profile an action works on, in one query (the service re-reads it locked)."""
    return get_object_or_404(
        RecurringProfile.objects.select_related("client", "workspace"),
        workspace=workspace,
        public_id=public_id,
    )


def recurring_run_get(
    *, workspace: Workspace, profile: RecurringProfile, public_id: UUID | str
) -> RecurringRun:
    return get_object_or_404(
        RecurringRun, profile=profile, profile__workspace=workspace, public_id=public_id
    )
