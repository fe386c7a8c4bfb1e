"""The timer endpoints: poll, start, stop, discard, switch; htmx and plain forms."""

import datetime as dt

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone

from solodesk.tests.factories import ProjectFactory, RunningTimerFactory
from solodesk.timetracking.models import RunningTimer, TimeEntry

POLL_URL = reverse("timetracking:timer_poll")
START_URL = reverse("timetracking:timer_start")
STOP_URL = reverse("timetracking:timer_stop")
DISCARD_URL = reverse("timetracking:timer_discard")
WEEK_URL = reverse("timetracking:week")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(params=["owner", "member"])
def persona(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def project(owner):
    return ProjectFactory(client__workspace=owner.workspace, client__name="Acme", name="Website")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Poll ----------------------------------------------------------------------------------


def test_poll_without_a_timer_costs_two_queries(owner, django_assert_num_queries):
    # 1 session, 2 user joined with running timer (none).
    with django_assert_num_queries(2):
        response = owner.client.get(POLL_URL, **HTMX)

    assert response.status_code == 200
    assert b"No timer running" in response.content
    assert b'id="timer"' in response.content


def test_poll_with_a_timer_costs_two_queries(owner, project, django_assert_num_queries):
    RunningTimerFactory(user=owner.user, project=project, description="Spec")

    # 1 session, 2 user joined with running timer, its project and client.
    with django_assert_num_queries(2):
        response = owner.client.get(POLL_URL, **HTMX)

    content = response.content.decode()
    assert "Website" in content
    assert "Acme" in content
    assert "Spec" in content
    assert "data-timer-started" in content
    assert response["Cache-Control"].startswith("max-age=0")


def test_poll_needs_a_login(db):
    response = DjangoClient().get(POLL_URL)

    assert response.status_code == 302


# --- Start ---------------------------------------------------------------------------------


def test_start_creates_a_timer_and_goes_back_to_next(persona):
    project = ProjectFactory(client__workspace=persona.workspace, name="Website")

    response = persona.client.post(
        START_URL,
        {"project": str(project.public_id), "description": "Spec", "next": "/time/week/?x=1"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/time/week/?x=1"
    timer = RunningTimer.objects.get()
    assert (timer.user, timer.project, timer.description) == (persona.user, project, "Spec")
    assert timer.workspace == persona.workspace


def test_start_says_so_on_the_next_page(owner, project):
    response = owner.client.post(START_URL, {"project": str(project.public_id)}, follow=True)

    assert response.redirect_chain == [(WEEK_URL, 302)]
    assert messages_of(response) == ["Timer started on Website."]
    assert b'name="switch"' in response.content


def test_start_goes_back_to_the_referer_and_never_off_site(owner, project):
    referer = owner.client.post(
        START_URL, {"project": str(project.public_id)}, HTTP_REFERER="http://testserver/clients/"
    )
    owner.client.post(DISCARD_URL)
    evil = owner.client.post(
        START_URL,
        {"project": str(project.public_id), "next": "https://evil.example/"},
        HTTP_REFERER="https://evil.example/",
    )

    assert referer["Location"] == "http://testserver/clients/"
    assert evil["Location"] == WEEK_URL


def test_start_with_htmx_returns_the_timer_partial(owner, project):
    response = owner.client.post(
        START_URL, {"project": str(project.public_id), "description": "Spec"}, **HTMX
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "timer-changed"
    content = response.content.decode()
    assert 'id="timer"' in content
    assert "Website" in content
    assert "data-timer-started" in content
    assert 'hx-swap-oob="afterbegin:main.page"' in content
    assert "Timer started on Website." in content


def test_a_second_start_without_switch_is_refused(owner, project):
    other = ProjectFactory(client=project.client, name="Other")
    RunningTimerFactory(user=owner.user, project=project)

    response = owner.client.post(START_URL, {"project": str(other.public_id)}, follow=True)

    assert messages_of(response) == [
        "A timer is already running. Stop it first, or switch to the new project."
    ]
    assert RunningTimer.objects.get().project == project
    assert not TimeEntry.objects.exists()


def test_a_second_start_with_htmx_shows_the_error_and_the_running_timer(owner, project):
    other = ProjectFactory(client=project.client, name="Other")
    RunningTimerFactory(user=owner.user, project=project)

    response = owner.client.post(START_URL, {"project": str(other.public_id)}, **HTMX)

    content = response.content.decode()
    assert response.status_code == 200
    assert "HX-Trigger" not in response.headers
    assert "A timer is already running" in content
    assert "message error" in content
    assert "Website" in content
    assert RunningTimer.objects.get().project == project


def test_switch_stops_the_running_timer_and_starts_the_new_one(owner, project):
    other = ProjectFactory(client=project.client, name="Other")
    RunningTimerFactory(
        user=owner.user, project=project, started_at=timezone.now() - dt.timedelta(minutes=30)
    )

    response = owner.client.post(
        START_URL, {"project": str(other.public_id), "switch": "1"}, follow=True
    )

    entry = TimeEntry.objects.get()
    assert entry.project == project
    assert 29 * 60 <= entry.duration_seconds <= 31 * 60
    assert RunningTimer.objects.get().project == other
    assert messages_of(response) == ["Saved 0:30 on Website. Timer started on Other."]


def test_start_refuses_another_workspaces_project(owner, stranger):
    theirs = ProjectFactory(client__workspace=stranger.workspace)

    response = owner.client.post(START_URL, {"project": str(theirs.public_id)}, follow=True)

    assert messages_of(response) == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert not RunningTimer.objects.exists()


def test_start_is_post_only(owner):
    assert owner.client.get(START_URL).status_code == 405


# --- Stop ----------------------------------------------------------------------------------


def test_stop_creates_the_entry(persona):
    project = ProjectFactory(client__workspace=persona.workspace, name="Website")
    RunningTimerFactory(
        user=persona.user,
        project=project,
        description="Spec",
        started_at=timezone.now() - dt.timedelta(minutes=42),
    )

    response = persona.client.post(STOP_URL, follow=True)

    entry = TimeEntry.objects.get()
    assert (entry.user, entry.project, entry.description) == (persona.user, project, "Spec")
    assert 42 * 60 <= entry.duration_seconds <= 43 * 60
    assert not RunningTimer.objects.exists()
    assert messages_of(response) == ["Saved 0:42 on Website."]
    assert b"No timer running" in response.content


def test_stop_with_htmx_returns_the_idle_timer(owner, project):
    RunningTimerFactory(user=owner.user, project=project)

    response = owner.client.post(STOP_URL, **HTMX)

    assert response.status_code == 200
    assert b"No timer running" in response.content
    assert TimeEntry.objects.count() == 1


def test_stop_at_a_chosen_time_in_the_workspace_time_zone(owner, project):
    started = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)  # 09:00 in Brussels
    RunningTimerFactory(user=owner.user, project=project, started_at=started)

    owner.client.post(STOP_URL, {"ended_at": "2026-03-02T17:30"})

    entry = TimeEntry.objects.get()
    assert entry.ended_at == dt.datetime(2026, 3, 2, 16, 30, tzinfo=dt.UTC)
    assert entry.duration_seconds == 8 * 3600 + 30 * 60


def test_stop_after_more_than_a_day_asks_for_the_time(owner, project):
    RunningTimerFactory(
        user=owner.user, project=project, started_at=timezone.now() - dt.timedelta(hours=30)
    )

    response = owner.client.post(STOP_URL)

    assert response["Location"] == f"{WEEK_URL}#stop-timer"
    assert RunningTimer.objects.exists()
    assert not TimeEntry.objects.exists()


def test_stop_refuses_an_unreadable_time(owner, project):
    RunningTimerFactory(user=owner.user, project=project)

    response = owner.client.post(STOP_URL, {"ended_at": "soon"}, follow=True)

    assert messages_of(response) == ["Write the time you stopped as a date and a time."]
    assert RunningTimer.objects.exists()
    assert not TimeEntry.objects.exists()


def test_stop_without_a_timer_says_so(owner):
    response = owner.client.post(STOP_URL, follow=True)

    assert messages_of(response) == ["No timer is running."]
    assert not TimeEntry.objects.exists()


def test_stop_and_discard_touch_only_my_own_timer(owner, member, project):
    RunningTimerFactory(user=owner.user, project=project)

    member.client.post(STOP_URL)
    member.client.post(DISCARD_URL)

    assert RunningTimer.objects.get().user == owner.user
    assert not TimeEntry.objects.exists()


# --- Discard -------------------------------------------------------------------------------


def test_discard_removes_the_timer_without_an_entry(persona):
    project = ProjectFactory(client__workspace=persona.workspace)
    RunningTimerFactory(user=persona.user, project=project)

    response = persona.client.post(DISCARD_URL, follow=True)

    assert not RunningTimer.objects.exists()
    assert not TimeEntry.objects.exists()
    assert messages_of(response) == ["Timer discarded."]


def test_discard_with_htmx_returns_the_idle_timer(owner, project):
    RunningTimerFactory(user=owner.user, project=project)

    response = owner.client.post(DISCARD_URL, **HTMX)

    assert b"No timer running" in response.content
    assert b"Timer discarded." in response.content


def test_discard_without_a_timer_says_so(owner):
    response = owner.client.post(DISCARD_URL, follow=True)

    assert messages_of(response) == ["No timer is running."]
