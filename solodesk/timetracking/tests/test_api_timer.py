"""The running timer in the API: /api/v1/timer."""

import datetime as dt

import pytest
import time_machine
from django.test import Client as DjangoClient

from solodesk.projects.models import Project
from solodesk.tests.factories import ProjectFactory, RunningTimerFactory, TimeEntryFactory
from solodesk.timetracking.models import RunningTimer, TimeEntry

URL = "/api/v1/timer"
NOW = dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC)


@pytest.fixture
def project(owner):
    return ProjectFactory(client__workspace=owner.workspace, name="Website")


def post(persona, url, payload=None):
    return persona.api().post(url, payload or {}, content_type="application/json")


def test_get_is_null_when_no_timer_runs(owner):
    response = owner.api().get(URL)

    assert response.status_code == 200
    assert response.json() is None


@time_machine.travel(NOW, tick=False)
def test_get_returns_the_running_timer(owner, project):
    timer = RunningTimerFactory(
        user=owner.user,
        project=project,
        description="Proposal",
        started_at=NOW - dt.timedelta(minutes=25),
    )

    response = owner.api().get(URL)

    assert response.json() == {
        "id": str(timer.public_id),
        "project_id": str(project.public_id),
        "project_name": "Website",
        "client_id": str(project.client.public_id),
        "client_name": project.client.name,
        "description": "Proposal",
        "started_at": "2026-03-02T10:35:00+00:00",
        "elapsed_seconds": 1500,
    }


def test_session_authentication_works_for_reads(owner, project):
    RunningTimerFactory(user=owner.user, project=project)

    response = owner.client.get(URL)

    assert response.status_code == 200
    assert response.json()["project_id"] == str(project.public_id)


@time_machine.travel(NOW, tick=False)
def test_start_creates_the_timer(owner, project):
    response = post(
        owner, f"{URL}/start", {"project_id": str(project.public_id), "description": " Call "}
    )

    assert response.status_code == 201
    timer = RunningTimer.objects.get(user=owner.user)
    assert (timer.project, timer.description, timer.started_at) == (project, "Call", NOW)
    assert response.json() == {
        "id": str(timer.public_id),
        "project_id": str(project.public_id),
        "project_name": "Website",
        "client_id": str(project.client.public_id),
        "client_name": project.client.name,
        "description": "Call",
        "started_at": "2026-03-02T11:00:00+00:00",
        "elapsed_seconds": 0,
        "stopped_entry": None,
    }


def test_a_second_start_is_refused_with_a_clear_message(owner, project):
    running = RunningTimerFactory(user=owner.user, project=project)
    other = ProjectFactory(client__workspace=owner.workspace)

    response = post(owner, f"{URL}/start", {"project_id": str(other.public_id)})

    assert response.status_code == 400
    assert response.json() == {
        "message": "A timer is already running. Stop it first, or switch to the new project.",
        "errors": {},
    }
    assert list(RunningTimer.objects.values_list("pk", "project")) == [(running.pk, project.pk)]
    assert not TimeEntry.objects.exists()


def test_start_with_switch_stops_the_running_timer_first(owner, project):
    with time_machine.travel(NOW - dt.timedelta(hours=1), tick=False):
        post(owner, f"{URL}/start", {"project_id": str(project.public_id), "description": "A"})
    other = ProjectFactory(client__workspace=owner.workspace, name="Audit")

    with time_machine.travel(NOW, tick=False):
        response = post(owner, f"{URL}/start", {"project_id": str(other.public_id), "switch": True})

    assert response.status_code == 201
    body = response.json()
    assert (body["project_id"], body["started_at"]) == (
        str(other.public_id),
        "2026-03-02T11:00:00+00:00",
    )
    entry = TimeEntry.objects.get()
    assert (entry.project, entry.description, entry.duration_seconds) == (project, "A", 3600)
    assert body["stopped_entry"]["id"] == str(entry.public_id)
    assert body["stopped_entry"]["duration_seconds"] == 3600
    assert RunningTimer.objects.get().project == other


def test_start_rejects_a_strangers_project_and_starts_nothing(owner, stranger):
    strangers_project = ProjectFactory(client__workspace=stranger.workspace)

    response = post(owner, f"{URL}/start", {"project_id": str(strangers_project.public_id)})

    assert response.status_code == 400
    assert response.json()["errors"] == {"project_id": ["Project not found."]}
    assert not RunningTimer.objects.exists()


def test_start_rejects_an_archived_project(owner):
    archived = ProjectFactory(client__workspace=owner.workspace, is_archived=True)

    response = post(owner, f"{URL}/start", {"project_id": str(archived.public_id)})

    assert response.status_code == 400
    assert response.json()["errors"] == {"project_id": ["This project is archived."]}


def test_start_without_a_project_names_the_field(owner):
    response = post(owner, f"{URL}/start", {"description": "Call"})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["project_id"]


