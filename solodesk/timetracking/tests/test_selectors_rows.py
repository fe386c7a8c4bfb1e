"""`time_entry_list_rows`: the API list's entries as plain rows, the same entries in the
same order as `time_entry_list`, sliced by a paginator."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from solodesk.tests.factories import ProjectFactory, TagFactory, TimeEntryFactory
from solodesk.timetracking.selectors import (
    TimeEntryFilters,
    TimeEntryRow,
    time_entry_list,
    time_entry_list_rows,
)
from solodesk.timetracking.tests.helpers import set_tags

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def entries(owner, stranger):
    project = ProjectFactory(client__workspace=owner.workspace, name="Website")
    other = ProjectFactory(client__workspace=owner.workspace, name="Audit")
    made = []
    for index in range(5):
        entry = TimeEntryFactory(
            project=project if index % 2 else other,
            user=owner.user,
            # Two entries share a start: the pk decides, as in time_entry_list.
            started_at=START + dt.timedelta(hours=min(index, 3)),
            invoiced_at=timezone.now() if index == 0 else None,
        )
        made.append(entry)
    set_tags(
        made[1], [TagFactory(workspace=owner.workspace, name=name) for name in ("zeta", "alpha")]
    )
    TimeEntryFactory(project__client__workspace=stranger.workspace, user=stranger.user)
    return made


def test_rows_are_the_entries_of_time_entry_list_in_the_same_order(owner, entries):
    rows = time_entry_list_rows(workspace=owner.workspace)[0:10]

    expected = list(time_entry_list(workspace=owner.workspace))
    assert [row.id for row in rows] == [entry.public_id for entry in expected]
    assert len(rows) == 5


def test_a_row_carries_what_the_api_shows(owner, entries):
    entry = entries[1]

    (row,) = [r for r in time_entry_list_rows(workspace=owner.workspace)[0:10] if r.tags]

    assert row == TimeEntryRow(
        id=entry.public_id,
        project_id=entry.project.public_id,
        project_name="Website",
        client_id=entry.project.client.public_id,
        client_name=entry.project.client.name,
        user_email=owner.user.email,
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        duration_seconds=entry.duration_seconds,
        description=entry.description,
        billable=True,
        invoiced=False,
        tags=["alpha", "zeta"],
        created_at=entry.created_at,
        updated_at=entry.updated_at,
    )


def test_invoiced_is_whether_the_entry_was_billed(owner, entries):
    rows = time_entry_list_rows(workspace=owner.workspace)[0:10]

    assert [row.invoiced for row in rows] == [False, False, False, False, True]


def test_count_and_slices_follow_the_filters(owner, entries):
    rows = time_entry_list_rows(
        workspace=owner.workspace,
        filters=TimeEntryFilters(project_id=entries[1].project.public_id),
    )

    assert rows.count() == len(rows) == rows.all().count() == 2
    assert [row.id for row in rows[1:2]] == [entries[1].public_id]
    assert rows[5:10] == []


def test_rows_are_sliced_by_pages_only(owner, entries):
    with pytest.raises(TypeError):
        time_entry_list_rows(workspace=owner.workspace)[0]  # type: ignore[index]


@pytest.mark.parametrize("count", [3, 30])
def test_a_page_costs_the_same_queries_whatever_its_size(owner, count, django_assert_num_queries):
    project = ProjectFactory(client__workspace=owner.workspace)
    for index in range(count):
        entry = TimeEntryFactory(
            project=project, user=owner.user, started_at=START + dt.timedelta(hours=index)
        )
        set_tags(entry, [TagFactory(workspace=owner.workspace, name=f"t{index}")])
    rows = time_entry_list_rows(workspace=owner.workspace)

    # 1. the page of entries joined with project, client and user (values), on
    #    PostgreSQL with their tag names (an array subquery)
    # 2. SQLite only: the tag names of those entries
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        page = rows[0:50]

    assert len(page) == count
    assert all(len(row.tags) == 1 for row in page)
