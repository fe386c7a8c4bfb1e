from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from solodesk.core.services import heartbeat_touch, jobs_requeue_stale


@shared_task(name="solodesk.core.tasks.jobs_requeue_stale_task")
def jobs_requeue_stale_task() -> int:
    return jobs_requeue_stale(older_than=timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS))


@shared_task(name="solodesk.core.tasks.scheduler_heartbeat_task")
def scheduler_heartbeat_task() -> None:
    """Sent by beat every minute and run by a worker: a fresh "scheduler" heartbeat proves
    the scheduler, the broker and a worker all work."""
    heartbeat_touch(name="scheduler")
