"""The new entry's INSERT written once per process (`services._entry_insert`, run through
`core.prepared.statement_cursor` by every create and timer stop) must store the row and
leave the instance as `TimeEntry.objects.create` does."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from solodesk.tests.factories import ProjectFactory
from solodesk.timetracking import services
from solodesk.timetracking.models import TimeEntry, entry_own_json

START = dt.datetime(2026, 3, 9, 9, 30, 15, 123456, tzinfo=dt.UTC)
# Different for each row (own_json holds the public id and the times: checked apart).
IDENTITY = {"id", "public_id", "created_at", "updated_at", "own_json"}


def _fields(entry: TimeEntry) -> dict:
    return {field.attname: getattr(entry, field.attname) for field in entry._meta.concrete_fields}


def test_the_row_and_the_instance_are_the_orms(owner):
    project = ProjectFactory(client__workspace=owner.workspace)
    values = {
        "workspace": owner.workspace,
        "user": owner.user,
        "project": project,
        "started_at": START,
        "ended_at": START + dt.timedelta(hours=1, seconds=5),
        "duration_seconds": 3605,
        "description": "Ünïcode, 'quotes' and a literal %s",
        "is_billable": False,
    }
    before = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        ours = services._entry_insert(TimeEntry(**values))
    orms = TimeEntry.objects.create(**values)

    assert len(queries.captured_queries) == 1
    # Each instance is its stored row, field by field (times and the public id as read back).
    for entry in (ours, orms):
        assert _fields(TimeEntry.objects.get(pk=entry.pk)) == _fields(entry)
        assert (entry._state.adding, entry._state.db) == (False, "default")
        assert entry.own_json == entry_own_json(entry, [])
    mine = {name: value for name, value in _fields(ours).items() if name not in IDENTITY}
    theirs = {name: value for name, value in _fields(orms).items() if name not in IDENTITY}
    assert mine == theirs
    assert ours.pk != orms.pk and ours.public_id != orms.public_id
    assert before <= ours.created_at <= ours.updated_at <= orms.created_at
    # The related objects given stay loaded, as the ORM's: the API's response reads them.
    assert ours.project is project and ours.user is owner.user


def test_a_create_stores_what_it_returns(owner):
    project = ProjectFactory(client__workspace=owner.workspace)
    entry = services.time_entry_create(
        workspace=owner.workspace,
        user=owner.user,
        project=project,
        started_at=START,
        ended_at=START + dt.timedelta(minutes=45),
        description="  Design review  ",
    )
    stored = TimeEntry.objects.get(public_id=entry.public_id)
    assert _fields(stored) == _fields(entry)
    assert (stored.description, stored.duration_seconds, stored.is_billable) == (
        "Design review",
        2700,
        project.is_billable,
    )
