from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.shortcuts import get_object_or_404

from solodesk.core.models import Heartbeat, Job

if TYPE_CHECKING:
    from solodesk.accounts.models import User, Workspace


def job_get(*, workspace: Workspace, owner: User, public_id: UUID | str) -> Job:
    """A job is visible only to the user who started it; anyone else gets a 404."""
    return get_object_or_404(Job, workspace=workspace, owner=owner, public_id=public_id)


def heartbeat_get(*, name: str) -> datetime | None:
    """When the named process last reported in, or None if it never did."""
    return Heartbeat.objects.filter(name=name).values_list("seen_at", flat=True).first()
