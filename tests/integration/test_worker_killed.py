"""A worker is SIGKILLed in the middle of 50 invoice sends (each renders its PDF): after a
new worker starts and the stale-job sweeper runs, every e-mail has arrived exactly once and
every Job has succeeded (real worker processes, the configured broker, an SMTP server on
loopback).

Where the kill lands matters, and the test makes it deterministic: it freezes the worker
(SIGSTOP), looks at the rows, and kills only while no delivery is "sending", that is while
the worker renders a PDF or moves between jobs; otherwise it lets the worker go on for a
moment and looks again. A kill during the SMTP conversation itself leaves an e-mail that
may or may not have arrived; that case is failed on purpose, never repeated (decision
0003), and tested in test_email_retries.py."""

from __future__ import annotations

import datetime as dt
import signal
import time

import pytest
from django.db import transaction

from solodesk.core.models import Heartbeat, Job
from solodesk.core.services import jobs_requeue_stale
from solodesk.invoicing.models import InvoiceDelivery
from solodesk.invoicing.sending import invoice_send_start
from tests.integration.conftest import purge_broker
from tests.integration.durability import owner_with_invoices
from tests.integration.smtp_inbox import running_inbox, smtp_env
from tests.processes import start_worker, wait_until

pytestmark = pytest.mark.integration

SENDS = 50
KILL_AFTER_EMAILS = 15
# Low enough for a short test, high enough that a PDF render between two progress steps
# (a second or two on a loaded machine) never looks like a dead worker.
HEARTBEAT_TIMEOUT_SECONDS = 10


@pytest.fixture
def inbox():
    with running_inbox() as (inbox, port):
        yield inbox, port


def _kill_while_a_pdf_renders(worker, deliveries: list[int], jobs: list[int]) -> None:
    while True:
        worker.signal_group(signal.SIGSTOP)
        time.sleep(0.2)  # statements already sent to the database finish meanwhile
        sending = InvoiceDelivery.objects.filter(
            pk__in=deliveries, status=InvoiceDelivery.Status.SENDING
        ).exists()
        rendering = Job.objects.filter(pk__in=jobs, status=Job.Status.RUNNING).exists()
        if rendering and not sending:
            worker.kill()
            return
        worker.signal_group(signal.SIGCONT)
        time.sleep(0.05)


def test_all_emails_arrive_once_after_the_worker_is_killed_midway(
    start_child, child_env, inbox, settings, tmp_path
):
    smtp, smtp_port = inbox
    settings.JOB_HEARTBEAT_TIMEOUT_SECONDS = HEARTBEAT_TIMEOUT_SECONDS
    child_env.update(
        JOB_HEARTBEAT_TIMEOUT_SECONDS=str(HEARTBEAT_TIMEOUT_SECONDS), **smtp_env(smtp_port)
    )
    invoices, _token = owner_with_invoices(SENDS)
    user = invoices[0].workspace.memberships.get().user
    purge_broker()
    first = start_child(start_worker, name="worker-1")
    started = time.monotonic()

    deliveries = []
    for invoice in invoices:
        with transaction.atomic():
            deliveries.append(invoice_send_start(invoice=invoice, user=user))
    delivery_ids = [delivery.pk for delivery in deliveries]
    job_ids = [delivery.job_id for delivery in deliveries]

    wait_until(
        lambda: len(smtp.messages) >= KILL_AFTER_EMAILS,
        timeout=60,
        message=f"fewer than {KILL_AFTER_EMAILS} e-mails arrived",
    )
    _kill_while_a_pdf_renders(first, delivery_ids, job_ids)
    arrived_before_the_kill = len(smtp.messages)
    orphaned = list(Job.objects.filter(pk__in=job_ids, status=Job.Status.RUNNING))
    assert len(orphaned) == 1
    assert arrived_before_the_kill < SENDS

    start_child(start_worker, name="worker-2")

    def all_finished() -> bool:
        # What beat does every minute, here every second: hand over again the jobs whose
        # worker died (running, no heartbeat for HEARTBEAT_TIMEOUT_SECONDS).
        jobs_requeue_stale(older_than=dt.timedelta(minutes=5))
        return not Job.objects.filter(
            pk__in=job_ids, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        ).exists()

    wait_until(all_finished, timeout=120, message="not every job finished")
    time.sleep(2)  # room for a second copy to arrive, if the design allowed one
    elapsed = time.monotonic() - started

    statuses = dict(Job.objects.filter(pk__in=job_ids).values_list("pk", "status"))
    assert set(statuses.values()) == {Job.Status.SUCCEEDED}, statuses
    assert set(
        InvoiceDelivery.objects.filter(pk__in=delivery_ids).values_list("status", flat=True)
    ) == {InvoiceDelivery.Status.SENT}
    subjects = smtp.subjects()
    expected = sorted(f"Invoice {invoice.number} from Owner Studio" for invoice in invoices)
    assert sorted(subjects) == expected  # all 50, none twice
    for message in smtp.messages:
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content().startswith(b"%PDF")
    # The job the kill interrupted ran a second time, on the new worker.
    [interrupted] = orphaned
    interrupted.refresh_from_db()
    assert interrupted.attempts == 2
    assert Heartbeat.objects.filter(name="worker").exists()
    print(
        f"\n{SENDS} sends, killed after {arrived_before_the_kill} e-mails "
        f"(job {interrupted.pk} interrupted), all delivered in {elapsed:.1f} s"
    )
