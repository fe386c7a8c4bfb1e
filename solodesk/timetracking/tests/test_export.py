"""The CSV export and its task, called in-process with a job id (the end-to-end run with a
real worker is in tests/integration/test_jobs_with_worker.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from solodesk.core.models import Job
from solodesk.core.services import job_claim, job_set_progress
from solodesk.tests.factories import ProjectFactory, TimeEntryFactory
from solodesk.timetracking.export import EXPORT_COLUMNS, time_entries_export_run
from solodesk.timetracking.services import time_entries_export_start
from solodesk.timetracking.tasks import time_entries_export_task

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def project(owner):
    return ProjectFactory(client__workspace=owner.workspace)


def _entries(owner, project, count: int, *, same_start_every: int = 1) -> list:
    """`count` entries; every `same_start_every` consecutive ones share a start time, so
    chunk boundaries fall between entries that only the pk orders."""
    return [
        TimeEntryFactory(
            project=project,
            user=owner.user,
            started_at=START + dt.timedelta(hours=index // same_start_every),
            ended_at=START + dt.timedelta(hours=index // same_start_every, minutes=30),
        )
        for index in range(count)
    ]


def _queued_job(owner, params: dict[str, str] | None = None) -> Job:
    return time_entries_export_start(
        workspace=owner.workspace, user=owner.user, filters_params=params or {}
    )


def _running_job(owner, params: dict[str, str] | None = None) -> Job:
    job = job_claim(job_id=_queued_job(owner, params).pk)
    assert job is not None
    return job


def _csv(job: Job) -> list[list[str]]:
    with job.result_file.open("rb") as file:
        return list(csv.reader(io.StringIO(file.read().decode(), newline="")))


def test_export_writes_every_entry_once_in_time_order_across_chunks(owner, project, stranger):
    entries = _entries(owner, project, 7, same_start_every=3)
    TimeEntryFactory(project=ProjectFactory(client__workspace=stranger.workspace))

    job = time_entries_export_run(job=_running_job(owner), chunk_size=2)

    rows = _csv(job)
    assert rows[0] == EXPORT_COLUMNS
    expected = sorted(entries, key=lambda entry: (entry.started_at, entry.pk))
    assert [row[0] for row in rows[1:]] == [str(entry.public_id) for entry in expected]


def test_export_applies_the_jobs_filters(owner, project):
    other_project = ProjectFactory(client__workspace=owner.workspace)
    kept = TimeEntryFactory(project=project, user=owner.user, started_at=START)
    TimeEntryFactory(project=other_project, user=owner.user, started_at=START)
    TimeEntryFactory(project=project, user=owner.user, started_at=START - dt.timedelta(days=30))

    job = time_entries_export_run(
        job=_running_job(
            owner, {"project_id": str(project.public_id), "date_from": START.date().isoformat()}
        )
    )

    assert [row[0] for row in _csv(job)[1:]] == [str(kept.public_id)]


def test_export_reports_progress_after_each_chunk(owner, project):
    _entries(owner, project, 5)
    job = _running_job(owner)

    with mock.patch(
        "solodesk.timetracking.export.job_set_progress", wraps=job_set_progress
    ) as progress:
        job = time_entries_export_run(job=job, chunk_size=2)

    assert [call.kwargs["progress"] for call in progress.call_args_list] == [40, 80, 99]
    assert (job.status, job.progress) == (Job.Status.SUCCEEDED, 100)


def test_export_of_nothing_is_a_file_with_only_the_header(owner):
    job = time_entries_export_run(job=_running_job(owner))

    assert _csv(job) == [EXPORT_COLUMNS]
    assert job.status == Job.Status.SUCCEEDED


@pytest.mark.parametrize("count", [3, 50])
def test_export_query_count_does_not_grow_with_the_entries(
    owner, project, count, django_assert_num_queries
):
    _entries(owner, project, count)
    for entry in owner.user.time_entries.all()[:2]:
        entry.tags.create(workspace=owner.workspace, name=f"tag-{entry.pk}")
    job = _running_job(owner)

    # count, the entries (+ project, client, user), their tag names, progress, the result,
    # the job read back
    with django_assert_num_queries(6):
        time_entries_export_run(job=job)


def test_task_runs_a_queued_job_and_does_nothing_when_delivered_again(owner, project):
    _entries(owner, project, 2)
    job = _queued_job(owner)

    time_entries_export_task(job.pk)
    job.refresh_from_db()
    finished = Job.objects.values().get(pk=job.pk)
    time_entries_export_task(job.pk)

    assert (job.status, job.attempts, len(_csv(job))) == (Job.Status.SUCCEEDED, 1, 3)
    assert Job.objects.values().get(pk=job.pk) == finished
    assert job.result_file.storage.listdir(f"jobs/{job.public_id}") == ([], [job.result_name])


def test_task_leaves_a_job_alone_while_its_worker_is_alive(owner):
    job = _running_job(owner)  # claimed a moment ago: its heartbeat is fresh
    before = Job.objects.values().get(pk=job.pk)

    time_entries_export_task(job.pk)

    assert Job.objects.values().get(pk=job.pk) == before


def test_task_takes_over_a_job_whose_worker_stopped_beating(owner, project):
    _entries(owner, project, 1)
    job = _running_job(owner)
    Job.objects.filter(pk=job.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=5))

    time_entries_export_task(job.pk)

    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.SUCCEEDED, 2)


def test_task_for_a_deleted_job_does_nothing(owner):
    job = _queued_job(owner)
    job_id = job.pk
    job.delete()

    time_entries_export_task(job_id)

    assert Job.objects.count() == 0


def test_task_marks_the_job_failed_when_the_export_breaks(owner):
    job = _queued_job(owner)

    with (
        mock.patch(
            "solodesk.timetracking.tasks.time_entries_export_run",
            side_effect=RuntimeError("disk full"),
        ),
        pytest.raises(RuntimeError),
    ):
        time_entries_export_task(job.pk)

    job.refresh_from_db()
    assert (job.status, job.error) == (
        Job.Status.FAILED,
        "The export failed unexpectedly. Try again.",
    )
    assert job.finished_at is not None


def test_task_marks_the_job_failed_when_it_runs_out_of_time(owner):
    job = _queued_job(owner)

    with mock.patch(
        "solodesk.timetracking.tasks.time_entries_export_run",
        side_effect=SoftTimeLimitExceeded(),
    ):
        time_entries_export_task(job.pk)

    job.refresh_from_db()
    assert (job.status, job.error) == (
        Job.Status.FAILED,
        "The export took too long. Narrow the date range.",
    )
