"""Helpers shared by the time-entry API tests."""

from __future__ import annotations

import json
from typing import Any

from solodesk.timetracking.models import Tag, TimeEntry, set_own_json_tags
from solodesk.timetracking.selectors import TimeEntryRows


def set_tags(entry: TimeEntry, tags: list[Tag]) -> None:
    """A test's setup giving `entry` these tags around the services, and the tag names its
    stored JSON holds (`TimeEntry.own_json`), as `time_entry_update` keeps both."""
    set_own_json_tags(entry, (tag.name for tag in tags))
    entry.save(update_fields=["own_json"])
    entry.tags.set(tags)


def entry_as_json(entry: TimeEntry) -> dict:
    """The API's JSON of `entry` (`TimeEntryOut`), built from the ORM, to compare a
    response's body with."""
    entry = TimeEntry.objects.select_related("project__client", "user").get(pk=entry.pk)
    return {
        "id": str(entry.public_id),
        "started_at": entry.started_at.isoformat(),
        "ended_at": entry.ended_at.isoformat(),
        "duration_seconds": entry.duration_seconds,
        "description": entry.description,
        "billable": entry.is_billable,
        "created_at": entry.created_at.isoformat(),
        "updated_at": entry.updated_at.isoformat(),
        "tags": sorted(tag.name for tag in entry.tags.all()),
        "invoiced": entry.invoiced_at is not None,
        "project_id": str(entry.project.public_id),
        "project_name": entry.project.name,
        "client_id": str(entry.project.client.public_id),
        "client_name": entry.project.client.name,
        "user_email": entry.user.email,
    }


def page_items(rows: TimeEntryRows, page: slice) -> list[dict[str, Any]]:
    """A page of the API list as parsed JSON objects (`TimeEntryRows.json_page` writes the
    bytes the endpoint sends)."""
    items: list[dict[str, Any]] = json.loads(rows.json_page(page)[0])
    return items
