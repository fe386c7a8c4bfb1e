import datetime as dt

import pytest
from django.utils import timezone

from solodesk.core.exceptions import ApplicationError
from solodesk.tests.factories import ProjectFactory, RunningTimerFactory
from solodesk.timetracking.models import RunningTimer, TimeEntry
from solodesk.timetracking.services import (
    span_from_date_and_duration,
    time_entry_create,
    time_entry_update,
    timer_discard,
    timer_start,
    timer_stop,
)

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def project(owner):
    return ProjectFactory(client__workspace=owner.workspace)


def test_create_stores_duration_and_tags(owner, project):
    entry = time_entry_create(
        workspace=owner.workspace,
        user=owner.user,
        project=project,
        started_at=START,
        ended_at=START + dt.timedelta(hours=2, minutes=15),
        description="  Kick-off  ",
        tags=["meeting", "Meeting", " design "],
    )
    assert entry.duration_seconds == 8100
    assert entry.description == "Kick-off"
    assert sorted(t.name for t in entry.tags.all()) == ["design", "meeting"]


def test_create_rejects_an_end_before_the_start(owner, project):
    with pytest.raises(ApplicationError) as error:
        time_entry_create(
            workspace=owner.workspace,
            user=owner.user,
            project=project,
            started_at=START,
            ended_at=START - dt.timedelta(minutes=1),
        )
    assert error.value.errors == {"ended_at": ["The end must be after the start."]}
    assert TimeEntry.objects.count() == 0


def test_create_rejects_more_than_24_hours(owner, project):
    with pytest.raises(ApplicationError) as error:
        time_entry_create(
            workspace=owner.workspace,
            user=owner.user,
            project=project,
            started_at=START,
            ended_at=START + dt.timedelta(hours=24, seconds=1),
        )
    assert "24 hours" in error.value.errors["ended_at"][0]
    assert TimeEntry.objects.count() == 0


def test_create_accepts_exactly_24_hours(owner, project):
    entry = time_entry_create(
        workspace=owner.workspace,
        user=owner.user,
        project=project,
        started_at=START,
        ended_at=START + dt.timedelta(hours=24),
    )
    assert entry.duration_seconds == 86400


def test_create_rejects_another_workspaces_project(owner, stranger):
    strangers_project = ProjectFactory(client__workspace=stranger.workspace)
    with pytest.raises(ApplicationError) as error:
        time_entry_create(
            workspace=owner.workspace,
            user=owner.user,
            project=strangers_project,
            started_at=START,
            ended_at=START + dt.timedelta(hours=1),
        )
    assert error.value.errors == {"project_id": ["Project not found."]}
    assert TimeEntry.objects.count() == 0


def test_non_billable_project_makes_non_billable_entries(owner):
    project = ProjectFactory(client__workspace=owner.workspace, billing_method="non_billable")
    entry = time_entry_create(
        workspace=owner.workspace,
        user=owner.user,
        project=project,
        started_at=START,
        ended_at=START + dt.timedelta(hours=1),
    )
    assert entry.is_billable is False


def test_date_and_duration_start_at_nine_in_the_workspace_time_zone(owner):
    owner.workspace.time_zone = "Europe/Brussels"
    started, ended = span_from_date_and_duration(
        workspace=owner.workspace,
        date=dt.date(2026, 7, 1),
        duration=dt.timedelta(hours=1, minutes=30),
        start_time=None,
    )
    assert started == dt.datetime(2026, 7, 1, 7, 0, tzinfo=dt.UTC)
    assert ended - started == dt.timedelta(minutes=90)


def test_update_rechecks_the_rules(owner, project):
    entry = time_entry_create(
        workspace=owner.workspace,
        user=owner.user,
        project=project,
        started_at=START,
        ended_at=START + dt.timedelta(hours=1),
    )
    with pytest.raises(ApplicationError):
        time_entry_update(entry=entry, ended_at=START - dt.timedelta(hours=1))
    entry.refresh_from_db()
    assert entry.duration_seconds == 3600


def test_timer_start_then_stop_creates_one_entry(owner, project):
    timer, stopped = timer_start(
        workspace=owner.workspace, user=owner.user, project=project, description="Spec"
    )
    assert stopped is None
    entry = timer_stop(user=owner.user, ended_at=timer.started_at + dt.timedelta(minutes=42))
    assert entry.duration_seconds == 42 * 60
    assert entry.description == "Spec"
    assert entry.project == project
    assert not RunningTimer.objects.exists()


def test_timer_refuses_a_second_timer(owner, project):
    timer_start(workspace=owner.workspace, user=owner.user, project=project)
    with pytest.raises(ApplicationError, match="already running"):
        timer_start(workspace=owner.workspace, user=owner.user, project=project)
    assert RunningTimer.objects.count() == 1
    assert TimeEntry.objects.count() == 0


def test_timer_switch_stops_the_old_one_and_starts_the_new(owner, project):
    other = ProjectFactory(client=project.client, workspace=owner.workspace)
    RunningTimerFactory(
        user=owner.user, project=project, started_at=timezone.now() - dt.timedelta(minutes=30)
    )
    timer, stopped = timer_start(
        workspace=owner.workspace, user=owner.user, project=other, switch=True
    )
    assert timer.project == other
    assert stopped is not None and stopped.project == project
    assert 29 * 60 <= stopped.duration_seconds <= 31 * 60
    assert RunningTimer.objects.get().project == other


def test_timer_is_per_user(owner, member, project):
    timer_start(workspace=owner.workspace, user=owner.user, project=project)
    timer_start(workspace=member.workspace, user=member.user, project=project)
    assert RunningTimer.objects.count() == 2


def test_timer_stop_without_timer_is_an_error(owner):
    with pytest.raises(ApplicationError, match="No timer is running"):
        timer_stop(user=owner.user)


def test_timer_over_24_hours_must_be_stopped_at_a_chosen_time(owner, project):
    timer = RunningTimerFactory(
        user=owner.user, project=project, started_at=timezone.now() - dt.timedelta(hours=30)
    )
    with pytest.raises(ApplicationError, match="more than 24 hours"):
        timer_stop(user=owner.user)
    assert RunningTimer.objects.exists()
    entry = timer_stop(user=owner.user, ended_at=timer.started_at + dt.timedelta(hours=8))
    assert entry.duration_seconds == 8 * 3600


def test_timer_discard_removes_it_without_an_entry(owner, project):
    RunningTimerFactory(user=owner.user, project=project)
    timer_discard(user=owner.user)
    assert not RunningTimer.objects.exists()
    assert not TimeEntry.objects.exists()


def test_timer_rejects_another_workspaces_project(owner, stranger):
    strangers_project = ProjectFactory(client__workspace=stranger.workspace)
    with pytest.raises(ApplicationError):
        timer_start(workspace=owner.workspace, user=owner.user, project=strangers_project)
    assert not RunningTimer.objects.exists()