def test_stop_returns_the_created_entry(owner, project):
    with time_machine.travel(NOW - dt.timedelta(minutes=90), tick=False):
        post(owner, f"{URL}/start", {"project_id": str(project.public_id), "description": "Build"})

    with time_machine.travel(NOW, tick=False):
        response = owner.api().generic("POST", f"{URL}/stop")  # no body: stop now

    assert response.status_code == 200
    entry = TimeEntry.objects.get()
    body = response.json()
    assert body["id"] == str(entry.public_id)
    assert (body["project_id"], body["description"], body["duration_seconds"]) == (
        str(project.public_id),
        "Build",
        5400,
    )
    assert (body["started_at"], body["ended_at"]) == (
        "2026-03-02T09:30:00+00:00",
        "2026-03-02T11:00:00+00:00",
    )
    assert (body["user_email"], body["billable"], body["invoiced"], body["tags"]) == (
        owner.user.email,
        True,
        False,
        [],
    )
    assert not RunningTimer.objects.exists()
    assert owner.api().get(URL).json() is None


def test_stop_at_a_given_time(owner, project):
    RunningTimerFactory(user=owner.user, project=project, started_at=NOW - dt.timedelta(hours=2))

    response = post(owner, f"{URL}/stop", {"ended_at": "2026-03-02T11:30:00+01:00"})

    assert response.status_code == 200
    assert response.json()["ended_at"] == "2026-03-02T10:30:00+00:00"
    assert TimeEntry.objects.get().duration_seconds == 5400


def test_stop_refuses_a_naive_end_time(owner, project):
    RunningTimerFactory(user=owner.user, project=project)

    response = post(owner, f"{URL}/stop", {"ended_at": "2026-03-02T11:30:00"})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["ended_at"]
    assert RunningTimer.objects.exists()


def test_stop_without_a_running_timer_is_400(owner):
    response = post(owner, f"{URL}/stop")

    assert response.status_code == 400
    assert response.json()["message"] == "No timer is running."


def test_discard_deletes_the_timer_without_an_entry(owner, project):
    RunningTimerFactory(user=owner.user, project=project)

    response = owner.api().post(f"{URL}/discard")

    assert response.status_code == 204
    assert not RunningTimer.objects.exists()
    assert not TimeEntry.objects.exists()


def test_discard_without_a_running_timer_is_400(owner):
    response = owner.api().post(f"{URL}/discard")

    assert response.status_code == 400
    assert response.json()["message"] == "No timer is running."


def test_a_members_timer_is_their_own(owner, member, project):
    RunningTimerFactory(user=owner.user, project=project)

    assert member.api().get(URL).json() is None
    assert post(member, f"{URL}/stop").status_code == 400
    assert RunningTimer.objects.filter(user=owner.user).exists()


def test_the_stranger_cannot_see_or_stop_the_owners_timer(owner, stranger, project):
    RunningTimerFactory(user=owner.user, project=project)

    assert stranger.api().get(URL).json() is None
    assert stranger.api().post(f"{URL}/discard").status_code == 400
    assert RunningTimer.objects.filter(user=owner.user).exists()


@pytest.mark.parametrize("path", ["", "/start", "/stop", "/discard"])
def test_requests_without_a_token_are_401(db, path):
    client = DjangoClient()
    response = client.get(URL) if not path else client.post(f"{URL}{path}")

    assert response.status_code == 401


@pytest.mark.parametrize("rows", [3, 50])
def test_get_costs_two_queries_whatever_the_number_of_entries(
    owner, project, rows, django_assert_num_queries
):
    TimeEntryFactory.create_batch(rows, project=project, user=owner.user)
    RunningTimerFactory(user=owner.user, project=project)
    api = owner.api()

    # 1. API token joined with its workspace and user
    # 2. running timer joined with its project and client (not in the token query: that
    #    join cost every other API call ~2 ms of compilation)
    with django_assert_num_queries(2):
        response = api.get(URL)

    assert response.json()["project_id"] == str(project.public_id)


@pytest.mark.parametrize("rows", [3, 50])
def test_get_without_a_timer_costs_two_queries(owner, project, rows, django_assert_num_queries):
    TimeEntryFactory.create_batch(rows, project=project, user=owner.user)
    api = owner.api()

    # 1. API token joined with its workspace and user
    # 2. (no) running timer
    with django_assert_num_queries(2):
        response = api.get(URL)

    assert response.json() is None


def test_stopping_on_a_non_billable_project_gives_a_non_billable_entry(owner):
    internal = ProjectFactory(
        client__workspace=owner.workspace, billing_method=Project.BillingMethod.NON_BILLABLE
    )
    post(owner, f"{URL}/start", {"project_id": str(internal.public_id)})

    assert post(owner, f"{URL}/stop").json()["billable"] is False
