"""Entry list, week, entry form and export pages."""

import datetime as dt
import zoneinfo
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from solodesk.core.models import Job
from solodesk.tests.factories import (
    ClientFactory,
    ProjectFactory,
    RunningTimerFactory,
    TagFactory,
    TimeEntryFactory,
)
from solodesk.timetracking.models import TimeEntry
from solodesk.timetracking.tests.helpers import set_tags

BRUSSELS = zoneinfo.ZoneInfo("Europe/Brussels")
MONDAY = dt.date(2026, 3, 2)  # Brussels is UTC+1 in March (before the DST change on 29 March)
LIST_URL = reverse("timetracking:entry_list")
WEEK_URL = reverse("timetracking:week")
NEW_URL = reverse("timetracking:entry_new")
EXPORT_URL = reverse("timetracking:export")


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), BRUSSELS)


def edit_url(entry: TimeEntry) -> str:
    return reverse("timetracking:entry_edit", args=[entry.public_id])


def delete_url(entry: TimeEntry) -> str:
    return reverse("timetracking:entry_delete", args=[entry.public_id])


@pytest.fixture(params=["owner", "member"])
def persona(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def project(owner):
    assert owner.workspace.time_zone == "Europe/Brussels"
    return ProjectFactory(client__workspace=owner.workspace, client__name="Acme", name="Website")


def make_entry(project, user, start: dt.datetime, minutes: int = 90, **kwargs) -> TimeEntry:
    return TimeEntryFactory(
        project=project,
        user=user,
        started_at=start,
        ended_at=start + dt.timedelta(minutes=minutes),
        **kwargs,
    )


def make_week_of_entries(project, user, rows: int) -> list[TimeEntry]:
    """`rows` half-hour entries spread over the days of MONDAY's week, one tag each."""
    tag = TagFactory(workspace=project.workspace, name="design")
    entries = []
    for i in range(rows):
        start = local(MONDAY + dt.timedelta(days=i % 7), 6 + i // 7)
        entry = make_entry(project, user, start, minutes=30)
        set_tags(entry, [tag])
        entries.append(entry)
    return entries


# --- Entry list ---------------------------------------------------------------------------


def test_entry_list_renders_for_workspace_members(persona, stranger):
    project = ProjectFactory(client__workspace=persona.workspace, name="Mine")
    make_entry(project, persona.user, local(MONDAY, 9), description="my work")
    theirs = ProjectFactory(client__workspace=stranger.workspace, name="Theirs")
    make_entry(theirs, stranger.user, local(MONDAY, 9), description="their work")

    response = persona.client.get(LIST_URL)

    assert response.status_code == 200
    assert response.context["nav"] == "entries"
    assert [e.description for e in response.context["page"].object_list] == ["my work"]
    assert b"their work" not in response.content
    assert b"Export CSV" in response.content


def test_entry_list_shows_times_in_the_workspace_time_zone(owner, project):
    make_entry(project, owner.user, local(MONDAY, 9, 15), minutes=90)

    response = owner.client.get(LIST_URL)

    assert "09:15–10:45".encode() in response.content
    assert b"1:30" in response.content


def test_entry_list_filters_and_totals(owner, project):
    other_client = ClientFactory(workspace=owner.workspace, name="Beta")
    other = ProjectFactory(client=other_client, name="Shop")
    make_entry(project, owner.user, local(MONDAY, 9), minutes=60, description="a")
    make_entry(
        project, owner.user, local(MONDAY, 11), minutes=30, description="b", is_billable=False
    )
    make_entry(
        project,
        owner.user,
        local(MONDAY + dt.timedelta(days=1), 9),
        minutes=45,
        description="c",
        invoiced_at=timezone.now(),
    )
    make_entry(
        other, owner.user, local(MONDAY + dt.timedelta(days=2), 9), minutes=15, description="d"
    )

    def listed(**params):
        response = owner.client.get(LIST_URL, params)
        descriptions = sorted(e.description for e in response.context["page"].object_list)
        return descriptions, response.context["summary"]

    assert listed() == (["a", "b", "c", "d"], {"count": 4, "total": 9000, "billable": 7200})
    assert listed(client=str(other_client.public_id))[0] == ["d"]
    assert listed(project=str(project.public_id))[0] == ["a", "b", "c"]
    assert listed(date_from="2026-03-03", date_to="2026-03-03")[0] == ["c"]
    assert listed(billable="no") == (["b"], {"count": 1, "total": 1800, "billable": 0})
    assert listed(billable="yes")[0] == ["a", "c", "d"]
    assert listed(unbilled="1")[0] == ["a", "d"]


def test_entry_list_ignores_a_bad_filter_but_keeps_the_others(owner, project):
    make_entry(project, owner.user, local(MONDAY, 9), description="monday")
    make_entry(project, owner.user, local(MONDAY + dt.timedelta(days=1), 9), description="tue")

    response = owner.client.get(LIST_URL, {"client": "nope", "date_from": "2026-03-03"})

    assert response.status_code == 200
    assert [e.description for e in response.context["page"].object_list] == ["tue"]
    assert "client" in response.context["form"].errors


def test_entry_list_paginates_fifty_per_page(owner, project):
    for i in range(51):
        make_entry(project, owner.user, local(MONDAY, 0) + dt.timedelta(hours=i), minutes=10)

    first = owner.client.get(LIST_URL)
    second = owner.client.get(LIST_URL, {"page": "2"})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert first.context["page"].paginator.num_pages == 2
    assert b"Page 1 of 2" in first.content


@pytest.mark.parametrize("rows", [3, 50])
def test_entry_list_query_count_does_not_grow_with_rows(
    owner, member, project, rows, django_assert_num_queries
):
    make_week_of_entries(project, owner.user, rows - 1)
    # Other users, projects and clients on the page must not add queries either.
    second = ProjectFactory(client__workspace=owner.workspace)
    make_entry(second, member.user, local(MONDAY, 20))

    # 1 session, 2 user joined with running timer, 3 membership joined with workspace,
    # 4 the projects (+ clients) of the filter menus, 5 the summary (count, total, billable),
    # 6 the page of entries joined with project, client and user, 7 the tags of that page.
    with django_assert_num_queries(7):
        response = owner.client.get(LIST_URL)

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == rows


# --- Export --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["owner", "member"])
def test_export_creates_a_job_and_redirects_to_its_page(
    request, name, project, django_capture_on_commit_callbacks
):
    persona = request.getfixturevalue(name)
    data = {
        "client": str(project.client.public_id),
        "date_from": "2026-03-01",
        "date_to": "2026-03-31",
        "billable": "yes",
        "unbilled": "1",
    }

    with (
        mock.patch("solodesk.core.services._send_to_broker") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = persona.client.post(EXPORT_URL, data)

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.public_id}/"
    assert job.owner == persona.user
    assert job.workspace == persona.workspace
    assert job.kind == Job.Kind.TIME_ENTRIES_EXPORT
    assert job.params == {
        "client_id": str(project.client.public_id),
        "date_from": "2026-03-01",
        "date_to": "2026-03-31",
        "billable": "true",
        "unbilled": "true",
    }
    send.assert_called_once_with(job.pk, "solodesk.timetracking.tasks.time_entries_export_task")


def test_export_button_posts_the_applied_filters(owner, project):
    response = owner.client.get(LIST_URL, {"project": str(project.public_id), "billable": "no"})

    assert response.context["export_params"] == {
        "project": str(project.public_id),
        "billable": "no",
    }
    assert f'name="project" value="{project.public_id}"'.encode() in response.content


def test_export_with_a_bad_filter_starts_nothing(owner, project):
    with mock.patch("solodesk.core.services._send_to_broker") as send:
        response = owner.client.post(EXPORT_URL, {"date_from": "yesterday"})

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert not Job.objects.exists()
    send.assert_not_called()


def test_export_is_post_only(owner):
    assert owner.client.get(EXPORT_URL).status_code == 405
    assert not Job.objects.exists()


# --- Week ----------------------------------------------------------------------------------


def test_week_renders_for_workspace_members(persona):
    project = ProjectFactory(client__workspace=persona.workspace, name="Website")
    make_entry(project, persona.user, local(MONDAY, 9), minutes=90, description="Kick-off")
    make_entry(
        project,
        persona.user,
        local(MONDAY + dt.timedelta(days=2), 14),
        minutes=60,
        is_billable=False,
    )

    response = persona.client.get(WEEK_URL, {"date": "2026-03-04"})

    assert response.status_code == 200
    assert response.context["nav"] == "week"
    week = response.context["week"]
    assert week.start == MONDAY
    assert [d.date for d in week.days] == [MONDAY + dt.timedelta(days=i) for i in range(7)]
    assert [d.total_seconds for d in week.days] == [5400, 0, 3600, 0, 0, 0, 0]
    assert (week.total_seconds, week.billable_seconds) == (9000, 5400)
    content = response.content.decode()
    assert 'id="start-timer"' in content
    assert "Kick-off" in content
    assert "09:00–10:30" in content
    assert "2:30" in content  # week total
    assert "?date=2026-02-23" in content  # previous week
    assert "?date=2026-03-09" in content  # next week


def test_week_shows_only_my_own_entries(owner, member, project):
    make_entry(project, owner.user, local(MONDAY, 9), description="owner's")
    make_entry(project, member.user, local(MONDAY, 9), description="member's")

    response = member.client.get(WEEK_URL, {"date": "2026-03-02"})

    assert [e.description for e in response.context["week"].days[0].entries] == ["member's"]


def test_week_defaults_to_this_week_and_ignores_a_bad_date(owner):
    today = timezone.localdate(timezone=BRUSSELS)

    response = owner.client.get(WEEK_URL, {"date": "not-a-date"})

    assert response.context["week"].start == today - dt.timedelta(days=today.weekday())


def test_week_start_timer_form_offers_the_switch_only_while_a_timer_runs(owner, project):
    idle = owner.client.get(WEEK_URL)
    RunningTimerFactory(user=owner.user, project=project)
    running = owner.client.get(WEEK_URL)

    assert b'name="switch"' not in idle.content
    assert b'name="switch"' in running.content
    assert b'id="stop-timer"' in running.content


def test_week_start_timer_form_offers_only_this_workspaces_active_projects(
    owner, project, stranger
):
    ProjectFactory(client=project.client, name="Archived", is_archived=True)
    ProjectFactory(client__workspace=stranger.workspace, name="Theirs")

    response = owner.client.get(WEEK_URL)

    assert list(response.context["start_form"].fields["project"].queryset) == [project]


@pytest.mark.parametrize("rows", [3, 50])
def test_week_query_count_does_not_grow_with_rows(owner, project, rows, django_assert_num_queries):
    make_week_of_entries(project, owner.user, rows)
    ProjectFactory.create_batch(3, client__workspace=owner.workspace)
    RunningTimerFactory(user=owner.user, project=project)

    # 1 session, 2 user joined with running timer (+ project, client), 3 membership joined
    # with workspace, 4 the daily totals, 5 the week's entries joined with project, client
    # and user, 6 their tags, 7 the projects (+ clients) of the start-timer menu.
    with django_assert_num_queries(7):
        response = owner.client.get(WEEK_URL, {"date": "2026-03-02"})

    assert response.status_code == 200
    assert sum(len(d.entries) for d in response.context["week"].days) == rows


# --- New entry -----------------------------------------------------------------------------


def entry_data(project, **overrides):
    return {
        "project": str(project.public_id),
        "description": "Design review",
        "started_at": "",
        "ended_at": "",
        "date": "",
        "duration": "",
        "start_time": "",
        "billable": "",
        "tags": "",
        **overrides,
    }


def test_new_entry_page_renders_for_workspace_members(persona):
    response = persona.client.get(NEW_URL, {"date": "2026-03-04"})

    assert response.status_code == 200
    assert response.context["form"].initial["date"] == dt.date(2026, 3, 4)


def test_new_entry_from_start_and_end_in_the_workspace_time_zone(persona):
    project = ProjectFactory(client__workspace=persona.workspace)

    response = persona.client.post(
        NEW_URL,
        entry_data(
            project,
            started_at="2026-03-02T10:00",
            ended_at="2026-03-02T11:45",
            tags="design, meeting, design",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == f"{WEEK_URL}?date=2026-03-02"
    entry = TimeEntry.objects.get()
    assert entry.started_at == dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    assert entry.ended_at == dt.datetime(2026, 3, 2, 10, 45, tzinfo=dt.UTC)
    assert entry.duration_seconds == 105 * 60
    assert entry.user == persona.user
    assert entry.workspace == persona.workspace
    assert entry.is_billable is True
    assert sorted(t.name for t in entry.tags.all()) == ["design", "meeting"]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1:30", 5400), ("1.5", 5400), ("1,5", 5400), ("90m", 5400), ("2h", 7200), ("1h 15m", 4500)],
)
def test_new_entry_from_a_day_and_a_duration(owner, project, text, seconds):
    response = owner.client.post(NEW_URL, entry_data(project, date="2026-03-02", duration=text))

    assert response.status_code == 302
    entry = TimeEntry.objects.get()
    assert entry.duration_seconds == seconds
    assert entry.started_at == local(MONDAY, 9)  # 09:00 in the workspace's time zone


def test_new_entry_from_a_day_a_duration_and_a_start_time(owner, project):
    owner.client.post(
        NEW_URL, entry_data(project, date="2026-07-01", duration="45m", start_time="14:30")
    )

    entry = TimeEntry.objects.get()
    assert entry.started_at == dt.datetime(2026, 7, 1, 12, 30, tzinfo=dt.UTC)  # CEST
    assert entry.duration_seconds == 45 * 60


def test_new_entry_is_billable_as_its_project_unless_told(owner):
    internal = ProjectFactory(client__workspace=owner.workspace, billing_method="non_billable")

    owner.client.post(NEW_URL, entry_data(internal, date="2026-03-02", duration="1h"))
    owner.client.post(
        NEW_URL, entry_data(internal, date="2026-03-03", duration="1h", billable="yes")
    )

    assert list(TimeEntry.objects.order_by("started_at").values_list("is_billable", flat=True)) == [
        False,
        True,
    ]


def test_new_entry_goes_back_to_a_safe_next(owner, project):
    response = owner.client.post(
        NEW_URL, entry_data(project, date="2026-03-02", duration="1h", next="/time/?billable=no")
    )
    evil = owner.client.post(
        NEW_URL, entry_data(project, date="2026-03-02", duration="1h", next="//evil.example/")
    )

    assert response["Location"] == "/time/?billable=no"
    assert evil["Location"] == f"{WEEK_URL}?date=2026-03-02"


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"started_at": "2026-03-02T10:00", "ended_at": "2026-03-02T09:00"},
            {"ended_at": ["The end must be after the start."]},
        ),
        (
            {"started_at": "2026-03-02T10:00", "ended_at": "2026-03-03T10:01"},
            {"ended_at": ["An entry cannot be longer than 24 hours."]},
        ),
        (
            {"date": "2026-03-02", "duration": "25h"},
            {"duration": ["An entry cannot be longer than 24 hours."]},
        ),
        (
            {"date": "2026-03-02", "duration": "0:00"},
            {"duration": ["The duration must be positive."]},
        ),
        (
            {"date": "2026-03-02", "duration": "a while"},
            {"duration": ["Write a duration like 1:30, 1.5, 90m or 2h."]},
        ),
        ({"duration": "1h"}, {"date": ["Give the day the work was done."]}),
        ({}, {"__all__": ["Give a start and an end, or a day and a duration."]}),
        (
            {"started_at": "2026-03-02T10:00"},
            {"ended_at": ["Give the end too, or a day and a duration."]},
        ),
        (
            # 02:30 does not exist in Brussels on 29 March 2026 (clocks go 02:00 → 03:00).
            {"started_at": "2026-03-29T02:30", "ended_at": "2026-03-29T04:00"},
            {
                "started_at": [
                    "2026-03-29 02:30:00 couldn’t be interpreted in time zone "
                    "Europe/Brussels; it may be ambiguous or it may not exist."
                ]
            },
        ),
    ],
)
def test_new_entry_rejects_bad_times_and_creates_nothing(owner, project, overrides, errors):
    response = owner.client.post(NEW_URL, entry_data(project, **overrides))

    assert response.status_code == 400
    assert response.context["form"].errors == errors
    assert not TimeEntry.objects.exists()


