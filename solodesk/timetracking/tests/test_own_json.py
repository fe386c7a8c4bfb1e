"""`TimeEntry.own_json`: the entry's own fields as the API writes them, stored with the row
(`OwnJsonField`) for the API list. Whatever writes an entry (the services, the timer, the
factories' saves, `bulk_create`, the seed), the stored text is the JSON the database builds
from the row's columns (`own_json_expression`, what `time_entries_own_json_rebuild` and the
migration write): the same keys in the same order, the same values. On SQLite and
PostgreSQL."""

import datetime as dt
import json

import pytest

from solodesk.seed import seed_workspace
from solodesk.tests.factories import ProjectFactory, TimeEntryFactory
from solodesk.timetracking.models import TimeEntry, entry_own_json
from solodesk.timetracking.selectors import own_json_expression
from solodesk.timetracking.services import (
    time_entries_own_json_rebuild,
    time_entry_create,
    time_entry_update,
    timer_start,
    timer_stop,
)
from solodesk.timetracking.tests.test_list_json import ODD_TEXTS, START

KEYS = [
    "id",
    "started_at",
    "ended_at",
    "duration_seconds",
    "description",
    "billable",
    "created_at",
    "updated_at",
    "tags",
]


def _create(owner, project, *, day=0, **fields):
    """An hour's entry through the service, `day` days after START."""
    start = START + dt.timedelta(days=day)
    return time_entry_create(
        workspace=owner.workspace,
        user=owner.user,
        project=project,
        started_at=fields.pop("started_at", start),
        ended_at=start + dt.timedelta(hours=1),
        **fields,
    )


def _stored_and_built(entries=None):
    """Each entry's stored text and the database's JSON of its columns, parsed with the
    keys in order (a list of pairs, so the order counts)."""
    rows = (entries or TimeEntry.objects.all()).annotate(built=own_json_expression())
    pairs = []
    for stored, built in rows.values_list("own_json", "built"):
        pairs.append(
            (
                json.loads(stored, object_pairs_hook=list),
                json.loads(built, object_pairs_hook=list),
            )
        )
    return pairs


def _assert_every_row_is_its_columns():
    pairs = _stored_and_built()
    assert pairs
    for stored, built in pairs:
        assert stored == built
        assert [key for key, _ in stored] == KEYS
    # The same text, byte for byte (what `solodesk recount` compares).
    texts = TimeEntry.objects.annotate(built=own_json_expression()).values_list("own_json", "built")
    assert [stored for stored, _ in texts] == [built for _, built in texts]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_a_create_stores_its_fields_whatever_the_characters(owner, text):
    project = ProjectFactory(client__workspace=owner.workspace)
    entry = _create(
        owner,
        project,
        started_at=START + dt.timedelta(microseconds=120000),
        description=text,
        is_billable=False,
        tags=["a", "b"],
    )

    _assert_every_row_is_its_columns()
    assert entry.own_json == TimeEntry.objects.get(pk=entry.pk).own_json
    assert json.loads(entry.own_json)["description"] == text.strip()
    assert json.loads(entry.own_json)["tags"] == ["a", "b"]


def test_an_update_stores_the_new_values_and_its_new_time(owner):
    project = ProjectFactory(client__workspace=owner.workspace)
    other = ProjectFactory(client__workspace=owner.workspace)
    entry = _create(owner, project, description="Before")
    before = json.loads(entry.own_json)

    time_entry_update(
        entry=entry,
        project=other,
        started_at=START + dt.timedelta(minutes=30),
        ended_at=START + dt.timedelta(hours=2, microseconds=5),
        description='After, "quoted"',
        is_billable=False,
        tags=["x"],
    )

    _assert_every_row_is_its_columns()
    after = json.loads(TimeEntry.objects.get(pk=entry.pk).own_json)
    assert after["description"] == 'After, "quoted"'
    assert (before["tags"], after["tags"]) == ([], ["x"])
    assert (after["duration_seconds"], after["billable"]) == (5400, False)
    assert after["ended_at"] == "2026-03-02T11:00:00.000005+00:00"
    assert after["updated_at"] > before["updated_at"]
    assert (after["id"], after["created_at"]) == (before["id"], before["created_at"])


