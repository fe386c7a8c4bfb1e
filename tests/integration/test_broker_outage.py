"""The broker is down when an invoice is sent: the request still answers 202 at once, the
Job row waits in the database, and once the broker is back the sweeper hands it over and
the client receives the e-mail exactly once (real gunicorn, worker, broker and SMTP
server on loopback).

Redis: the web process points at a port where nothing listens; then a private
redis-server is started on that very port. Filesystem broker: the web process's queue
folder is replaced by a file (unwritable whoever runs the test), then put back."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from solodesk.core.models import Job
from solodesk.invoicing.models import InvoiceDelivery
from tests.integration.durability import owner_with_invoices, run_sweeper
from tests.integration.helpers import wait_for_job
from tests.integration.smtp_inbox import free_port, running_inbox, smtp_env
from tests.processes import start_worker, wait_until

pytestmark = pytest.mark.integration

# A publish to a dead broker must not hold the request: refused is milliseconds, a hung
# broker costs two socket timeouts (2 s each). Generous for a loaded CI machine.
SEND_REQUEST_BUDGET_SECONDS = 3.0


@pytest.fixture
def inbox():
    with running_inbox() as (inbox, port):
        yield inbox, port


def _send(web, invoice, token: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.post(
        web.url(f"/api/v1/invoices/{invoice.public_id}/send"),
        headers={"Authorization": f"Bearer {token}"},
        json={},
        timeout=30,
    )
    return response, time.monotonic() - started


def _the_request_succeeded_and_the_job_waits(web, response, elapsed: float) -> Job:
    assert response.status_code == 202, response.text
    assert elapsed < SEND_REQUEST_BUDGET_SECONDS
    job = Job.objects.get(public_id=response.json()["job_id"])
    assert (job.status, job.attempts) == (Job.Status.QUEUED, 0)
    wait_until(
        lambda: f"Could not enqueue job {job.pk}; the sweeper will retry" in web.process.log(),
        timeout=10,
        message="the web process did not log the failed publish",
    )
    return job


def _exactly_one_email_after_the_sweeper(job, inbox, env, log_dir: Path, invoice) -> None:
    # Twice: a duplicate message is harmless (the job and the delivery are claimed).
    assert run_sweeper(env, older_than=0, log_dir=log_dir) == 1
    run_sweeper(env, older_than=0, log_dir=log_dir)
    wait_for_job(job, timeout=90)
    assert job.status == Job.Status.SUCCEEDED, job.error
    time.sleep(2)  # room for a second copy to arrive, if the design allowed one
    assert inbox.subjects() == [f"Invoice {invoice.number} from Owner Studio"]
    delivery = InvoiceDelivery.objects.get(job=job)
    assert delivery.status == InvoiceDelivery.Status.SENT


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_an_invoice_sent_while_redis_is_down_arrives_once_when_it_is_back(
    start_child, web_server, child_env, inbox, tmp_path
):
    smtp, smtp_port = inbox
    [invoice], token = owner_with_invoices(1)
    redis_port = free_port()
    child_env.update(CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_port}/0", **smtp_env(smtp_port))
    web = web_server(name="web")

    response, elapsed = _send(web, invoice, token)

    job = _the_request_succeeded_and_the_job_waits(web, response, elapsed)
    redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: (
                subprocess.run(
                    ["redis-cli", "-p", str(redis_port), "ping"],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout.strip()
                == "PONG"
            ),
            timeout=10,
            message="redis-server did not start",
        )
        start_child(start_worker, name="worker")
        _exactly_one_email_after_the_sweeper(job, smtp, child_env, tmp_path / "logs", invoice)
    finally:
        redis.terminate()
        redis.wait(timeout=10)


def test_an_invoice_sent_while_the_filesystem_broker_is_unwritable_arrives_once_later(
    start_child, web_server, child_env, inbox, tmp_path
):
    smtp, smtp_port = inbox
    [invoice], token = owner_with_invoices(1)
    broker_dir = tmp_path / "broker"
    child_env.update(
        CELERY_BROKER_URL="filesystem://", CELERY_BROKER_DIR=str(broker_dir), **smtp_env(smtp_port)
    )
    queue = broker_dir / "queue"
    broker_dir.mkdir()
    queue.write_text("not a folder: every publish fails")
    web = web_server(name="web")

    response, elapsed = _send(web, invoice, token)

    job = _the_request_succeeded_and_the_job_waits(web, response, elapsed)
    queue.unlink()
    queue.mkdir()
    start_child(start_worker, name="worker")
    _exactly_one_email_after_the_sweeper(job, smtp, child_env, tmp_path / "logs", invoice)
