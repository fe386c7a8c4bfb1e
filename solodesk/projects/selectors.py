from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Case, Q, QuerySet, When
from django.shortcuts import get_object_or_404

from solodesk.accounts.models import Workspace
from solodesk.projects.models import Project


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
