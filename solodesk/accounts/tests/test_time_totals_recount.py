"""A change of the workspace's time zone recounts the daily and monthly time totals in a
Job run by a worker (decision 0007): queued after commit, idempotent, shown on the settings
page, and exact while entries are written before, during and after it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict

import pytest
from django.db import connection
from django.urls import reverse

from solodesk.accounts.models import Workspace
from solodesk.accounts.services import TIME_TOTALS_RECOUNT_TASK, workspace_update
from solodesk.accounts.tasks import time_totals_recount_task
from solodesk.core.models import Job
from solodesk.tests.factories import ProjectFactory
from solodesk.tests.threads import in_thread
from solodesk.timetracking import services as timetracking
from solodesk.timetracking.models import RunningTimer, TimeEntry, TimeEntryDay, TimeEntryMonth
from solodesk.timetracking.services import (
    time_entry_create,
    time_entry_delete,
    time_entry_update,
)

URL = reverse("workspace_settings")
# 22:30 UTC: 23:30 in Brussels (the owner's workspace), 07:30 the next day in Tokyo, and
# on 31 March the last day of a month in UTC but the first of the next in Tokyo.
LATE = dt.datetime(2026, 3, 31, 22, 30, tzinfo=dt.UTC)
FORM = {
    "name": "Owner Studio",
    "address": "",
    "tax_id": "",
    "default_currency": "EUR",
    "time_zone": "Asia/Tokyo",
    "payment_terms_days": "30",
    "payment_details": "",
    "invoice_number_format": "{year}-{seq:04d}",
    "credit_note_number_format": "CN-{year}-{seq:04d}",
    "time_rounding_mode": "none",
    "time_rounding_minutes": "1",
    "time_rounding_scope": "entry",
}


@pytest.fixture
def broker(monkeypatch):
    """Stands in for the broker: records what would have been sent, after commit."""
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(
        "solodesk.core.services._send_to_broker",
        lambda job_id, task_name, countdown=None: sent.append((job_id, task_name)),
    )
    return sent


def expected(workspace_id: int) -> tuple[dict, dict]:
    """The daily and monthly totals recounted from the raw entries, in the time zone the
    database holds now."""
    tzinfo = Workspace.objects.get(pk=workspace_id).tzinfo
    days: dict = defaultdict(lambda: [0, 0, 0])
    months: dict = defaultdict(lambda: [0, 0, 0])
    for entry in TimeEntry.objects.filter(workspace_id=workspace_id):
        local = entry.started_at.astimezone(tzinfo).date()
        billable = entry.duration_seconds if entry.is_billable else 0
        for row in (days[entry.user_id, local], months[entry.project_id, local.replace(day=1)]):
            row[0] += 1
            row[1] += entry.duration_seconds
            row[2] += billable
    return (
        {key: tuple(value) for key, value in days.items()},
        {key: tuple(value) for key, value in months.items()},
    )


def stored(workspace_id: int) -> tuple[dict, dict]:
    days = {
        (row.user_id, row.day): (row.entries, row.seconds, row.billable_seconds)
        for row in TimeEntryDay.objects.filter(workspace_id=workspace_id)
        if (row.entries, row.seconds, row.billable_seconds) != (0, 0, 0)
    }
    months = {
        (row.project_id, row.month): (row.entries, row.seconds, row.billable_seconds)
        for row in TimeEntryMonth.objects.filter(workspace_id=workspace_id)
        if (row.entries, row.seconds, row.billable_seconds) != (0, 0, 0)
    }
    return days, months


def create(workspace, user, project, started_at: dt.datetime, minutes: int = 60) -> TimeEntry:
    return time_entry_create(
        workspace=workspace,
        user=user,
        project=project,
        started_at=started_at,
        ended_at=started_at + dt.timedelta(minutes=minutes),
        is_billable=True,
    )


def recount_jobs(workspace) -> list[Job]:
    return list(
        Job.objects.filter(workspace=workspace, kind=Job.Kind.TIME_TOTALS_RECOUNT).order_by("pk")
    )


@pytest.fixture
def project(owner):
    return ProjectFactory(client__workspace=owner.workspace)


# --- the service ------------------------------------------------------------------------


def test_a_time_zone_change_queues_the_recount_after_commit_and_leaves_the_totals(
    owner, project, broker, django_capture_on_commit_callbacks
):
    workspace = owner.workspace  # Europe/Brussels
    create(workspace, owner.user, project, LATE)
    in_brussels = stored(workspace.pk)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        workspace_update(workspace=workspace, user=owner.user, time_zone="Asia/Tokyo")
        assert broker == []  # nothing reaches the broker before the commit

    (job,) = recount_jobs(workspace)
    assert (job.owner, job.status, job.task_name, job.params) == (
        owner.user,
        Job.Status.QUEUED,
        TIME_TOTALS_RECOUNT_TASK,
        {"time_zone_from": "Europe/Brussels", "time_zone_to": "Asia/Tokyo"},
    )
    assert stored(workspace.pk) == in_brussels  # not recounted in the request
    assert len(callbacks) == 1
    callbacks[0]()
    assert broker == [(job.pk, TIME_TOTALS_RECOUNT_TASK)]

    time_totals_recount_task(job.pk)

    job.refresh_from_db()
    assert (job.status, job.progress, job.error) == (Job.Status.SUCCEEDED, 100, "")
    days, months = stored(workspace.pk)
    assert days == {(owner.user.pk, dt.date(2026, 4, 1)): (1, 3600, 3600)}
    assert months == {(project.pk, dt.date(2026, 4, 1)): (1, 3600, 3600)}
    assert stored(workspace.pk) == expected(workspace.pk)


def test_other_changes_queue_no_recount(owner, broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        workspace_update(workspace=owner.workspace, user=owner.user, name="Renamed")

    assert recount_jobs(owner.workspace) == []
    assert broker == []


def test_without_a_user_the_job_is_the_workspace_owners(owner, member):
    workspace_update(workspace=owner.workspace, time_zone="UTC")

    assert [job.owner for job in recount_jobs(owner.workspace)] == [owner.user]


# --- the task -------------------------------------------------------------------------


def test_the_recount_counts_in_the_latest_zone_and_running_it_again_changes_nothing(owner, project):
    workspace = owner.workspace
    create(workspace, owner.user, project, LATE)
    create(workspace, owner.user, project, LATE - dt.timedelta(days=40), minutes=30)
    workspace_update(workspace=workspace, user=owner.user, time_zone="UTC")
    workspace_update(workspace=workspace, user=owner.user, time_zone="Asia/Tokyo")
    first, second = recount_jobs(workspace)

    time_totals_recount_task(first.pk)  # the older change's job counts in the newer zone

    assert stored(workspace.pk) == expected(workspace.pk)
    assert (owner.user.pk, dt.date(2026, 4, 1)) in stored(workspace.pk)[0]
    after_first = stored(workspace.pk)
    time_totals_recount_task(second.pk)
    time_totals_recount_task(first.pk)  # a duplicate delivery: finished, nothing to do
    time_totals_recount_task(second.pk)
    assert stored(workspace.pk) == after_first
    assert [(job.status, job.attempts) for job in recount_jobs(workspace)] == [
        (Job.Status.SUCCEEDED, 1),
        (Job.Status.SUCCEEDED, 1),
    ]


def test_a_job_left_running_by_a_dead_worker_recounts_again_to_the_same_rows(
    owner, project, settings
):
    workspace = owner.workspace
    create(workspace, owner.user, project, LATE)
    workspace_update(workspace=workspace, user=owner.user, time_zone="Asia/Tokyo")
    (job,) = recount_jobs(workspace)
    time_totals_recount_task(job.pk)
    recounted = stored(workspace.pk)
    # The worker died after the commit, before the job was marked: running, stale heartbeat.
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )

    time_totals_recount_task(job.pk)

    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.SUCCEEDED, 2)
    assert stored(workspace.pk) == recounted == expected(workspace.pk)


def test_entries_written_while_the_recount_is_queued_are_counted(owner, member, project):
    workspace = owner.workspace
    kept = create(workspace, owner.user, project, LATE)
    moved = create(workspace, member.user, project, LATE - dt.timedelta(hours=2))
    deleted = create(workspace, owner.user, project, LATE + dt.timedelta(hours=3))
    workspace_update(workspace=workspace, user=owner.user, time_zone="Asia/Tokyo")
    (job,) = recount_jobs(workspace)

    # Written before the worker runs: added in the new zone to totals still in the old one.
    create(workspace, member.user, project, LATE + dt.timedelta(minutes=10), minutes=15)
    time_entry_update(entry=moved, started_at=LATE, ended_at=LATE + dt.timedelta(minutes=5))
    time_entry_delete(entry=deleted)
    time_totals_recount_task(job.pk)

    assert stored(workspace.pk) == expected(workspace.pk)
    assert TimeEntry.objects.filter(pk=kept.pk).exists()
    # …and after it, on the recounted totals.
    time_entry_update(entry=kept, started_at=LATE - dt.timedelta(days=1), ended_at=LATE)
    assert stored(workspace.pk) == expected(workspace.pk)


def test_a_writer_holding_the_workspace_from_before_the_change_counts_in_the_new_zone(
    owner, project
):
    workspace = owner.workspace
    loaded_before = Workspace.objects.get(pk=workspace.pk)  # Europe/Brussels
    workspace_update(workspace=workspace, user=owner.user, time_zone="Asia/Tokyo")
    time_totals_recount_task(recount_jobs(workspace)[0].pk)

    create(loaded_before, owner.user, project, LATE)  # its request began before the change

    assert stored(workspace.pk)[0] == {(owner.user.pk, dt.date(2026, 4, 1)): (1, 3600, 3600)}
    assert stored(workspace.pk) == expected(workspace.pk)


def test_a_failed_recount_marks_the_job_failed_with_what_to_do(owner, monkeypatch):
    workspace_update(workspace=owner.workspace, user=owner.user, time_zone="Asia/Tokyo")
    (job,) = recount_jobs(owner.workspace)

    def fail(*, workspace: Workspace) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(timetracking, "time_entry_days_rebuild", fail)
    with pytest.raises(RuntimeError):
        time_totals_recount_task(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == (
        "Recounting the time totals failed. The dashboard and reports may show hours on "
        "the old time zone's days: use “Recount now” to try again."
    )
    assert Workspace.objects.get(pk=owner.workspace.pk).time_zone == "Asia/Tokyo"


# --- concurrency: a write and a recount of the same workspace at the same moment ----------


def _pause_after_the_lock(monkeypatch, *, pause_recount: bool):
    """Hold the first caller that takes the workspace lock just after it got the lock,
    until the test lets it go: the recount (`_time_zones_locked` FOR NO KEY UPDATE), or an
    entry write, which takes it FOR SHARE with its project's lookup (`_project_locked`)."""
    locked, release = threading.Event(), threading.Event()

    def pause() -> None:
        if not locked.is_set():
            locked.set()
            assert release.wait(20)

    if pause_recount:
        original = timetracking._time_zones_locked

        def paused(workspace_ids, *, for_rebuild: bool = False):
            zones = original(workspace_ids, for_rebuild=for_rebuild)
            if for_rebuild:
                pause()
            return zones

        monkeypatch.setattr(timetracking, "_time_zones_locked", paused)
    else:
        original_project = timetracking._project_locked

        def paused_project(**kwargs):
            project = original_project(**kwargs)
            pause()
            return project

        monkeypatch.setattr(timetracking, "_project_locked", paused_project)
    return locked, release


