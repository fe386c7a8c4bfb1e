"""Export jobs end to end: the job row is committed, the message goes through the real
broker, a real worker process runs the task and writes the file to shared storage."""

from __future__ import annotations

import datetime as dt
import logging
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from solodesk.config.celery_app import app as celery_app
from solodesk.core.models import Job
from solodesk.core.services import jobs_requeue_stale
from solodesk.projects.models import Project
from solodesk.tests.factories import (
    ClientFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
    WorkspaceFactory,
)
from solodesk.timetracking.selectors import TimeEntryFilters
from solodesk.timetracking.services import time_entries_export_start, time_entry_create
from solodesk.timetracking.tasks import time_entries_export_task
from tests.integration.helpers import read_csv, wait_for_job

pytestmark = pytest.mark.integration

HEADER = [
    "id",
    "date",
    "started_at",
    "ended_at",
    "duration_hours",
    "duration_seconds",
    "client",
    "project",
    "description",
    "billable",
    "invoiced",
    "tags",
    "user",
]
EXPORT_TASK = "solodesk.timetracking.tasks.time_entries_export_task"


@pytest.fixture
def owner_setup(transactional_db):
    workspace = WorkspaceFactory(name="Owner Studio", time_zone="Europe/Brussels")
    user = UserFactory(email="owner@example.com")
    MembershipFactory(workspace=workspace, user=user)
    client = ClientFactory(workspace=workspace, name="Acme Ltd")
    website = ProjectFactory(client=client, name="Website redesign")
    internal = ProjectFactory(
        client=client, name="Internal", billing_method=Project.BillingMethod.NON_BILLABLE
    )
    return workspace, user, website, internal


def _entry(workspace, user, project, start: dt.datetime, minutes: int, **kwargs):
    return time_entry_create(
        workspace=workspace,
        user=user,
        project=project,
        started_at=start,
        ended_at=start + dt.timedelta(minutes=minutes),
        **kwargs,
    )


def _march_filters() -> dict[str, str]:
    return TimeEntryFilters(date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 31)).as_params()


def test_a_worker_process_exports_the_filtered_entries_to_csv(owner_setup, celery_worker_process):
    workspace, user, website, internal = owner_setup
    design = _entry(
        workspace,
        user,
        website,
        dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC),
        90,
        description="Design review",
        tags=["meeting", "design"],
    )
    # 23:30 UTC is already the next day in Brussels: the date column is the local day.
    call = _entry(
        workspace,
        user,
        internal,
        dt.datetime(2026, 3, 3, 23, 30, tzinfo=dt.UTC),
        45,
        description='Call, "kick-off"',
    )
    _entry(workspace, user, website, dt.datetime(2026, 2, 27, 9, 0, tzinfo=dt.UTC), 60)
    stranger = MembershipFactory(workspace__name="Stranger Studio")
    _entry(
        stranger.workspace,
        stranger.user,
        ProjectFactory(client__workspace=stranger.workspace),
        dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
        60,
    )

    with transaction.atomic():
        job = time_entries_export_start(
            workspace=workspace, user=user, filters_params=_march_filters()
        )
        assert job.status == Job.Status.QUEUED

    wait_for_job(job)

    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.progress, job.attempts, job.error) == (100, 1, "")
    assert job.result_content_type == "text/csv"
    assert job.result_name == f"time-entries-{job.created_at:%Y%m%d-%H%M%S}.csv"
    assert read_csv(job) == [
        HEADER,
        [
            str(design.public_id),
            "2026-03-02",
            "2026-03-02T09:00:00+01:00",
            "2026-03-02T10:30:00+01:00",
            "1.50",
            "5400",
            "Acme Ltd",
            "Website redesign",
            "Design review",
            "yes",
            "no",
            "design;meeting",
            "owner@example.com",
        ],
        [
            str(call.public_id),
            "2026-03-04",
            "2026-03-04T00:30:00+01:00",
            "2026-03-04T01:15:00+01:00",
            "0.75",
            "2700",
            "Acme Ltd",
            "Internal",
            'Call, "kick-off"',
            "no",
            "no",
            "",
            "owner@example.com",
        ],
    ]


def test_the_task_delivered_again_after_success_does_nothing(owner_setup, celery_worker_process):
    workspace, user, website, _ = owner_setup
    _entry(workspace, user, website, dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC), 30)
    with transaction.atomic():
        job = time_entries_export_start(workspace=workspace, user=user, filters_params={})
    wait_for_job(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    before = Job.objects.values().get(pk=job.pk)
    storage, folder = job.result_file.storage, f"jobs/{job.public_id}"

    time_entries_export_task(job.pk)

    assert Job.objects.values().get(pk=job.pk) == before
    assert storage.listdir(folder) == ([], [job.result_name])


def test_a_job_whose_worker_died_is_claimed_again_and_finished(owner_setup, celery_worker_process):
    workspace, user, website, _ = owner_setup
    _entry(workspace, user, website, dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC), 30)
    five_minutes_ago = timezone.now() - dt.timedelta(minutes=5)
    # What a worker killed mid-export leaves behind: `running`, no heartbeat for minutes.
    job = Job.objects.create(
        workspace=workspace,
        owner=user,
        kind=Job.Kind.TIME_ENTRIES_EXPORT,
        task_name=EXPORT_TASK,
        params={},
        status=Job.Status.RUNNING,
        progress=40,
        attempts=1,
        enqueued_at=five_minutes_ago,
        started_at=five_minutes_ago,
    )
    Job.objects.filter(pk=job.pk).update(updated_at=five_minutes_ago)

    assert jobs_requeue_stale(older_than=dt.timedelta(minutes=5)) == 1
    wait_for_job(job)

    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.progress, job.attempts) == (100, 2)
    assert len(read_csv(job)) == 2


def test_a_job_created_while_the_broker_was_down_is_requeued_by_the_sweeper(
    owner_setup, celery_worker_process, caplog
):
    workspace, user, website, _ = owner_setup
    _entry(workspace, user, website, dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC), 30)
    broker_down = OperationalError("[Errno 111] Connection refused")

    with (
        mock.patch.object(celery_app, "send_task", side_effect=broker_down),
        caplog.at_level(logging.ERROR, logger="solodesk.core.services"),
        transaction.atomic(),
    ):
        job = time_entries_export_start(workspace=workspace, user=user, filters_params={})

    # The request that created the job did not fail, and the job waits in the database.
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.QUEUED, 0)
    assert f"Could not enqueue job {job.pk}; the sweeper will retry" in caplog.text

    assert jobs_requeue_stale(older_than=dt.timedelta(0)) == 1
    wait_for_job(job)

    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.attempts == 1
    assert len(read_csv(job)) == 2
