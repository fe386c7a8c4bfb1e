from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import connection
from django.shortcuts import get_object_or_404

from solodesk.core.models import Heartbeat, Job
from solodesk.core.rawsql import datetime_value

if TYPE_CHECKING:
    from solodesk.accounts.models import User, Workspace


def job_get(*, workspace: Workspace, owner: User, public_id: UUID | str) -> Job:
    """A job is visible only to the user who started it; anyone else gets a 404."""
    return get_object_or_404(Job, workspace=workspace, owner=owner, public_id=public_id)


def heartbeat_get(*, name: str) -> datetime | None:
    """When the named process last reported in, or None if it never did. A plain query on
    the unique name (the dashboard reads it on every view for owners; the ORM's query
    building cost more than the database did)."""
    with connection.cursor() as cursor:
        cursor.execute(_HEARTBEAT_SQL, [name])
        row = cursor.fetchone()
    return datetime_value(row[0]) if row else None


_HEARTBEAT_SQL = f"SELECT seen_at FROM {Heartbeat._meta.db_table} WHERE name = %s"  # noqa: S608