@pytest.mark.django_db(transaction=True)
def test_an_entry_written_while_the_recount_runs_waits_for_it_and_is_counted(
    owner, project, monkeypatch, broker
):
    workspace = owner.workspace
    create(workspace, owner.user, project, LATE)
    workspace_update(workspace=workspace, user=owner.user, time_zone="Asia/Tokyo")
    (job,) = recount_jobs(workspace)
    locked, release = _pause_after_the_lock(monkeypatch, pause_recount=True)
    errors: list[BaseException] = []

    recount = in_thread(lambda: time_totals_recount_task(job.pk), errors)
    assert locked.wait(20)  # the recount holds the lock and has read nothing yet
    writer = in_thread(
        lambda: create(workspace, owner.user, project, LATE + dt.timedelta(hours=1)), errors
    )
    time.sleep(0.5)
    assert writer.is_alive()  # waiting for the recount's transaction
    release.set()
    recount.join(30)
    writer.join(30)

    assert errors == []
    assert TimeEntry.objects.filter(workspace=workspace).count() == 2
    assert stored(workspace.pk) == expected(workspace.pk)
    assert stored(workspace.pk)[0] == {(owner.user.pk, dt.date(2026, 4, 1)): (2, 7200, 7200)}


@pytest.mark.django_db(transaction=True)
def test_a_recount_started_during_an_entry_write_waits_for_it_and_counts_it(
    owner, project, monkeypatch, broker
):
    workspace = owner.workspace
    workspace_update(workspace=workspace, user=owner.user, time_zone="Asia/Tokyo")
    (job,) = recount_jobs(workspace)
    locked, release = _pause_after_the_lock(monkeypatch, pause_recount=False)
    errors: list[BaseException] = []

    writer = in_thread(lambda: create(workspace, owner.user, project, LATE), errors)
    assert locked.wait(20)  # the workspace is locked with the project, the entry not written
    recount = in_thread(lambda: time_totals_recount_task(job.pk), errors)
    time.sleep(0.5)
    assert recount.is_alive()  # waiting for the write's transaction
    release.set()
    writer.join(30)
    recount.join(30)

    assert errors == []
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
    assert stored(workspace.pk) == expected(workspace.pk)
    assert stored(workspace.pk)[0] == {(owner.user.pk, dt.date(2026, 4, 1)): (1, 3600, 3600)}


