from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from solodesk.core.services import jobs_requeue_stale


@shared_task(name="solodesk.core.tasks.jobs_requeue_stale_task")
def jobs_requeue_stale_task() -> int:
    return jobs_requeue_stale(older_than=timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS))
