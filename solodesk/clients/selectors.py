from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Case, Count, Q, QuerySet, When
from django.shortcuts import get_object_or_404

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client


def client_list(
    *, workspace: Workspace, include_archived: bool = False, search: str = ""
) -> QuerySet[Client]:
    """Clients with their number of active projects, in one query."""
    qs = Client.objects.filter(workspace=workspace).annotate(
        active_project_count=Count("projects", filter=Q(projects__is_archived=False))
    )
    if not include_archived:
        qs = qs.filter(is_archived=False)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(email__icontains=search))
    return qs.order_by("name", "pk")


def client_get(*, workspace: Workspace, public_id: UUID | str) -> Client:
    """Another workspace's client is a 404, exactly like one that does not exist."""
    return get_object_or_404(Client, workspace=workspace, public_id=public_id)


def client_choices_including(
    *, workspace: Workspace, public_id: UUID | str | None = None
) -> QuerySet[Client]:
    """The active clients, plus one that may be archived (the client a project already has,
    or the one a list is filtered by), so a form or a filter can still show it."""
    condition = Q(is_archived=False)
    order: list[Any] = ["name", "pk"]
    if public_id:
        condition |= Q(public_id=public_id)
        # First, so that a bounded menu (core.choices) always shows the current value.
        order.insert(0, Case(When(public_id=public_id, then=0), default=1))
    return Client.objects.filter(condition, workspace=workspace).order_by(*order)