def test_new_entry_rejects_another_workspaces_project(owner, stranger):
    theirs = ProjectFactory(client__workspace=stranger.workspace)

    response = owner.client.post(NEW_URL, entry_data(theirs, date="2026-03-02", duration="1h"))

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "project": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert not TimeEntry.objects.exists()


# --- Edit and delete -----------------------------------------------------------------------


def test_edit_page_shows_the_entry_in_the_workspace_time_zone(persona):
    project = ProjectFactory(client__workspace=persona.workspace)
    entry = make_entry(project, persona.user, local(MONDAY, 9), minutes=90, is_billable=False)
    set_tags(entry, [TagFactory(workspace=persona.workspace, name="ops")])

    response = persona.client.get(edit_url(entry))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'value="2026-03-02T09:00"' in content
    assert 'value="2026-03-02T10:30"' in content
    assert 'value="ops"' in content
    assert response.context["form"].initial["billable"] == "no"


def test_edit_saves_through_the_form(owner, project):
    entry = make_entry(project, owner.user, local(MONDAY, 9), minutes=90)
    other = ProjectFactory(client=project.client, name="Other")

    response = owner.client.post(
        edit_url(entry),
        entry_data(
            other,
            started_at="2026-03-02T09:00",
            ended_at="2026-03-02T12:00",
            billable="no",
            tags="ops",
        ),
    )

    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.project == other
    assert entry.duration_seconds == 3 * 3600
    assert entry.is_billable is False
    assert [t.name for t in entry.tags.all()] == ["ops"]