@pytest.mark.django_db(transaction=True)
def test_a_timer_stopped_while_the_recount_runs_waits_for_it_and_is_counted(
    owner, project, monkeypatch, broker
):
    # The stop takes the workspace lock with its timer (`_locked_timer`), not in a query
    # of its own: it must still wait for the recount.
    workspace = owner.workspace
    timetracking.timer_start(workspace=workspace, user=owner.user, project=project)
    RunningTimer.objects.filter(user=owner.user).update(started_at=LATE)
    workspace_update(workspace=workspace, user=owner.user, time_zone="Asia/Tokyo")
    (job,) = recount_jobs(workspace)
    locked, release = _pause_after_the_lock(monkeypatch, pause_recount=True)
    errors: list[BaseException] = []

    recount = in_thread(lambda: time_totals_recount_task(job.pk), errors)
    assert locked.wait(20)
    stopper = in_thread(
        lambda: timetracking.timer_stop(user=owner.user, ended_at=LATE + dt.timedelta(hours=1)),
        errors,
    )
    time.sleep(0.5)
    assert stopper.is_alive()  # waiting for the recount's transaction
    release.set()
    recount.join(30)
    stopper.join(30)

    assert errors == []
    assert stored(workspace.pk) == expected(workspace.pk)
    assert stored(workspace.pk)[0] == {(owner.user.pk, dt.date(2026, 4, 1)): (1, 3600, 3600)}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serializes every writer (BEGIN IMMEDIATE)"
)
@pytest.mark.django_db(transaction=True)
def test_entry_writers_of_a_workspace_share_its_lock(owner, member, project, monkeypatch):
    # FOR SHARE, not FOR UPDATE: a write holding the workspace row does not hold up another
    # write of the same workspace, only a recount.
    workspace = owner.workspace
    locked, release = _pause_after_the_lock(monkeypatch, pause_recount=False)
    errors: list[BaseException] = []

    first = in_thread(lambda: create(workspace, owner.user, project, LATE), errors)
    assert locked.wait(20)  # the first writer holds the workspace row
    second = in_thread(
        lambda: create(workspace, member.user, project, LATE + dt.timedelta(hours=2)), errors
    )
    second.join(10)
    assert not second.is_alive()  # done while the first still holds its lock
    release.set()
    first.join(30)

    assert errors == []
    assert TimeEntry.objects.filter(workspace=workspace).count() == 2
    assert stored(workspace.pk) == expected(workspace.pk)