def test_the_timer_factories_and_bulk_create_store_it_too(owner):
    project = ProjectFactory(client__workspace=owner.workspace)
    timer_start(workspace=owner.workspace, user=owner.user, project=project, description="Timer")
    timer_stop(user=owner.user)
    TimeEntryFactory(project=project, user=owner.user, description="Factory")
    TimeEntry.objects.bulk_create(
        [
            TimeEntry(
                workspace=owner.workspace,
                user=owner.user,
                project=project,
                started_at=START + dt.timedelta(days=day),
                ended_at=START + dt.timedelta(days=day, hours=1),
                duration_seconds=3600,
                description=f"Bulk {day}",
            )
            for day in range(3)
        ]
    )

    assert TimeEntry.objects.count() == 5
    assert TimeEntry.objects.filter(own_json="").count() == 0
    _assert_every_row_is_its_columns()


def test_the_rebuild_writes_what_a_write_around_the_orm_left_behind(owner):
    project = ProjectFactory(client__workspace=owner.workspace)
    entry = TimeEntryFactory(project=project, user=owner.user, description="Old")
    TimeEntry.objects.filter(pk=entry.pk).update(description="New")
    assert json.loads(TimeEntry.objects.get(pk=entry.pk).own_json)["description"] == "Old"

    assert time_entries_own_json_rebuild(entries=TimeEntry.objects.filter(pk=entry.pk)) == 1

    entry.refresh_from_db()
    _assert_every_row_is_its_columns()
    assert entry.own_json == entry_own_json(entry, [])  # the same text, not only the same values


def test_the_seed_writes_it_for_every_entry(db):
    seed_workspace(scale="small", email="own-json@seed.example", password="x" * 12, random_seed=3)

    assert TimeEntry.objects.count() > 1000
    _assert_every_row_is_its_columns()


def test_tags_are_stored_in_code_point_order_and_kept_by_an_update_without_tags(owner):
    project = ProjectFactory(client__workspace=owner.workspace)
    # Upper case before lower, accents after: Python's order, not a locale's.
    names = ["zürich", "Zeta", "alpha", "Éclair", "beta ✓"]
    entry = _create(owner, project, tags=names)
    time_entry_update(entry=TimeEntry.objects.get(pk=entry.pk), description="Only this")

    stored = json.loads(TimeEntry.objects.get(pk=entry.pk).own_json)
    assert stored["tags"] == sorted(names) == ["Zeta", "alpha", "beta ✓", "zürich", "Éclair"]
    assert stored["description"] == "Only this"
    _assert_every_row_is_its_columns()

    time_entry_update(entry=TimeEntry.objects.get(pk=entry.pk), tags=[])
    assert json.loads(TimeEntry.objects.get(pk=entry.pk).own_json)["tags"] == []
    _assert_every_row_is_its_columns()


def test_a_tag_renamed_or_deleted_in_the_admin_is_written_into_its_entries(owner):
    from django.contrib import admin

    from solodesk.timetracking.admin import TagAdmin
    from solodesk.timetracking.models import Tag

    project = ProjectFactory(client__workspace=owner.workspace)
    tagged = [_create(owner, project, day=day, tags=["old", "keep"]) for day in range(3)]
    tag_admin = TagAdmin(Tag, admin.site)
    tag = Tag.objects.get(name="old")

    tag.name = "new"
    tag_admin.save_model(None, tag, None, change=True)
    assert {json.dumps(json.loads(e.own_json)["tags"]) for e in TimeEntry.objects.all()} == {
        '["keep", "new"]'
    }
    _assert_every_row_is_its_columns()

    tag_admin.delete_model(None, Tag.objects.get(name="keep"))
    assert [json.loads(e.own_json)["tags"] for e in TimeEntry.objects.all()] == [["new"]] * 3
    _assert_every_row_is_its_columns()
    assert len(tagged) == 3


def test_a_later_save_of_the_same_instance_stores_the_rows_tags_not_the_ones_it_last_set(
    owner,
):
    project = ProjectFactory(client__workspace=owner.workspace)
    entry = _create(owner, project, tags=["a"])
    time_entry_update(entry=entry, tags=["b"])
    # Another request changes the tags, then this instance is saved again without tags.
    time_entry_update(entry=TimeEntry.objects.get(pk=entry.pk), tags=["c"])

    time_entry_update(entry=entry, description="Later")

    assert json.loads(TimeEntry.objects.get(pk=entry.pk).own_json)["tags"] == ["c"]
    _assert_every_row_is_its_columns()
