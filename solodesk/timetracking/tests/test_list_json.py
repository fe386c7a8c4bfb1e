"""The API list's JSON written by the database (`TimeEntryRows.json_page`): the same values
as the detail's schema writes (`core.api.IsoDatetime`, `str(UUID)`, true/false, the tag
names sorted), whatever the characters in the texts, on SQLite and PostgreSQL."""

import datetime as dt
import json

import pytest

from solodesk.tests.factories import ProjectFactory, TagFactory, TimeEntryFactory
from solodesk.timetracking import selectors
from solodesk.timetracking.models import TimeEntry
from solodesk.timetracking.selectors import TimeEntryFilters, time_entry_list_rows
from solodesk.timetracking.services import time_entries_own_json_rebuild
from solodesk.timetracking.tests.helpers import entry_as_json, page_items, set_tags

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ODD_TEXTS = [
    'Quote " and \\ backslash',
    "Ünïcödé ✓ 🎉 日本語",
    "Tab\tnew line\ncarriage\rbell\x07 and \u2028 separator",
    '\' single, /slash, <b>&amp;</b>, {"not": json}',
    "",
]
# Sorted the same in PostgreSQL's collation and Python's (first letters a < b < t < z).
ODD_TAGS = ['a "quoted" tag', "back\\slash", "tab\there", "zürich ✓ 🎉"]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_texts_with_any_characters_are_the_same_json_values(owner, text):
    project = ProjectFactory(
        client__workspace=owner.workspace, client__name=f"Client {text}", name=f"Project {text}"
    )
    entry = TimeEntryFactory(project=project, user=owner.user, description=text)

    body, found = time_entry_list_rows(workspace=owner.workspace).json_page(slice(0, 10))

    assert found == 1
    assert json.loads(body) == [entry_as_json(entry)]
    assert json.loads(body)[0]["description"] == text


def test_tags_with_any_characters_come_sorted(owner):
    project = ProjectFactory(client__workspace=owner.workspace)
    entry = TimeEntryFactory(project=project, user=owner.user)
    set_tags(entry, [TagFactory(workspace=owner.workspace, name=n) for n in reversed(ODD_TAGS)])
    untagged = TimeEntryFactory(project=project, user=owner.user, started_at=START)

    items = page_items(time_entry_list_rows(workspace=owner.workspace), slice(0, 10))

    by_id = {item["id"]: item for item in items}
    assert by_id[str(entry.public_id)]["tags"] == ODD_TAGS
    assert by_id[str(untagged.public_id)]["tags"] == []
    assert items == [entry_as_json(e) for e in (entry, untagged)]


@pytest.mark.parametrize(
    ("microseconds", "expected"),
    [
        (0, "2026-03-02T09:00:00+00:00"),
        (5, "2026-03-02T09:00:00.000005+00:00"),
        (120000, "2026-03-02T09:00:00.120000+00:00"),
        (999999, "2026-03-02T09:00:00.999999+00:00"),
    ],
)
def test_times_are_written_as_the_schemas_iso_utc(owner, microseconds, expected):
    project = ProjectFactory(client__workspace=owner.workspace)
    at = START + dt.timedelta(microseconds=microseconds)
    entry = TimeEntryFactory(project=project, user=owner.user)
    TimeEntry.objects.filter(pk=entry.pk).update(
        started_at=at, ended_at=at + dt.timedelta(hours=1), created_at=at, updated_at=at
    )
    # Written around the ORM: the stored JSON written again by the database, from the columns.
    time_entries_own_json_rebuild(entries=TimeEntry.objects.filter(pk=entry.pk))

    (item,) = page_items(time_entry_list_rows(workspace=owner.workspace), slice(0, 10))

    assert (item["started_at"], item["created_at"], item["updated_at"]) == (expected,) * 3
    assert item["ended_at"] == expected.replace("T09", "T10")
    assert item == entry_as_json(entry)


def test_every_value_is_present_and_typed(owner):
    project = ProjectFactory(client__workspace=owner.workspace)
    entry = TimeEntryFactory(project=project, user=owner.user, is_billable=False)

    (item,) = page_items(time_entry_list_rows(workspace=owner.workspace), slice(0, 10))

    assert None not in item.values()
    assert list(item) == list(entry_as_json(entry))  # the same keys, in the same order
    assert (item["billable"], item["invoiced"]) == (False, False)
    assert isinstance(item["duration_seconds"], int)


def test_an_empty_page_is_an_empty_array(owner, django_assert_num_queries):
    rows = time_entry_list_rows(
        workspace=owner.workspace, filters=TimeEntryFilters(date_from=dt.date(2026, 3, 2))
    )

    with django_assert_num_queries(1):  # the page; no members to read for no entries
        assert rows.json_page(slice(0, 10)) == (b"[]", 0)
    assert rows.json_page(slice(10, 20)) == (b"[]", 0)
    assert owner.api().get("/api/v1/time-entries").json() == {
        "items": [],
        "count": 0,
        "count_is_capped": False,
    }


def test_an_entry_deleted_with_its_project_between_the_two_queries_is_left_out(owner, monkeypatch):
    """The page and its projects' and users' members are two statements, each with its own
    snapshot on PostgreSQL: a project deleted in between (after its entries: PROTECT)
    leaves its entries out of the page instead of failing the request."""
    kept, gone = (ProjectFactory(client__workspace=owner.workspace) for _ in range(2))
    for project in (kept, gone, kept):
        TimeEntryFactory(project=project, user=owner.user)
    read_members = selectors._page_members

    def members_after_the_deletion(rows, alias):
        projects, users = read_members(rows, alias)
        del projects[gone.pk]
        return projects, users

    monkeypatch.setattr(selectors, "_page_members", members_after_the_deletion)

    page, count = time_entry_list_rows(workspace=owner.workspace).json_page(slice(0, 10))
    assert count == 2
    assert [item["project_id"] for item in json.loads(page)] == [str(kept.public_id)] * 2
    response = owner.api().get("/api/v1/time-entries")
    assert response.status_code == 200
    assert [item["project_id"] for item in response.json()["items"]] == [str(kept.public_id)] * 2
