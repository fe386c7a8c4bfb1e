"""Writes to Job rows. Each state change is a conditional UPDATE so two workers (or a task
delivered twice after a worker died) cannot both move the same job forward."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.files.base import File
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from solodesk.core.models import Job

if TYPE_CHECKING:
    from solodesk.accounts.models import User, Workspace

logger = logging.getLogger(__name__)


def _send_to_broker(job_id: int, task_name: str) -> None:
    """Hand a job to the broker. A broker outage is not the user's problem: the job row is
    already committed and the stale-job sweeper hands it over again later."""
    from solodesk.config.celery_app import app

    try:
        app.send_task(task_name, args=[job_id])
    except Exception:
        logger.exception("Could not enqueue job %s; the sweeper will retry", job_id)
        return
    Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(enqueued_at=timezone.now())


def job_create(
    *, workspace: Workspace, owner: User, kind: str, task_name: str, params: dict[str, Any]
) -> Job:
    """Write the job row in the caller's transaction and enqueue it only after commit, so a
    worker never looks for a row that is not there yet, and a rolled-back request leaves
    no job behind."""
    job = Job.objects.create(
        workspace=workspace,
        owner=owner,
        kind=kind,
        task_name=task_name,
        params=params,
        enqueued_at=timezone.now(),
    )
    transaction.on_commit(lambda: _send_to_broker(job.pk, task_name))
    return job


# A running job touches `updated_at` with every progress step; one that has not for this
# long lost its worker and may be claimed again.
JOB_HEARTBEAT_TIMEOUT = timedelta(seconds=90)


def job_claim(*, job_id: int) -> Job | None:
    """Mark a job running, or return None when it must not run now.

    A finished job never runs again. A job that is running with a fresh heartbeat belongs
    to a live worker (this delivery is a duplicate). A job left `running` with a stale
    heartbeat lost its worker: its redelivered task takes it over."""
    now = timezone.now()
    claimable = Q(status=Job.Status.QUEUED) | Q(
        status=Job.Status.RUNNING, updated_at__lt=now - JOB_HEARTBEAT_TIMEOUT
    )
    claimed = Job.objects.filter(claimable, pk=job_id).update(
        status=Job.Status.RUNNING,
        started_at=now,
        progress=0,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not claimed:
        return None
    return Job.objects.select_related("workspace", "owner").get(pk=job_id)


def job_set_progress(*, job: Job, progress: int) -> None:
    progress = max(0, min(100, int(progress)))
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        progress=progress, updated_at=timezone.now()
    )
    job.progress = progress


def job_succeed(*, job: Job, file: File, filename: str, content_type: str) -> Job:
    job.result_file.save(filename, file, save=False)
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED,
        progress=100,
        result_file=job.result_file.name,
        result_content_type=content_type,
        error="",
        finished_at=now,
        updated_at=now,
    )
    job.refresh_from_db()
    return job


def job_fail(*, job_id: int, error: str) -> None:
    now = timezone.now()
    Job.objects.filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).update(
        status=Job.Status.FAILED, error=error[:2000], finished_at=now, updated_at=now
    )


def jobs_requeue_stale(*, older_than: timedelta, limit: int = 500) -> int:
    """Hand jobs to the broker again when nobody picked them up (the broker was down when
    they were created, or their message was lost) or when their worker died mid-run.
    A duplicate delivery is harmless: `job_claim` lets one runner through at a time."""
    now = timezone.now()
    stale_filter = Q(status=Job.Status.QUEUED, enqueued_at__lt=now - older_than) | Q(
        status=Job.Status.RUNNING, updated_at__lt=now - JOB_HEARTBEAT_TIMEOUT
    )
    stale = list(
        Job.objects.filter(stale_filter).order_by("pk").values_list("pk", "task_name")[:limit]
    )
    for job_id, task_name in stale:
        _send_to_broker(job_id, task_name)
    return len(stale)


def job_complete(*, job: Job) -> Job:
    """Finish a job whose result is an effect, not a file (an e-mail went out). Conditional
    on the job still running, so a job already failed or finished stays as it is."""
    now = timezone.now()
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        status=Job.Status.SUCCEEDED, progress=100, error="", finished_at=now, updated_at=now
    )
    job.refresh_from_db()
    return job
