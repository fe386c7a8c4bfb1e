"""Delivering events to a real HTTP receiver on 127.0.0.1: signature, retries with backoff,
once-only delivery, giving up, disabling the endpoint and telling the owner."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random

import time_machine
from django.core import mail
from django.utils import timezone

from solodesk.invoicing.models import InvoiceActivity
from solodesk.invoicing.tests.factories import make_issued
from solodesk.webhooks import services, tasks
from solodesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from solodesk.webhooks.tests.conftest import make_endpoint, sent_ids


def ping(endpoint: WebhookEndpoint) -> WebhookDelivery:
    event = services.webhook_endpoint_ping(endpoint=endpoint)
    return WebhookDelivery.objects.get(event=event, endpoint=endpoint)


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """A receiver's check, written from the documentation, not from the sender's code."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(
        secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    fresh = abs(timezone.now().timestamp() - timestamp) <= tolerance
    return fresh and hmac.compare_digest(expected, parts["v1"])


def test_the_receiver_gets_the_event_signed_with_the_endpoints_secret(endpoint, receiver):
    delivery = ping(endpoint)

    tasks.webhook_delivery_task(delivery.pk)

    (request,) = receiver.requests
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Solodesk-Event-Id"] == str(delivery.event.public_id)
    assert verify(endpoint.secret, request.headers["Solodesk-Signature"], request.body)
    assert not verify("whsec_wrong", request.headers["Solodesk-Signature"], request.body)
    body = request.json
    assert set(body) == {"id", "type", "created_at", "data"}
    assert (body["id"], body["type"]) == (str(delivery.event.public_id), "ping")
    assert body["data"]["endpoint_id"] == str(endpoint.public_id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert (attempt.attempt_number, attempt.status_code, attempt.succeeded) == (1, 200, True)


def test_a_tampered_body_does_not_verify(endpoint, receiver):
    tasks.webhook_delivery_task(ping(endpoint).pk)
    (request,) = receiver.requests
    tampered = request.body.replace(b'"ping"', b'"invoice.paid"')
    assert not verify(endpoint.secret, request.headers["Solodesk-Signature"], tampered)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"e1"}'
    expected = hmac.new(b"whsec_k", b'1700000000.{"id":"e1"}', hashlib.sha256).hexdigest()
    assert services.signature_header(secret="whsec_k", timestamp=1700000000, body=body) == (
        f"t=1700000000,v1={expected}"
    )


def test_the_task_run_twice_delivers_once(endpoint, receiver):
    delivery = ping(endpoint)

    tasks.webhook_delivery_task(delivery.pk)
    tasks.webhook_delivery_task(delivery.pk)

    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


def test_a_500_is_retried_later_with_backoff_and_the_same_event_id(endpoint, receiver, broker):
    receiver.responses = [(500, 0.0)]
    delivery = ping(endpoint)
    before = timezone.now()

    tasks.webhook_delivery_task(delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 1, 500)
    # First retry: 30 s ± 20 %.
    assert before + dt.timedelta(seconds=23) < delivery.next_attempt_at
    assert delivery.next_attempt_at < timezone.now() + dt.timedelta(seconds=37)
    # Not due yet: a redelivered message does nothing.
    tasks.webhook_delivery_task(delivery.pk)
    assert len(receiver.requests) == 1
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1

    with time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=1), tick=True):
        services.webhook_deliveries_sweep()
        assert sent_ids(broker) == [delivery.pk]
        tasks.webhook_delivery_task(delivery.pk)

    first, second = receiver.requests
    assert first.headers["Solodesk-Event-Id"] == second.headers["Solodesk-Event-Id"]
    assert first.json["id"] == second.json["id"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0
    log = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("attempt_number"))
    assert [(a.attempt_number, a.status_code, a.succeeded) for a in log] == [
        (1, 500, False),
        (2, 200, True),
    ]


