"""Celery entry points for invoices: thin, id in, one call out.

Each task claims its Job first (`job_claim` is a conditional UPDATE), so a message delivered
twice runs once; what the task does is idempotent as well (a current PDF is re-used, a
delivery is claimed before its e-mail goes), so even a re-run after a lost worker has one
effect. A terminal failure marks the Job failed with a sentence the user can act on.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from solodesk.core.services import job_claim, job_fail
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.pdf import invoice_pdf_run
from solodesk.invoicing.sending import invoice_deliveries_sweep, invoice_send_run

logger = logging.getLogger(__name__)


@shared_task(name="solodesk.invoicing.tasks.invoice_pdf_task")
def invoice_pdf_task(job_id: int) -> None:
    job = job_claim(job_id=job_id)
    if job is None:
        return  # finished already, or a live worker has it: nothing to do twice
    try:
        invoice_pdf_run(job=job)
    except Invoice.DoesNotExist:
        job_fail(job_id=job_id, error="This invoice no longer exists (was the draft deleted?).")
    except SoftTimeLimitExceeded:
        job_fail(job_id=job_id, error="Preparing the PDF took too long. Try again in a minute.")
    except Exception:
        logger.exception("Invoice PDF job %s failed", job_id)
        job_fail(job_id=job_id, error="The PDF could not be prepared. Try again.")
        raise


@shared_task(name="solodesk.invoicing.tasks.invoice_send_task")
def invoice_send_task(job_id: int) -> None:
    job = job_claim(job_id=job_id)
    if job is None:
        return
    try:
        invoice_send_run(job=job)
    except SoftTimeLimitExceeded:
        job_fail(job_id=job_id, error="Sending the invoice took too long. Try again.")
    except Exception:
        logger.exception("Invoice send job %s failed", job_id)
        job_fail(job_id=job_id, error="The invoice could not be sent. Try again.")
        raise


@shared_task(name="solodesk.invoicing.tasks.invoice_deliveries_sweep_task")
def invoice_deliveries_sweep_task() -> int:
    return invoice_deliveries_sweep()
