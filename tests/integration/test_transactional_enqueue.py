"""Work enqueued after commit survives a broker outage at that moment, and the publish to a
dead broker fails fast instead of holding the request.

- Quote e-mails: the sent quote is the outbox row (`emailed_at` empty); the sweeper
  re-enqueues the ones still unsent, and the e-mail's own claim keeps it to one.
- Account e-mails (password reset): no row to re-find, so they are sent from the request
  when the broker refuses them.
- Publishing to a Redis port where nothing listens, or to one that accepts and never
  answers, raises within the configured budget."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from unittest import mock

import pytest
from celery import Celery
from django.core import mail
from django.test import Client as DjangoClient
from django.utils import timezone
from kombu.exceptions import OperationalError

from solodesk.config.celery_app import app as celery_app
from solodesk.config.celery_app import redis_transport_options
from solodesk.quotes import services as quote_services
from solodesk.quotes.models import Quote, QuoteActivity
from solodesk.quotes.tests.helpers import make_quote, make_sent_quote
from tests.integration.smtp_inbox import free_port

pytestmark = pytest.mark.integration

BROKER_DOWN = OperationalError("[Errno 111] Connection refused")


@pytest.fixture(autouse=True)
def _instant_quote_pdf(monkeypatch):
    monkeypatch.setattr(quote_services, "_email_pdf", lambda quote_id: None)


def _age(quote: Quote, minutes: int) -> None:
    Quote.objects.filter(pk=quote.pk).update(sent_at=timezone.now() - dt.timedelta(minutes=minutes))


def test_a_quote_sent_while_the_broker_is_down_is_emailed_once_after_the_sweep(
    owner, django_capture_on_commit_callbacks, caplog
):
    with (
        mock.patch.object(celery_app, "send_task", side_effect=BROKER_DOWN),
        django_capture_on_commit_callbacks(execute=True),
    ):
        quote = make_sent_quote(workspace=owner.workspace, user=owner.user)
    assert f"Could not enqueue the e-mail of quote {quote.pk}; the sweeper will retry" in (
        caplog.text
    )
    _age(quote, minutes=10)

    with mock.patch.object(celery_app, "send_task") as send_task:
        requeued = quote_services.quote_emails_requeue_stale(older_than=dt.timedelta(minutes=5))
    assert requeued == 1
    [call] = send_task.call_args_list
    assert call.args == (quote_services.EMAIL_TASK_NAME,) and call.kwargs == {"args": [quote.pk]}

    # The worker runs the message, and a duplicate of it (the next sweep raced it).
    assert quote_services.quote_email_deliver(quote_id=quote.pk) is True
    assert quote_services.quote_email_deliver(quote_id=quote.pk) is False
    assert len(mail.outbox) == 1
    assert quote_services.quote_emails_requeue_stale(older_than=dt.timedelta(0)) == 0


def test_the_quote_sweeper_leaves_fresh_emailed_draft_and_given_up_quotes_alone(owner):
    fresh = make_sent_quote(workspace=owner.workspace, user=owner.user)
    _age(fresh, minutes=1)
    emailed = make_sent_quote(workspace=owner.workspace, user=owner.user)
    _age(emailed, minutes=10)
    Quote.objects.filter(pk=emailed.pk).update(emailed_at=timezone.now())
    make_quote(workspace=owner.workspace, user=owner.user)  # a draft
    too_old = make_sent_quote(workspace=owner.workspace, user=owner.user)
    _age(too_old, minutes=60 * 49)
    refused = make_sent_quote(workspace=owner.workspace, user=owner.user)
    _age(refused, minutes=10)
    QuoteActivity.objects.bulk_create(
        QuoteActivity(quote=refused, action=QuoteActivity.Action.EMAIL_FAILED, message="550")
        for _ in range(quote_services.QUOTE_EMAIL_MAX_FAILURES)
    )
    waiting = make_sent_quote(workspace=owner.workspace, user=owner.user)
    _age(waiting, minutes=10)

    with mock.patch.object(celery_app, "send_task") as send_task:
        assert quote_services.quote_emails_requeue_stale(older_than=dt.timedelta(minutes=5)) == 1

    assert [call.kwargs["args"] for call in send_task.call_args_list] == [[waiting.pk]]


def test_a_password_reset_is_emailed_from_the_request_when_the_broker_is_down(
    owner, django_capture_on_commit_callbacks
):
    with (
        mock.patch(
            "solodesk.accounts.tasks.email_send_task.delay", side_effect=BROKER_DOWN
        ) as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = DjangoClient().post("/accounts/password/reset/", {"email": owner.user.email})

    assert response.status_code == 302
    delay.assert_called_once()
    [message] = mail.outbox
    assert message.to == [owner.user.email]


# --- publishing to a dead broker ---------------------------------------------------------------


def _publish_seconds(url: str) -> float:
    """Time one publish with Solodesk's Celery settings to the broker at `url` (given as
    an explicit connection: the CELERY_BROKER_URL environment variable would win over a
    configured URL)."""
    probe = Celery("probe")
    probe.config_from_object("django.conf:settings", namespace="CELERY")
    started = time.monotonic()
    with (
        probe.connection_for_write(url, transport_options=redis_transport_options()) as broker,
        pytest.raises(OperationalError),
    ):
        probe.send_task("solodesk.core.tasks.scheduler_heartbeat_task", connection=broker)
    return time.monotonic() - started


def test_publishing_to_a_redis_port_where_nothing_listens_fails_at_once():
    assert _publish_seconds(f"redis://127.0.0.1:{free_port()}/0") < 1.0


def test_publishing_to_a_redis_that_never_answers_fails_within_two_socket_timeouts(settings):
    settings.BROKER_SOCKET_TIMEOUT_SECONDS = 0.5
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # accepts connections (the kernel does) and never answers
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        port = listener.getsockname()[1]
        # One try and one retry, each waiting out the socket timeout.
        assert _publish_seconds(f"redis://127.0.0.1:{port}/0") < 2 * 0.5 + 1.0
    finally:
        stop.set()
        holder.join(timeout=5)
        for connection in accepted:
            connection.close()
        listener.close()