def test_edit_keeps_an_entry_on_an_archived_project(owner, project):
    entry = make_entry(project, owner.user, local(MONDAY, 9), minutes=90)
    project.is_archived = True
    project.save()

    response = owner.client.post(
        edit_url(entry),
        entry_data(project, started_at="2026-03-02T09:00", ended_at="2026-03-02T10:00"),
    )

    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.duration_seconds == 3600


def test_edit_rejects_an_end_before_the_start_and_changes_nothing(owner, project):
    entry = make_entry(project, owner.user, local(MONDAY, 9), minutes=90)

    response = owner.client.post(
        edit_url(entry),
        entry_data(project, started_at="2026-03-02T09:00", ended_at="2026-03-02T08:00"),
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {"ended_at": ["The end must be after the start."]}
    entry.refresh_from_db()
    assert entry.duration_seconds == 5400


def test_edit_refuses_an_invoiced_entry(owner, project):
    entry = make_entry(
        project, owner.user, local(MONDAY, 9), minutes=90, invoiced_at=timezone.now()
    )

    response = owner.client.post(
        edit_url(entry),
        entry_data(project, started_at="2026-03-02T09:00", ended_at="2026-03-02T12:00"),
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "__all__": ["This entry is on an invoice and can no longer be changed."]
    }
    entry.refresh_from_db()
    assert entry.duration_seconds == 5400


def test_stranger_cannot_see_edit_or_delete_an_entry(owner, project, stranger):
    entry = make_entry(project, owner.user, local(MONDAY, 9), minutes=90, description="Secret")
    theirs = ProjectFactory(client__workspace=stranger.workspace)

    page = stranger.client.get(edit_url(entry))
    edit = stranger.client.post(
        edit_url(entry),
        entry_data(theirs, started_at="2026-03-02T09:00", ended_at="2026-03-02T12:00"),
    )
    confirm = stranger.client.get(delete_url(entry))
    delete = stranger.client.post(delete_url(entry))

    assert [r.status_code for r in (page, edit, confirm, delete)] == [404, 404, 404, 404]
    entry.refresh_from_db()
    assert entry.description == "Secret"
    assert entry.duration_seconds == 5400
    assert entry.project == project


def test_delete_asks_then_deletes(persona):
    project = ProjectFactory(client__workspace=persona.workspace)
    entry = make_entry(project, persona.user, local(MONDAY, 9))

    confirm = persona.client.get(delete_url(entry))
    assert confirm.status_code == 200
    assert TimeEntry.objects.filter(pk=entry.pk).exists()

    response = persona.client.post(delete_url(entry))

    assert response.status_code == 302
    assert response["Location"] == f"{WEEK_URL}?date=2026-03-02"
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()


def test_delete_refuses_an_invoiced_entry(owner, project):
    entry = make_entry(project, owner.user, local(MONDAY, 9), invoiced_at=timezone.now())

    response = owner.client.post(delete_url(entry), follow=True)

    assert TimeEntry.objects.filter(pk=entry.pk).exists()
    assert [str(m) for m in response.context["messages"]] == [
        "This entry is on an invoice and cannot be deleted."
    ]
