"""The time entries API: /api/v1/time-entries."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from solodesk.core.api import CappedLimitOffsetPagination
from solodesk.core.models import Job
from solodesk.projects.models import Project
from solodesk.tests.factories import ProjectFactory, TagFactory, TimeEntryFactory
from solodesk.timetracking.models import TimeEntry
from solodesk.timetracking.services import time_entries_own_json_rebuild
from solodesk.timetracking.tests.helpers import entry_as_json, set_tags

URL = "/api/v1/time-entries"
EXPORT_TASK = "solodesk.timetracking.tasks.time_entries_export_task"
# Monday 2 March 2026, 10:00 in Brussels (the factories' workspace time zone, UTC+1).
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def detail_url(entry: TimeEntry) -> str:
    return f"{URL}/{entry.public_id}"


@pytest.fixture
def project(owner):
    return ProjectFactory(client__workspace=owner.workspace, name="Website")


def make_entry(owner, project, *, hours_after_start: float = 0, tags=(), **fields) -> TimeEntry:
    started_at = START + dt.timedelta(hours=hours_after_start)
    entry = TimeEntryFactory(project=project, user=owner.user, started_at=started_at, **fields)
    if tags:
        set_tags(entry, [TagFactory(workspace=project.workspace, name=name) for name in tags])
    return entry


def post(persona, url, payload):
    return persona.api().post(url, payload, content_type="application/json")


def patch(persona, url, payload):
    return persona.api().patch(url, payload, content_type="application/json")


# --- List -----------------------------------------------------------------------------


def test_list_returns_the_workspaces_entries_newest_first(owner, stranger, project):
    older = make_entry(owner, project, tags=["design", "call"])
    newer = make_entry(owner, project, hours_after_start=24)
    TimeEntryFactory(project__client__workspace=stranger.workspace, user=stranger.user)

    response = owner.api().get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "items": [entry_as_json(newer), entry_as_json(older)],
        "count": 2,
        "count_is_capped": False,
    }
    assert response.json()["items"][1]["tags"] == ["call", "design"]
    assert response.json()["items"][1]["user_email"] == owner.user.email


def test_list_filters_by_client_and_project(owner, project):
    other_project = ProjectFactory(client=project.client, name="Audit")
    other_client_project = ProjectFactory(client__workspace=owner.workspace)
    on_project = make_entry(owner, project, description="on project")
    make_entry(owner, other_project, description="other project")
    make_entry(owner, other_client_project, description="other client")
    api = owner.api()

    by_project = api.get(URL, {"project_id": str(project.public_id)}).json()
    by_client = api.get(URL, {"client_id": str(project.client.public_id)}).json()

    assert [item["id"] for item in by_project["items"]] == [str(on_project.public_id)]
    assert sorted(item["description"] for item in by_client["items"]) == [
        "on project",
        "other project",
    ]


def test_list_filters_by_whole_days_in_the_workspace_time_zone(owner, project):
    # 23:30 UTC on Sunday 1 March is 00:30 on Monday 2 March in Brussels.
    monday_early = make_entry(owner, project, hours_after_start=-9.5)
    make_entry(owner, project, hours_after_start=-10.5)  # Sunday 23:30 in Brussels
    tuesday = make_entry(owner, project, hours_after_start=24)
    make_entry(owner, project, hours_after_start=48)  # Wednesday

    body = owner.api().get(URL, {"date_from": "2026-03-02", "date_to": "2026-03-03"}).json()

    assert [item["id"] for item in body["items"]] == [
        str(tuesday.public_id),
        str(monday_early.public_id),
    ]


def test_list_filters_by_billable_and_unbilled(owner, project):
    billable = make_entry(owner, project, is_billable=True)
    non_billable = make_entry(owner, project, hours_after_start=1, is_billable=False)
    make_entry(owner, project, hours_after_start=2, invoiced_at=timezone.now())
    api = owner.api()

    not_billable = api.get(URL, {"billable": "false"}).json()
    unbilled = api.get(URL, {"unbilled": "true"}).json()

    assert [item["id"] for item in not_billable["items"]] == [str(non_billable.public_id)]
    assert [item["id"] for item in unbilled["items"]] == [str(billable.public_id)]


def test_list_rejects_a_date_range_that_ends_before_it_starts(owner):
    response = owner.api().get(URL, {"date_from": "2026-03-05", "date_to": "2026-03-01"})

    assert response.status_code == 422
    assert response.json()["errors"] == {"date_to": ["Value error, date_to is before date_from."]}


def test_list_rejects_a_malformed_date_naming_it(owner):
    response = owner.api().get(URL, {"date_from": "March"})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["date_from"]


def test_list_pages_up_to_two_thousand_entries_and_refuses_more(owner, project):
    entries = [make_entry(owner, project, hours_after_start=-n) for n in range(3)]

    page = owner.api().get(URL, {"limit": 2000, "offset": 1}).json()
    too_many = owner.api().get(URL, {"limit": 2001})

    assert page["count"] == 3
    assert [item["id"] for item in page["items"]] == [str(e.public_id) for e in entries[1:]]
    assert too_many.status_code == 422
    assert list(too_many.json()["errors"]) == ["limit"]


def test_member_sees_the_workspaces_entries(owner, member, project):
    entry = make_entry(owner, project)

    body = member.api().get(URL).json()

    assert [item["id"] for item in body["items"]] == [str(entry.public_id)]


def test_session_authentication_works_for_reads(owner, project):
    entry = make_entry(owner, project)

    response = owner.client.get(detail_url(entry))

    assert response.status_code == 200
    assert response.json() == entry_as_json(entry)


@pytest.mark.parametrize("rows", [3, 50])
def test_list_costs_four_queries_whatever_the_number_of_entries(
    owner, project, rows, django_assert_num_queries
):
    projects = [project, ProjectFactory(client__workspace=owner.workspace)]
    for row in range(rows):
        make_entry(owner, projects[row % 2], hours_after_start=row, tags=["a", f"t{row}"])
    api = owner.api()

    # 1. API token joined with its workspace and user
    # 2. the page of entries: each one's stored JSON (with its tag names), invoiced or not,
    #    its project and user
    # 3. the JSON members of the page's projects (with their clients) and users, once each
    # 4. COUNT of the filtered entries, stopping 1,000 rows past the offset (the page is
    #    full: more may follow)
    with django_assert_num_queries(4):
        response = api.get(URL, {"limit": 3})

    assert response.json()["count"] == rows
    assert len(response.json()["items"]) == 3
    assert response.json()["items"][-1]["tags"] == ["a", f"t{rows - 3}"]


@pytest.mark.parametrize("rows", [3, 50])
def test_list_skips_the_count_on_the_last_page(owner, project, rows, django_assert_num_queries):
    for row in range(rows):
        make_entry(owner, project, hours_after_start=row)
    api = owner.api()

    # 1. API token; 2. the page; 3. its projects' and users' members. A page shorter than
    # `limit` is the last one, so the count is its offset plus its length.
    with django_assert_num_queries(3):
        last_page = api.get(URL, {"limit": 2000, "offset": 1}).json()

    assert last_page["count"] == rows
    assert len(last_page["items"]) == rows - 1


def test_list_counts_the_entries_past_the_end_and_on_a_full_page(owner, project):
    for row in range(4):
        make_entry(owner, project, hours_after_start=row)
    api = owner.api()

    past_the_end = api.get(URL, {"offset": 10}).json()
    full_page = api.get(URL, {"limit": 2, "offset": 2}).json()
    exactly_all = api.get(URL, {"limit": 4}).json()

    assert past_the_end == {"items": [], "count": 4, "count_is_capped": False}  # no members
    assert (len(full_page["items"]), full_page["count"]) == (2, 4)
    assert (len(exactly_all["items"]), exactly_all["count"]) == (4, 4)


@pytest.fixture
def nine_entries_count_cap_three(owner, project, monkeypatch):
    """Nine entries and the list's COUNT capped at 3 rows past the offset; the owner's API
    client."""
    monkeypatch.setattr(CappedLimitOffsetPagination, "count_cap", 3)
    for row in range(9):
        make_entry(owner, project, hours_after_start=row)
    return owner.api()


def test_list_counts_at_most_the_cap_past_the_offset(nine_entries_count_cap_three):
    api = nine_entries_count_cap_three

    first = api.get(URL, {"limit": 2}).json()
    later = api.get(URL, {"limit": 2, "offset": 4}).json()
    near_the_end = api.get(URL, {"limit": 2, "offset": 6}).json()
    exactly_the_cap = api.get(URL, {"limit": 2, "offset": 5}).json()
    last = api.get(URL, {"limit": 2, "offset": 8}).json()

    # More than 3 rows past offset 0: a lower bound, and the list says so.
    assert (first["count"], first["count_is_capped"], len(first["items"])) == (3, True, 2)
    assert (later["count"], later["count_is_capped"]) == (7, True)
    # From offset 6, 3 rows remain: counted exactly.
    assert (near_the_end["count"], near_the_end["count_is_capped"]) == (9, False)
    # 4 rows past offset 5: one more than the cap.
    assert (exactly_the_cap["count"], exactly_the_cap["count_is_capped"]) == (8, True)
    # A short page is the last one: its count is exact without a COUNT.
    assert (last["count"], last["count_is_capped"], len(last["items"])) == (9, False, 1)


def test_a_full_page_longer_than_the_cap_counts_at_least_its_rows(nine_entries_count_cap_three):
    api = nine_entries_count_cap_three

    first = api.get(URL, {"limit": 5}).json()
    later = api.get(URL, {"limit": 4, "offset": 1}).json()
    near_the_end = api.get(URL, {"limit": 4, "offset": 5}).json()

    # Counted up to the end of the page, then as far past it as the page is long.
    assert (first["count"], first["count_is_capped"], len(first["items"])) == (5, True, 5)
    assert (later["count"], later["count_is_capped"], len(later["items"])) == (5, True, 4)
    assert (near_the_end["count"], near_the_end["count_is_capped"]) == (9, False)


def test_list_items_are_the_details_json(owner, project):
    # The list writes its JSON without the schema: each item must be exactly what the
    # detail endpoint (through the schema) returns, tags, microseconds, invoiced included.
    plain = make_entry(owner, project, tags=["b", "a"], description='Quote " and é')
    whole_second = make_entry(
        owner,
        project,
        hours_after_start=2,
        invoiced_at=timezone.now(),
        is_billable=False,
    )
    TimeEntry.objects.filter(pk=whole_second.pk).update(
        created_at=dt.datetime(2026, 3, 1, 8, 0, 0, 120000, tzinfo=dt.UTC),
        updated_at=dt.datetime(2026, 3, 1, 8, 0, 0, tzinfo=dt.UTC),
    )
    TimeEntry.objects.filter(pk=plain.pk).update(
        started_at=START + dt.timedelta(microseconds=5),
        ended_at=START + dt.timedelta(hours=1, microseconds=5),
    )
    # Written around the ORM: their stored JSON written again from the columns.
    time_entries_own_json_rebuild(
        entries=TimeEntry.objects.filter(pk__in=[plain.pk, whole_second.pk])
    )
    api = owner.api()

    response = api.get(URL)

    assert response["Content-Type"] == "application/json; charset=utf-8"
    items = response.json()["items"]
    details = [api.get(detail_url(entry)).json() for entry in (whole_second, plain)]
    assert items == details
    # A later page is read another way (its ids first): the same JSON.
    assert api.get(URL, {"offset": 1}).json() == {
        "items": details[1:],
        "count": 2,
        "count_is_capped": False,
    }
    assert items[0]["created_at"] == "2026-03-01T08:00:00.120000+00:00"
    assert items[0]["updated_at"] == "2026-03-01T08:00:00+00:00"
    assert items[1]["started_at"] == "2026-03-02T09:00:00.000005+00:00"
    assert (items[0]["invoiced"], items[0]["billable"], items[1]["tags"]) == (
        True,
        False,
        ["a", "b"],
    )


@pytest.mark.parametrize("rows", [3, 50])
def test_detail_costs_three_queries_whatever_the_number_of_entries(
    owner, project, rows, django_assert_num_queries
):
    entries = [make_entry(owner, project, hours_after_start=row, tags=["a"]) for row in range(rows)]
    api = owner.api()

    # 1. API token joined with its workspace, user and running timer
    # 2. the entry joined with project, client and user, scoped to the workspace
    # 3. its tags
    with django_assert_num_queries(3):
        response = api.get(detail_url(entries[-1]))

    assert response.json()["tags"] == ["a"]


# --- Create ---------------------------------------------------------------------------


def test_create_from_start_and_end(owner, project):
    response = post(
        owner,
        URL,
        {
            "project_id": str(project.public_id),
            "started_at": "2026-03-02T10:00:00+01:00",
            "ended_at": "2026-03-02T11:30:00+01:00",
            "description": "  Kick-off  ",
            "tags": ["meeting", "design"],
        },
    )

    assert response.status_code == 201
    entry = TimeEntry.objects.get()
    assert (entry.started_at, entry.duration_seconds, entry.user, entry.project) == (
        START,
        5400,
        owner.user,
        project,
    )
    body = response.json()
    assert body == entry_as_json(entry)
    assert (body["started_at"], body["ended_at"]) == (
        "2026-03-02T09:00:00+00:00",
        "2026-03-02T10:30:00+00:00",
    )
    assert (body["description"], body["tags"], body["billable"], body["invoiced"]) == (
        "Kick-off",
        ["design", "meeting"],
        True,
        False,
    )


def test_create_without_tags_answers_without_reading_tags_back(owner, project):
    api = owner.api()
    payload = {
        "project_id": str(project.public_id),
        "started_at": "2026-03-02T10:00:00.250000+01:00",
        "ended_at": "2026-03-02T11:00:00+01:00",
    }

    with CaptureQueriesContext(connection) as queries:
        response = api.post(URL, payload, content_type="application/json")

    assert response.status_code == 201
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body == entry_as_json(TimeEntry.objects.get())
    assert (body["started_at"], body["tags"]) == ("2026-03-02T09:00:00.250000+00:00", [])
    assert not [q["sql"] for q in queries.captured_queries if "timetracking_tag" in q["sql"]]


@pytest.mark.parametrize("rows", [3, 50])
def test_create_costs_the_same_queries_whatever_the_number_of_entries(
    owner, project, rows, django_assert_num_queries
):
    for row in range(rows):
        make_entry(owner, project, hours_after_start=row)
    api = owner.api()
    payload = {
        "project_id": str(project.public_id),
        "started_at": "2026-03-09T10:00:00+01:00",
        "ended_at": "2026-03-09T11:00:00+01:00",
    }

    # 1. API token joined with its workspace and user
    # 2. SAVEPOINT (the service's transaction, inside the test's)
    # 3. the project with its client and its workspace, the workspace row FOR SHARE
    #    (decision 0007: the lock that orders entry writes against a recount)
    # 4. INSERT the entry; 5. upsert the day's totals; 6. upsert the month's totals
    # 7. upsert the workspace's month (decision 0012)
    # 8. upsert the project's unbilled time (decision 0008: a billable entry)
    # 9. RELEASE SAVEPOINT
    # On PostgreSQL 5-8 are one statement (services._upserts_run): 6 queries.
    with django_assert_num_queries(6 if connection.vendor == "postgresql" else 9):
        response = api.post(URL, payload, content_type="application/json")

    assert response.status_code == 201
    assert TimeEntry.objects.count() == rows + 1


def test_create_from_a_date_and_a_duration_starts_at_nine_local_time(owner, project):
    response = post(
        owner,
        URL,
        {"project_id": str(project.public_id), "date": "2026-03-02", "duration_seconds": 3600},
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["started_at"], body["ended_at"], body["duration_seconds"]) == (
        "2026-03-02T08:00:00+00:00",
        "2026-03-02T09:00:00+00:00",
        3600,
    )


def test_create_from_a_date_a_duration_and_a_start_time(owner, project):
    response = post(
        owner,
        URL,
        {
            "project_id": str(project.public_id),
            "date": "2026-03-02",
            "duration_seconds": 1800,
            "start_time": "14:30",
        },
    )

    assert response.status_code == 201
    assert response.json()["started_at"] == "2026-03-02T13:30:00+00:00"


def test_create_takes_billable_from_the_project_unless_given(owner):
    internal = ProjectFactory(
        client__workspace=owner.workspace, billing_method=Project.BillingMethod.NON_BILLABLE
    )
    payload = {"project_id": str(internal.public_id), "date": "2026-03-02", "duration_seconds": 60}

    by_default = post(owner, URL, payload).json()
    forced = post(owner, URL, {**payload, "billable": True}).json()

    assert (by_default["billable"], forced["billable"]) == (False, True)


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        (
            {},
            {
                "started_at": ["Give started_at and ended_at, or date and duration_seconds."],
                "date": ["Give started_at and ended_at, or date and duration_seconds."],
            },
        ),
        (
            {"started_at": "2026-03-02T10:00:00+01:00"},
            {"ended_at": ["Required with started_at or ended_at."]},
        ),
        (
            {"duration_seconds": 60},
            {"date": ["Required with date, duration_seconds or start_time."]},
        ),
        (
            {
                "started_at": "2026-03-02T10:00:00+01:00",
                "ended_at": "2026-03-02T11:00:00+01:00",
                "date": "2026-03-02",
            },
            {"date": ["Give started_at and ended_at, or date and duration_seconds: not both."]},
        ),
    ],
)
def test_create_needs_exactly_one_way_of_giving_the_times(owner, project, payload, errors):
    response = post(owner, URL, {"project_id": str(project.public_id), **payload})

    assert response.status_code == 422
    assert response.json() == {"message": "Invalid input.", "errors": errors}
    assert not TimeEntry.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (
            {"started_at": "2026-03-02T10:00:00", "ended_at": "2026-03-02T11:00:00+01:00"},
            "started_at",
        ),
        ({"date": "2026-03-02", "duration_seconds": 0}, "duration_seconds"),
        ({"date": "2026-03-02", "duration_seconds": 86401}, "duration_seconds"),
        ({"date": "2026-02-30", "duration_seconds": 60}, "date"),
        ({"date": "2026-03-02", "duration_seconds": 60, "tags": ["x"] * 21}, "tags"),
        ({"date": "2026-03-02", "duration_seconds": 60, "description": "x" * 501}, "description"),
        ({"date": "2026-03-02", "duration_seconds": 60, "project_id": "nope"}, "project_id"),
    ],
)
def test_create_rejects_invalid_input_naming_the_field(owner, project, payload, field):
    response = post(owner, URL, {"project_id": str(project.public_id), **payload})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert not TimeEntry.objects.exists()


def test_create_rejects_an_end_before_the_start(owner, project):
    response = post(
        owner,
        URL,
        {
            "project_id": str(project.public_id),
            "started_at": "2026-03-02T10:00:00+01:00",
            "ended_at": "2026-03-02T09:00:00+01:00",
        },
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"ended_at": ["The end must be after the start."]}
    assert not TimeEntry.objects.exists()


def test_create_rejects_a_strangers_project_and_creates_nothing(owner, stranger):
    strangers_project = ProjectFactory(client__workspace=stranger.workspace)

    response = post(
        owner,
        URL,
        {
            "project_id": str(strangers_project.public_id),
            "date": "2026-03-02",
            "duration_seconds": 60,
        },
    )

    assert response.status_code == 400
    assert response.json() == {
        "message": "Project not found.",
        "errors": {"project_id": ["Project not found."]},
    }
    assert not TimeEntry.objects.exists()


# --- Update and delete ----------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(owner, project):
    entry = make_entry(owner, project, description="Before", tags=["old"])

    response = patch(owner, detail_url(entry), {"description": "After"})

    assert response.status_code == 200
    entry.refresh_from_db()
    assert (entry.description, entry.started_at, entry.duration_seconds) == (
        "After",
        START,
        5400,
    )
    assert response.json() == entry_as_json(entry)
    assert response.json()["tags"] == ["old"]


def test_patch_moves_times_project_tags_and_billable(owner, project):
    entry = make_entry(owner, project, tags=["old"])
    other = ProjectFactory(client__workspace=owner.workspace)

    response = patch(
        owner,
        detail_url(entry),
        {
            "project_id": str(other.public_id),
            "ended_at": "2026-03-02T12:00:00+01:00",
            "tags": ["new", "review"],
            "billable": False,
        },
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["project_id"], body["duration_seconds"], body["tags"], body["billable"]) == (
        str(other.public_id),
        7200,
        ["new", "review"],
        False,
    )
    entry.refresh_from_db()
    assert (entry.project, entry.duration_seconds, entry.is_billable) == (other, 7200, False)


def test_patch_refuses_null_for_a_required_field(owner, project):
    entry = make_entry(owner, project)

    response = patch(owner, detail_url(entry), {"started_at": None})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["started_at"]


def test_patch_rejects_a_strangers_project_and_changes_nothing(owner, stranger, project):
    entry = make_entry(owner, project)
    before = entry_as_json(entry)
    strangers_project = ProjectFactory(client__workspace=stranger.workspace)

    response = patch(
        owner,
        detail_url(entry),
        {"project_id": str(strangers_project.public_id), "description": "x"},
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"project_id": ["Project not found."]}
    assert entry_as_json(entry) == before


def test_patch_refuses_an_invoiced_entry(owner, project):
    entry = make_entry(owner, project, description="Billed", invoiced_at=timezone.now())

    response = patch(owner, detail_url(entry), {"description": "Changed"})

    assert response.status_code == 400
    assert response.json()["message"] == "This entry is on an invoice and can no longer be changed."
    entry.refresh_from_db()
    assert entry.description == "Billed"


def test_delete_removes_the_entry(owner, project):
    entry = make_entry(owner, project)

    response = owner.api().delete(detail_url(entry))

    assert response.status_code == 204
    assert response.content == b""
    assert not TimeEntry.objects.exists()


def test_delete_refuses_an_invoiced_entry(owner, project):
    entry = make_entry(owner, project, invoiced_at=timezone.now())

    response = owner.api().delete(detail_url(entry))

    assert response.status_code == 400
    assert TimeEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    ("method", "payload"),
    [("get", None), ("patch", {"description": "Hijacked"}), ("delete", None)],
)
def test_stranger_gets_404_and_nothing_changes(owner, stranger, project, method, payload):
    entry = make_entry(owner, project, tags=["kept"])
    before = entry_as_json(entry)

    kwargs = {"content_type": "application/json"} if payload is not None else {}
    response = getattr(stranger.api(), method)(detail_url(entry), payload, **kwargs)

    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}
    assert entry_as_json(entry) == before


def test_requests_without_a_token_are_401(db):
    assert DjangoClient().get(URL).status_code == 401


# --- Export ---------------------------------------------------------------------------


@pytest.fixture
def broker(monkeypatch):
    """Stands in for the broker: records what would have been sent, after commit."""
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(
        "solodesk.core.services._send_to_broker",
        lambda job_id, task_name: sent.append((job_id, task_name)),
    )
    return sent


def test_export_returns_202_and_enqueues_the_job_after_commit(
    owner, project, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(
            owner,
            f"{URL}/export",
            {
                "project_id": str(project.public_id),
                "date_from": "2026-03-01",
                "date_to": "2026-03-31",
                "billable": True,
                "unbilled": True,
            },
        )

    assert response.status_code == 202
    job = Job.objects.get()
    assert response.json() == {
        "job_id": str(job.public_id),
        "job_url": f"/api/v1/jobs/{job.public_id}",
    }
    assert (job.workspace, job.owner, job.kind, job.status) == (
        owner.workspace,
        owner.user,
        Job.Kind.TIME_ENTRIES_EXPORT,
        Job.Status.QUEUED,
    )
    assert job.params == {
        "project_id": str(project.public_id),
        "date_from": "2026-03-01",
        "date_to": "2026-03-31",
        "billable": "true",
        "unbilled": "true",
    }
    assert len(callbacks) == 1
    assert broker == [(job.pk, EXPORT_TASK)]


def test_export_without_a_body_exports_everything(
    owner, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        # No body at all, as `curl -X POST` sends it.
        response = owner.api().generic("POST", f"{URL}/export")

    assert response.status_code == 202
    job = Job.objects.get()
    assert job.params == {}
    assert broker == [(job.pk, EXPORT_TASK)]


def test_export_rejects_invalid_filters_and_creates_no_job(owner, broker):
    response = post(owner, f"{URL}/export", {"date_from": "yesterday"})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["date_from"]
    assert not Job.objects.exists()
    assert broker == []


def test_export_without_a_token_is_401_and_creates_no_job(db, broker):
    response = DjangoClient().post(f"{URL}/export", {}, content_type="application/json")

    assert response.status_code == 401
    assert not Job.objects.exists()
