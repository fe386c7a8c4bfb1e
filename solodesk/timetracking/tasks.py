from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from solodesk.core.services import job_claim, job_fail
from solodesk.timetracking.export import time_entries_export_run

logger = logging.getLogger(__name__)


@shared_task(name="solodesk.timetracking.tasks.time_entries_export_task")
def time_entries_export_task(job_id: int) -> None:
    job = job_claim(job_id=job_id)
    if job is None:
        return  # finished already, or a live worker has it: nothing to do twice
    try:
        time_entries_export_run(job=job)
    except SoftTimeLimitExceeded:
        job_fail(job_id=job_id, error="The export took too long. Narrow the date range.")
    except Exception:
        logger.exception("Export job %s failed", job_id)
        job_fail(job_id=job_id, error="The export failed unexpectedly. Try again.")
        raise