# --- the settings page --------------------------------------------------------------------


def test_the_settings_page_says_the_totals_are_being_recounted(
    owner, broker, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.client.post(URL, FORM)
    assert response.status_code == 302
    (job,) = recount_jobs(owner.workspace)
    assert broker == [(job.pk, TIME_TOTALS_RECOUNT_TASK)]

    # 1 session, 2 user with the running timer, 3 membership with workspace, 4 the latest
    # recount job
    with django_assert_num_queries(4):
        response = owner.client.get(URL)

    html = response.content.decode()
    assert response.context["recount_job"] == job
    assert 'data-testid="time-totals-recount"' in html
    assert "Recounting time totals…" in html
    assert "The time zone is now Asia/Tokyo." in html
    assert "previous time zone (Europe/Brussels)" in html
    assert f'hx-get="{reverse("core:job_progress", args=[job.public_id])}"' in html
    assert "Queued · 0%" in html

    time_totals_recount_task(job.pk)
    response = owner.client.get(URL)
    assert response.context["recount_job"] is None
    assert 'data-testid="time-totals-recount"' not in response.content.decode()


def test_a_member_sees_the_recount_without_polling_a_job_that_is_not_theirs(owner, member):
    workspace_update(workspace=owner.workspace, user=owner.user, time_zone="Asia/Tokyo")

    html = member.client.get(URL).content.decode()

    assert "Recounting time totals…" in html
    assert "/jobs/" not in html  # core:job_progress shows a job to its owner only
    assert '<p class="muted" role="status">Queued</p>' in html


def test_a_stranger_does_not_see_another_workspaces_recount(owner, stranger):
    workspace_update(workspace=owner.workspace, user=owner.user, time_zone="Asia/Tokyo")

    response = stranger.client.get(URL)

    assert response.context["recount_job"] is None
    assert "Recounting" not in response.content.decode()


def test_a_failed_recount_shows_its_error_and_the_owner_can_recount_again(
    owner, member, broker, django_capture_on_commit_callbacks
):
    workspace_update(workspace=owner.workspace, user=owner.user, time_zone="Asia/Tokyo")
    (failed,) = recount_jobs(owner.workspace)
    Job.objects.filter(pk=failed.pk).update(status=Job.Status.FAILED, error="It broke.")

    html = owner.client.get(URL).content.decode()
    assert "Time totals not recounted" in html
    assert "It broke." in html
    assert 'name="recount_time_totals"' in html
    assert 'name="recount_time_totals"' not in member.client.get(URL).content.decode()
    assert member.client.post(URL, {"recount_time_totals": "1"}).status_code == 404
    assert len(recount_jobs(owner.workspace)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = owner.client.post(URL, {"recount_time_totals": "1"})

    assert response.status_code == 302
    _failed, again = recount_jobs(owner.workspace)
    assert (again.status, again.owner, again.params) == (
        Job.Status.QUEUED,
        owner.user,
        {"time_zone_from": "Asia/Tokyo", "time_zone_to": "Asia/Tokyo"},
    )
    assert broker == [(again.pk, TIME_TOTALS_RECOUNT_TASK)]
    assert "Recounting time totals…" in owner.client.get(URL).content.decode()


def test_a_bad_time_zone_is_a_form_error_and_nothing_changes(owner, project, broker):
    create(owner.workspace, owner.user, project, LATE)
    totals = stored(owner.workspace.pk)

    response = owner.client.post(URL, {**FORM, "time_zone": "Mars/Olympus"})

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "time_zone": ["Select a valid choice. Mars/Olympus is not one of the available choices."]
    }
    assert Workspace.objects.get(pk=owner.workspace.pk).time_zone == "Europe/Brussels"
    assert recount_jobs(owner.workspace) == []
    assert broker == []
    assert stored(owner.workspace.pk) == totals
