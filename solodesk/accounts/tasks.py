from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.core.mail import EmailMultiAlternatives

from solodesk.accounts.services import derived_totals_vacuum, time_totals_recount_run
from solodesk.core.services import job_claim, job_fail

logger = logging.getLogger(__name__)


@shared_task(
    name="solodesk.accounts.tasks.email_send_task",
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=8,
)
def email_send_task(payload: dict[str, Any]) -> None:
    """Send a rendered account e-mail. Retried with backoff while the SMTP server is away."""
    message = EmailMultiAlternatives(
        subject=payload["subject"],
        body=payload["body"],
        from_email=payload["from_email"],
        to=payload["to"],
    )
    for content, mimetype in payload.get("alternatives", []):
        message.attach_alternative(content, mimetype)
    message.send()


@shared_task(name="solodesk.accounts.tasks.time_totals_recount_task")
def time_totals_recount_task(job_id: int) -> None:
    """Recount a workspace's time totals after a change of its time zone (decision 0007).
    Late acknowledgement and the Job claim (global Celery settings, `job_claim`): a
    duplicate delivery does nothing while the first runs; a rerun after a lost worker
    recounts again, which gives the same rows."""
    job = job_claim(job_id=job_id)
    if job is None:
        return  # finished already, or a live worker has it
    try:
        time_totals_recount_run(job=job)
    except SoftTimeLimitExceeded:
        job_fail(
            job_id=job_id,
            error=(
                "Recounting the time totals took too long. The dashboard and reports may "
                "show hours on the old time zone's days: use “Recount now” to try again."
            ),
        )
    except Exception:
        logger.exception("Time totals recount job %s failed", job_id)
        job_fail(
            job_id=job_id,
            error=(
                "Recounting the time totals failed. The dashboard and reports may show "
                "hours on the old time zone's days: use “Recount now” to try again."
            ),
        )
        raise
    else:
        # The rebuild deleted and re-inserted every daily and monthly total of the
        # workspace: vacuum them now (outside the job's transaction, PostgreSQL only)
        # rather than leave the dead rows and stale statistics to autovacuum. The job is
        # done already: a vacuum that fails is logged, not the job's failure.
        try:
            derived_totals_vacuum()
        except Exception:
            logger.warning("Vacuum after time totals recount job %s failed", job_id, exc_info=True)
