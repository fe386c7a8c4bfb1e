"""Deleting entries in the admin keeps the daily totals equal to the entries, with one
upsert per workspace (not one per entry)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from solodesk.tests.factories import ProjectFactory, TimeEntryFactory
from solodesk.timetracking.admin import TimeEntryAdmin
from solodesk.timetracking.models import TimeEntry
from solodesk.timetracking.services import time_entry_days_rebuild
from solodesk.timetracking.tests.test_entry_days import BASE, expected_days, stored_days


def _entries(persona, count: int) -> None:
    project = ProjectFactory(client__workspace=persona.workspace)
    for n in range(count):
        started = BASE + dt.timedelta(hours=5 * n)
        TimeEntryFactory(
            project=project,
            user=persona.user,
            started_at=started,
            ended_at=started + dt.timedelta(hours=1),
        )


@pytest.mark.parametrize("count", [2, 12])
def test_admin_bulk_delete_keeps_totals_with_one_upsert_per_workspace(owner, stranger, count):
    _entries(owner, count)
    _entries(stranger, count)
    model_admin = TimeEntryAdmin(TimeEntry, admin.site)
    doomed = TimeEntry.objects.exclude(started_at=BASE)  # all but the first of each
    with CaptureQueriesContext(connection) as queries:
        model_admin.delete_queryset(None, doomed)
    upserts = [q["sql"].count("ON CONFLICT") for q in queries.captured_queries]
    # Four per workspace (the daily and the monthly totals, decision 0005, the workspace's
    # monthly ones, decision 0012, and the unbilled time, decision 0008), whatever the
    # number of entries. (The first entry of each, the oldest, stays: no recompute of the
    # oldest start.) On PostgreSQL the daily and both monthly ones are one statement
    # (services._upserts_run), the unbilled one, which took entries off, a second.
    assert sum(upserts) == 8
    assert sum(1 for count in upserts if count) == (4 if connection.vendor == "postgresql" else 8)
    for persona in (owner, stranger):
        assert stored_days(persona.workspace) == expected_days(persona.workspace)
        assert TimeEntry.objects.filter(workspace=persona.workspace).count() == 1


def test_admin_delete_takes_off_the_entry_as_it_is_not_as_the_page_loaded_it(owner):
    _entries(owner, 1)
    loaded = TimeEntry.objects.get()  # the admin's delete page reads the entry
    # Then another request makes it three hours long (here around the services, and the
    # totals rebuilt to match).
    TimeEntry.objects.filter(pk=loaded.pk).update(
        ended_at=BASE + dt.timedelta(hours=3), duration_seconds=3 * 3600
    )
    time_entry_days_rebuild(workspace=owner.workspace)  # the totals of the edited entry

    TimeEntryAdmin(TimeEntry, admin.site).delete_model(None, loaded)

    assert not TimeEntry.objects.exists()
    assert stored_days(owner.workspace) == {}
