"""Writes to Job rows. Each state change is a conditional UPDATE so two workers (or a task
delivered twice after a worker died) cannot both move the same job forward."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import File
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from solodesk.core.models import Heartbeat, Job

if TYPE_CHECKING:
    from solodesk.accounts.models import User, Workspace

logger = logging.getLogger(__name__)


def tasks_send(
    task_name: str,
    object_ids: Iterable[int],
    *,
    label: str = "",
    countdown: int | None = None,
) -> list[int]:
    """Hand `task_name(id)` to the broker for each id (call it after commit); return the ids
    it took. Every piece of background work is a committed row first (a Job, a reminder, a
    run, a webhook delivery, a sent quote), so a broker outage is not the caller's problem:
    it is logged ("Could not enqueue <label, with {id}>; the sweeper will retry"), the
    remaining ids are not tried (they would fail the same way), and the owning sweeper
    hands the rows over again later. Publishing fails fast (one retry, short socket
    timeouts: see the Celery settings), so a dead broker costs the request milliseconds,
    not a hang."""
    from solodesk.config.celery_app import app

    options = {} if countdown is None else {"countdown": countdown}
    sent: list[int] = []
    for object_id in object_ids:
        try:
            app.send_task(task_name, args=[object_id], **options)
        except Exception:
            what = (label or task_name + "({id})").format(id=object_id)
            logger.exception("Could not enqueue %s; the sweeper will retry", what)
            break
        sent.append(object_id)
    return sent


def _send_to_broker(job_id: int, task_name: str, countdown: int | None = None) -> bool:
    """Hand a job to the broker; False when the broker did not take it (the job row is
    committed with its `enqueued_at`, and the stale-job sweeper hands it over again later;
    a request pays one commit, not two)."""
    return bool(tasks_send(task_name, [job_id], label="job {id}", countdown=countdown))


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


def job_heartbeat_timeout() -> timedelta:
    """A running job touches `updated_at` with every progress step; one that has not for
    this long (the setting JOB_HEARTBEAT_TIMEOUT_SECONDS, read at call time) lost its
    worker and may be claimed again."""
    return timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT_SECONDS)


def job_claim(*, job_id: int) -> Job | None:
    """Mark a job running, or return None when it must not run now.

    A finished job never runs again. A job that is running with a fresh heartbeat belongs
    to a live worker (this delivery is a duplicate). A job left `running` with a stale
    heartbeat lost its worker: its redelivered task takes it over."""
    now = timezone.now()
    claimable = Q(status=Job.Status.QUEUED) | Q(
        status=Job.Status.RUNNING, updated_at__lt=now - job_heartbeat_timeout()
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
        status=Job.Status.RUNNING, updated_at__lt=now - job_heartbeat_timeout()
    )
    stale = list(
        Job.objects.filter(stale_filter).order_by("pk").values_list("pk", "task_name")[:limit]
    )
    sent = [job_id for job_id, task_name in stale if _send_to_broker(job_id, task_name)]
    if sent:
        # The next sweep leaves them alone for another `older_than`.
        Job.objects.filter(pk__in=sent, status=Job.Status.QUEUED).update(enqueued_at=now)
    return len(stale)


def job_retry_later(*, job: Job, delay_seconds: int, message: str) -> bool:
    """Put a running job back in the queue to run again in `delay_seconds` (a transient
    failure, such as a mail server that could not be reached). The job keeps its row, its
    attempts count and a message the user sees meanwhile. `enqueued_at` is set to the
    planned time, so the sweeper re-sends it only if the delayed message is lost, some
    minutes after it was due. False when the job is no longer running (nothing queued)."""
    now = timezone.now()
    requeued = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        status=Job.Status.QUEUED,
        progress=0,
        error=message[:2000],
        enqueued_at=now + timedelta(seconds=delay_seconds),
        updated_at=now,
    )
    if not requeued:
        return False
    job_id, task_name = job.pk, job.task_name
    transaction.on_commit(lambda: _send_to_broker(job_id, task_name, countdown=delay_seconds))
    job.refresh_from_db()
    return True


def job_complete(*, job: Job) -> Job:
    """Finish a job whose result is an effect, not a file (an e-mail went out). Conditional
    on the job still running, so a job already failed or finished stays as it is."""
    now = timezone.now()
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
        status=Job.Status.SUCCEEDED, progress=100, error="", finished_at=now, updated_at=now
    )
    job.refresh_from_db()
    return job


def heartbeat_touch(*, name: str) -> None:
    """Record that the named process is alive now (one upsert)."""
    Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


# --- health -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthCheck:
    name: str
    ok: bool
    detail: str
    seen_at: datetime | None = None


def _database_check() -> HealthCheck:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return HealthCheck("database", False, f"{error.__class__.__name__}: {error}"[:300])
    return HealthCheck("database", True, "answers")


def _broker_check() -> HealthCheck:
    """Open a fresh broker connection with a short timeout: Redis must answer, the
    filesystem broker's queue folder must be writable. Never waits longer than the
    broker socket timeout (two seconds by default)."""
    from solodesk.config.celery_app import app, redis_transport_options

    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_DIR / "queue"
        if folder.is_dir() and os.access(folder, os.W_OK):
            return HealthCheck("broker", True, "queue folder writable")
        return HealthCheck("broker", False, f"queue folder {folder} is missing or not writable")
    timeout = float(getattr(settings, "BROKER_SOCKET_TIMEOUT_SECONDS", 2))
    try:
        # The socket timeouts here, not only the app's: a hung Redis must not hang the check.
        with app.connection_for_write(url, transport_options=redis_transport_options()) as broker:
            broker.ensure_connection(max_retries=1, timeout=timeout)
            broker.default_channel  # noqa: B018 - opens a channel: Redis answers a PING
    except Exception as error:
        return HealthCheck("broker", False, f"{error.__class__.__name__}: {error}"[:300])
    return HealthCheck("broker", True, "answers")


def _heartbeat_check(name: str, seen_at: datetime | None, max_age: int) -> HealthCheck:
    if seen_at is None:
        return HealthCheck(name, False, "has never reported")
    age = int((timezone.now() - seen_at).total_seconds())
    if age > max_age:
        return HealthCheck(name, False, f"last seen {age} s ago (limit {max_age} s)", seen_at)
    return HealthCheck(name, True, f"last seen {age} s ago", seen_at)


def system_health_check() -> list[HealthCheck]:
    """Database, broker, worker and scheduler, in that order. The worker heartbeat is
    written by every worker's main process (celery_app.WorkerHeartbeat); the scheduler's
    by a beat task that a worker runs, so it also proves beat → broker → worker works.
    Two queries when the database answers (SELECT 1, both heartbeats)."""
    database = _database_check()
    checks = [database, _broker_check()]
    seen: dict[str, datetime] = {}
    if database.ok:
        seen = dict(
            Heartbeat.objects.filter(name__in=["worker", "scheduler"]).values_list(
                "name", "seen_at"
            )
        )
    limits = {
        "worker": settings.HEALTH_WORKER_MAX_AGE_SECONDS,
        "scheduler": settings.HEALTH_SCHEDULER_MAX_AGE_SECONDS,
    }
    for name, max_age in limits.items():
        if database.ok:
            checks.append(_heartbeat_check(name, seen.get(name), max_age))
        else:
            checks.append(HealthCheck(name, False, "unknown: its heartbeat is in the database"))
    return checks