def test_a_receiver_slower_than_the_timeout_fails_the_attempt(endpoint, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.2
    receiver.responses = [(200, 1.0)]
    delivery = ping(endpoint)

    tasks.webhook_delivery_task(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.last_status_code is None
    assert delivery.last_error == "No answer within 0.2 s."
    assert delivery.next_attempt_at > timezone.now()


def test_a_redirect_is_not_followed(endpoint, receiver):
    receiver.responses = [(302, 0.0)]
    receiver.redirect_to = "http://elsewhere.example.com/steal"
    delivery = ping(endpoint)

    tasks.webhook_delivery_task(delivery.pk)

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("failed", 302)
    assert delivery.last_error == "Redirect to http://elsewhere.example.com/steal not followed."


def test_an_unreachable_receiver_fails_the_attempt_with_a_message(owner):
    endpoint = make_endpoint(owner.workspace, url="http://127.0.0.1:9/nothing-listens")
    delivery = ping(endpoint)

    tasks.webhook_delivery_task(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("Could not connect:")


def test_the_backoff_schedule_spans_about_a_day():
    rng = random.Random(1)
    delays = [services.retry_delay(n, rng=rng) for n in range(1, services.MAX_ATTEMPTS)]
    total = sum(delays, dt.timedelta())
    assert dt.timedelta(hours=19) < total < dt.timedelta(hours=30)
    bases = [min(30 * 2 ** (n - 1), 4 * 3600) for n in range(1, services.MAX_ATTEMPTS)]
    assert sum(bases) == 87330  # 24 h 15 min without jitter
    for delay, base in zip(delays, bases, strict=True):
        assert base * 0.8 <= delay.total_seconds() <= base * 1.2


def _fail_until_given_up(delivery: WebhookDelivery) -> None:
    for _ in range(services.MAX_ATTEMPTS):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        tasks.webhook_delivery_task(delivery.pk)


def test_an_endpoint_failing_a_whole_schedule_is_disabled_and_the_owner_told_once(
    owner, receiver, broker, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(owner.workspace, url=receiver.url, events=["invoice.overdue"])
    invoice = make_issued(workspace=owner.workspace, user=owner.user)
    receiver.responses = [(503, 0.0)] * services.MAX_ATTEMPTS
    services.webhook_event_record_invoice(invoice=invoice, event_type="invoice.overdue")
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)

    with django_capture_on_commit_callbacks(execute=True):
        _fail_until_given_up(delivery)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("given_up", services.MAX_ATTEMPTS)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_reason.startswith("Disabled after 15 failed attempts")
    assert sent_ids(broker, services.NOTIFY_TASK) == [endpoint.pk]
    # The audit trail on the invoice.
    assert InvoiceActivity.objects.filter(
        invoice=invoice,
        action=InvoiceActivity.Action.WEBHOOK,
        message__startswith="Webhook invoice.overdue to 127.0.0.1",
    ).exists()

    tasks.webhook_endpoint_disabled_notify_task(endpoint.pk)
    tasks.webhook_endpoint_disabled_notify_task(endpoint.pk)

    (message,) = mail.outbox
    assert message.to == [owner.user.email]
    assert receiver.url in message.body
    assert f"/webhooks/{endpoint.public_id}/" in message.body
    # Disabled: nothing more is attempted, even when asked.
    count = len(receiver.requests)
    tasks.webhook_delivery_task(delivery.pk)
    assert len(receiver.requests) == count


def test_a_given_up_delivery_does_not_disable_an_endpoint_that_answers_others(endpoint, receiver):
    stuck = ping(endpoint)
    receiver.responses = [(500, 0.0)] * (services.MAX_ATTEMPTS - 1)
    for _ in range(services.MAX_ATTEMPTS - 1):
        WebhookDelivery.objects.filter(pk=stuck.pk).update(next_attempt_at=timezone.now())
        tasks.webhook_delivery_task(stuck.pk)
    tasks.webhook_delivery_task(ping(endpoint).pk)  # another delivery succeeds
    receiver.responses = [(500, 0.0)]
    WebhookDelivery.objects.filter(pk=stuck.pk).update(next_attempt_at=timezone.now())
    tasks.webhook_delivery_task(stuck.pk)

    stuck.refresh_from_db()
    assert stuck.status == "given_up"
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert endpoint.consecutive_failures == 1


def test_a_successful_invoice_delivery_appears_in_the_invoice_activity(owner, endpoint, receiver):
    invoice = make_issued(workspace=owner.workspace, user=owner.user)
    delivery = WebhookDelivery.objects.get(event__event_type="invoice.issued")

    tasks.webhook_delivery_task(delivery.pk)

    activity = InvoiceActivity.objects.get(invoice=invoice, action=InvoiceActivity.Action.WEBHOOK)
    assert activity.message == (
        "Webhook invoice.issued delivered to 127.0.0.1:"
        f"{receiver.url.split(':')[2].split('/')[0]} (HTTP 200, attempt 1)."
    )
    body = receiver.requests[0].json
    assert body["data"]["id"] == str(invoice.public_id)
    assert body["data"]["number"] == invoice.number
    assert body["data"]["total"] == "121.00"
    assert json.loads(receiver.requests[0].body)["type"] == "invoice.issued"


def test_a_delivery_left_delivering_by_a_dead_worker_is_taken_over(endpoint, receiver, settings):
    delivery = ping(endpoint)
    long_ago = timezone.now() - dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="delivering", claimed_at=long_ago, attempts=1
    )
    fresh = ping(endpoint)
    WebhookDelivery.objects.filter(pk=fresh.pk).update(
        status="delivering", claimed_at=timezone.now(), attempts=1
    )

    tasks.webhook_delivery_task(fresh.pk)  # a live worker holds it: nothing
    tasks.webhook_delivery_task(delivery.pk)

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
