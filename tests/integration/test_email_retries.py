"""Invoice e-mails against a real SMTP server on loopback: a refusal that is surely
temporary (unreachable server, 4xx) is tried again later; a permanent one (5xx) fails the
job with a message; a conversation that broke after the message may have been taken is
never repeated (at most once per delivery, docs/decisions/0003). Plus the sweeper that
closes deliveries no job will finish."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from solodesk.core.models import Job
from solodesk.invoicing import pdf, sending, tasks
from solodesk.invoicing.models import InvoiceDelivery
from solodesk.invoicing.tests.factories import make_client, make_issued
from tests.integration.smtp_inbox import free_port, running_inbox, smtp_settings

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _instant_pdf(monkeypatch):
    monkeypatch.setattr(pdf, "invoice_pdf_render", lambda *, invoice: b"%PDF-1.7\n%fake\n")


@pytest.fixture
def broker():
    with mock.patch("solodesk.core.services._send_to_broker") as send:
        yield send


@pytest.fixture
def inbox(settings):
    with running_inbox() as (inbox, port):
        smtp_settings(settings, port)
        yield inbox


def start(owner) -> InvoiceDelivery:
    client = make_client(owner.workspace, name="Acme Robotics", email="billing@acme.test")
    invoice = make_issued(workspace=owner.workspace, user=owner.user, client=client)
    return sending.invoice_send_start(invoice=invoice, user=owner.user)


def run(delivery: InvoiceDelivery, capture) -> tuple[Job, InvoiceDelivery]:
    with capture(execute=True):
        tasks.invoice_send_task(delivery.job.pk)
    return Job.objects.get(pk=delivery.job.pk), InvoiceDelivery.objects.get(pk=delivery.pk)


def test_an_unreachable_server_puts_the_job_back_with_a_countdown(
    owner, broker, settings, django_capture_on_commit_callbacks
):
    smtp_settings(settings, free_port())  # nothing listens there
    settings.INVOICE_EMAIL_RETRY_DELAYS = [60, 300]
    delivery = start(owner)
    broker.reset_mock()

    job, delivery = run(delivery, django_capture_on_commit_callbacks)

    assert (job.status, job.attempts, job.progress) == (Job.Status.QUEUED, 1, 0)
    assert job.error.startswith("Could not reach the mail server (ConnectionRefusedError:")
    assert "Trying again at" in job.error and job.error.endswith("(attempt 2).")
    assert (delivery.status, delivery.error) == (InvoiceDelivery.Status.QUEUED, job.error)
    [call] = broker.call_args_list
    assert call.args == (job.pk, sending.SEND_TASK)
    assert 60 <= call.kwargs["countdown"] <= 66
    # The sweeper's fallback: it re-sends only if the delayed message is lost.
    assert timezone.now() + dt.timedelta(seconds=59) < job.enqueued_at


def test_a_greylisting_4xx_is_retried_and_the_retry_delivers_exactly_once(
    owner, broker, inbox, django_capture_on_commit_callbacks
):
    inbox.rcpt_replies = ["451 4.7.1 Greylisted, try again later"]
    delivery = start(owner)

    job, delivery = run(delivery, django_capture_on_commit_callbacks)
    assert (job.status, delivery.status, inbox.messages) == ("queued", "queued", [])
    assert job.error.startswith(
        "The mail server temporarily refused the address billing@acme.test "
        "(451 4.7.1 Greylisted, try again later). Nothing was sent. Trying again at "
    )

    job, delivery = run(delivery, django_capture_on_commit_callbacks)  # the retry is due
    run(delivery, django_capture_on_commit_callbacks)  # and a duplicate of its message

    assert (job.status, job.attempts, job.error) == (Job.Status.SUCCEEDED, 2, "")
    assert (delivery.status, delivery.error) == (InvoiceDelivery.Status.SENT, "")
    assert len(inbox.messages) == 1


def test_a_4xx_at_the_end_of_data_is_retried(
    owner, broker, inbox, django_capture_on_commit_callbacks
):
    inbox.data_replies = ["452 4.3.1 Insufficient system storage"]
    delivery = start(owner)

    job, delivery = run(delivery, django_capture_on_commit_callbacks)

    assert (job.status, delivery.status) == (Job.Status.QUEUED, InvoiceDelivery.Status.QUEUED)
    assert inbox.messages == []


def test_a_permanent_5xx_fails_the_job_with_a_message_and_is_not_retried(
    owner, broker, inbox, django_capture_on_commit_callbacks
):
    inbox.data_replies = ["554 5.7.1 Message rejected as spam"]
    delivery = start(owner)
    broker.reset_mock()

    job, delivery = run(delivery, django_capture_on_commit_callbacks)

    message = (
        "The mail server refused the message (554 5.7.1 Message rejected as spam). "
        "Nothing was sent; try again later or check the e-mail settings."
    )
    assert (job.status, job.error) == (Job.Status.FAILED, message)
    assert (delivery.status, delivery.error) == (InvoiceDelivery.Status.FAILED, message)
    broker.assert_not_called()


def test_a_refused_address_fails_at_once(owner, broker, inbox, django_capture_on_commit_callbacks):
    inbox.rcpt_replies = ["550 5.1.1 No such user"]
    delivery = start(owner)

    job, _ = run(delivery, django_capture_on_commit_callbacks)

    assert (job.status, job.error) == (
        Job.Status.FAILED,
        "The mail server refused the address billing@acme.test. Check it and send again.",
    )


def test_retries_stop_after_the_configured_attempts(
    owner, broker, settings, django_capture_on_commit_callbacks
):
    smtp_settings(settings, free_port())
    settings.INVOICE_EMAIL_RETRY_DELAYS = [1]
    delivery = start(owner)

    run(delivery, django_capture_on_commit_callbacks)
    job, delivery = run(delivery, django_capture_on_commit_callbacks)

    assert (job.status, job.attempts) == (Job.Status.FAILED, 2)
    assert job.error.endswith(
        "Nothing was sent; check the e-mail settings and try again. (Gave up after 2 attempts.)"
    )
    assert delivery.status == InvoiceDelivery.Status.FAILED


def test_a_connection_lost_after_the_message_was_handed_over_is_never_sent_again(
    owner, broker, inbox, django_capture_on_commit_callbacks
):
    inbox.drop_after_data = True
    delivery = start(owner)
    broker.reset_mock()

    job, delivery = run(delivery, django_capture_on_commit_callbacks)
    run(delivery, django_capture_on_commit_callbacks)

    assert len(inbox.messages) == 1  # the server did get it: a retry would be a copy
    assert job.status == Job.Status.FAILED
    assert job.error == (
        "The connection to the mail server broke while sending to billing@acme.test "
        "(SMTPServerDisconnected), so the e-mail may or may not have arrived. Check with "
        "your client before sending it again."
    )
    assert (delivery.status, delivery.error) == (InvoiceDelivery.Status.FAILED, job.error)
    broker.assert_not_called()


# --- the deliveries sweeper -------------------------------------------------------------------


def _age(delivery: InvoiceDelivery, status: str, job_status: str, seconds: int) -> None:
    then = timezone.now() - dt.timedelta(seconds=seconds)
    InvoiceDelivery.objects.filter(pk=delivery.pk).update(status=status, updated_at=then)
    Job.objects.filter(pk=delivery.job_id).update(
        status=job_status, updated_at=then, error="The invoice could not be sent. Try again."
    )


def test_the_sweeper_fails_a_delivery_left_sending_by_a_finished_job(owner, broker):
    stuck = start(owner)
    _age(stuck, "sending", Job.Status.FAILED, seconds=600)
    live = start(owner)
    _age(live, "sending", Job.Status.RUNNING, seconds=5)
    orphan_of_a_dead_run = start(owner)
    _age(orphan_of_a_dead_run, "sending", Job.Status.RUNNING, seconds=600)

    assert sending.invoice_deliveries_sweep() == 1

    stuck.refresh_from_db()
    assert stuck.status == InvoiceDelivery.Status.FAILED
    assert stuck.error == sending.in_doubt_message("billing@acme.test")
    # A live run is left alone; a dead run's job is the job sweeper's (its re-run fails it).
    assert InvoiceDelivery.objects.get(pk=live.pk).status == "sending"
    assert InvoiceDelivery.objects.get(pk=orphan_of_a_dead_run.pk).status == "sending"


def test_the_sweeper_fails_a_queued_delivery_whose_job_failed_with_the_jobs_reason(owner, broker):
    delivery = start(owner)
    _age(delivery, "queued", Job.Status.FAILED, seconds=1)
    waiting = start(owner)

    assert sending.invoice_deliveries_sweep() == 1
    assert sending.invoice_deliveries_sweep() == 0

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error) == (
        "failed",
        "The invoice could not be sent. Try again.",
    )
    assert InvoiceDelivery.objects.get(pk=waiting.pk).status == "queued"


def test_sweeping_twice_in_parallel_does_the_same_once(owner, broker):
    delivery = start(owner)
    _age(delivery, "sending", Job.Status.FAILED, seconds=600)

    assert sending.invoice_deliveries_sweep() + sending.invoice_deliveries_sweep() == 1
