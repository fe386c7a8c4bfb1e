"""Every write of the webhooks app: endpoints, the event outbox, deliveries and their
attempts.

How an event reaches a receiver, and why it arrives once per event id:
1. A service of another app calls `webhook_event_record` (or one of the `*_event_record`
   helpers below, which build the payload only when someone listens) inside its own
   transaction. It costs one query when no active endpoint subscribes; otherwise it writes
   the event and one delivery per subscribed endpoint (bulk) and registers an after-commit
   hand-off to the broker. A rolled-back change therefore emits nothing, and a broker
   outage only delays the delivery: the sweeper finds pending rows later.
2. `webhook_delivery_attempt` (the delivery task) claims the delivery with a conditional
   UPDATE (pending, or failed and due, or delivering with a claim older than the task's
   hard time limit) before any HTTP call: two runs of the task POST once.
3. The POST carries the event id (the same on every retry: receivers de-duplicate on it)
   and an HMAC-SHA256 signature of `"<timestamp>.<body>"` with the endpoint's secret.
4. Success (2xx) ends the delivery; anything else schedules the next attempt with
   exponential backoff and jitter (`retry_delay`), 15 attempts over about a day, after
   which the delivery is given up. A give-up on an endpoint that has not succeeded since
   disables it and tells the workspace owner by e-mail (a task, once).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from solodesk.accounts.models import Membership, User, Workspace
from solodesk.core.exceptions import ApplicationError
from solodesk.core.services import tasks_send
from solodesk.invoicing.models import Invoice, InvoiceActivity
from solodesk.invoicing.selectors import OPEN_STATUSES
from solodesk.webhooks.models import (
    EVENT_TYPE_NAMES,
    PING,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

if TYPE_CHECKING:
    from solodesk.invoicing.models import Payment
    from solodesk.quotes.models import Quote
    from solodesk.timetracking.models import RunningTimer, TimeEntry

logger = logging.getLogger(__name__)

DELIVERY_TASK = "solodesk.webhooks.tasks.webhook_delivery_task"
NOTIFY_TASK = "solodesk.webhooks.tasks.webhook_endpoint_disabled_notify_task"
OVERDUE = "invoice.overdue"
SIGNATURE_HEADER = "Solodesk-Signature"
EVENT_ID_HEADER = "Solodesk-Event-Id"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
MAX_ENDPOINTS_PER_WORKSPACE = 20

# Retry schedule: attempt n failed → wait 30 s × 2^(n-1), capped at 4 h, ±20 % jitter.
# 15 attempts: 30 s, 1, 2, 4, 8, 16, 32, 64, 128 min, then 4 h × 5 ≈ 24 h in all.
MAX_ATTEMPTS = 15
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 4 * 3600
JITTER = 0.2
SWEEP_BATCH_SIZE = 500
# A disabled endpoint whose notice was not sent this long after is handed over again.
NOTICE_REQUEUE_AFTER = dt.timedelta(minutes=5)
ERROR_LENGTH = 500


# --- the outbox ------------------------------------------------------------------------------


def _json_safe(payload: dict[str, Any]) -> dict[str, Any]:
    """Decimals become strings, dates ISO 8601, UUIDs strings: what the receiver gets."""
    result: dict[str, Any] = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    return result


def _subscriptions(*, workspace_id: int) -> list[tuple[int, list[str]]]:
    """The one query an event costs when nobody listens: the workspace's active endpoints
    and what they subscribe to. Filtered in Python: a workspace has a handful of
    endpoints, and a JSON "contains" lookup is not portable to SQLite."""
    return list(
        WebhookEndpoint.objects.filter(workspace_id=workspace_id, is_active=True).values_list(
            "pk", "events"
        )
    )


def _listening(rows: list[tuple[int, list[str]]], event_type: str) -> list[int]:
    return [pk for pk, events in rows if event_type in (events or [])]


def _subscribed_endpoint_ids(*, workspace_id: int, event_type: str) -> list[int]:
    return _listening(_subscriptions(workspace_id=workspace_id), event_type)


def _send_to_broker(task_name: str, object_ids: Iterable[int]) -> None:
    """Hand ids to the broker. An outage is not the caller's problem: the rows are
    committed and the sweeper hands them over again later."""
    tasks_send(task_name, object_ids)


def _event_write(
    *,
    workspace_id: int,
    event_type: str,
    payload: dict[str, Any],
    endpoint_ids: list[int],
    dedup_key: str | None = None,
    invoice_id: int | None = None,
) -> WebhookEvent | None:
    """The event and its deliveries, in the caller's transaction; None when `dedup_key`
    was emitted before (the savepoint keeps the caller's transaction usable)."""
    fields = {
        "workspace_id": workspace_id,
        "event_type": event_type,
        "payload": _json_safe(payload),
        "dedup_key": dedup_key,
        "invoice_id": invoice_id,
    }
    if dedup_key is not None:
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(**fields)
        except IntegrityError:
            return None
    else:
        event = WebhookEvent.objects.create(**fields)
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(event=event, endpoint_id=pk, next_attempt_at=now) for pk in endpoint_ids]
    )
    delivery_ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: _send_to_broker(DELIVERY_TASK, delivery_ids))
    return event


def webhook_event_record(
    *,
    workspace: Workspace,
    event_type: str,
    payload: dict[str, Any],
    dedup_key: str | None = None,
) -> None:
    """Emit an event to the workspace's endpoints that subscribe to it, in the caller's
    transaction (one query when none does)."""
    endpoint_ids = _subscribed_endpoint_ids(workspace_id=workspace.pk, event_type=event_type)
    if not endpoint_ids:
        return
    _event_write(
        workspace_id=workspace.pk,
        event_type=event_type,
        payload=payload,
        endpoint_ids=endpoint_ids,
        dedup_key=dedup_key,
    )


# --- payloads: the shapes receivers see (stable; amounts as decimal strings) ----------------


def _money(value: Any) -> str:
    return f"{value:.2f}"


def invoice_payload(invoice: Invoice) -> dict[str, Any]:
    """The invoice as the API's invoice summary shows it (a subset, same names)."""
    portal_url = (
        settings.SITE_URL + reverse("portal:invoice", args=[invoice.portal_token])
        if invoice.portal_token
        else None
    )
    return {
        "id": str(invoice.public_id),
        "kind": invoice.kind,
        "number": invoice.number,
        "status": invoice.status,
        "overdue": invoice.is_overdue,
        "client_id": str(invoice.client.public_id),
        "client_name": invoice.client.name,
        "currency": invoice.currency,
        "issue_date": invoice.issue_date.isoformat() if invoice.issue_date else None,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "subtotal": _money(invoice.subtotal),
        "tax_total": _money(invoice.tax_total),
        "total": _money(invoice.total),
        "amount_paid": _money(invoice.amount_paid),
        "amount_credited": _money(invoice.amount_credited),
        "amount_due": _money(invoice.amount_due),
        "portal_url": portal_url,
    }


def webhook_event_record_invoice(*, invoice: Invoice, event_type: str) -> WebhookEvent | None:
    """invoice.issued / sent / viewed / paid / overdue. The payload is built only when an
    endpoint listens, so a workspace without webhooks pays one query."""
    endpoint_ids = _subscribed_endpoint_ids(
        workspace_id=invoice.workspace_id, event_type=event_type
    )
    if not endpoint_ids:
        return None
    return _event_write(
        workspace_id=invoice.workspace_id,
        event_type=event_type,
        payload=invoice_payload(invoice),
        endpoint_ids=endpoint_ids,
        invoice_id=invoice.pk,
    )


def webhook_event_record_payment(*, payment: Payment) -> WebhookEvent | None:
    """payment.recorded, and invoice.paid when the payment settled the invoice: one query
    for both when nobody listens."""
    invoice = payment.invoice
    rows = _subscriptions(workspace_id=invoice.workspace_id)
    endpoint_ids = _listening(rows, "payment.recorded")
    paid_endpoint_ids = (
        _listening(rows, "invoice.paid") if invoice.status == Invoice.Status.PAID else []
    )
    if not endpoint_ids and not paid_endpoint_ids:
        return None
    invoice_data = invoice_payload(invoice)
    event = None
    if endpoint_ids:
        payload = {
            "id": str(payment.public_id),
            "amount": _money(payment.amount),
            "currency": invoice.currency,
            "date": payment.date.isoformat(),
            "method": payment.method,
            "reference": payment.reference,
            "invoice": invoice_data,
        }
        event = _event_write(
            workspace_id=invoice.workspace_id,
            event_type="payment.recorded",
            payload=payload,
            endpoint_ids=endpoint_ids,
            invoice_id=invoice.pk,
        )
    if paid_endpoint_ids:
        _event_write(
            workspace_id=invoice.workspace_id,
            event_type="invoice.paid",
            payload=invoice_data,
            endpoint_ids=paid_endpoint_ids,
            invoice_id=invoice.pk,
        )
    return event


def webhook_event_record_quote(*, quote: Quote, event_type: str) -> WebhookEvent | None:
    """quote.accepted / quote.declined."""
    endpoint_ids = _subscribed_endpoint_ids(workspace_id=quote.workspace_id, event_type=event_type)
    if not endpoint_ids:
        return None
    portal_url = (
        settings.SITE_URL + reverse("quote_portal:quote", args=[quote.portal_token])
        if quote.portal_token
        else None
    )
    payload = {
        "id": str(quote.public_id),
        "number": quote.number,
        "status": quote.status,
        "client_id": str(quote.client.public_id),
        "client_name": quote.client.name,
        "currency": quote.currency,
        "issue_date": quote.issue_date.isoformat() if quote.issue_date else None,
        "valid_until": quote.valid_until.isoformat() if quote.valid_until else None,
        "total": _money(quote.total),
        "accepted_by_name": quote.accepted_by_name,
        "decline_reason": quote.decline_reason,
        "portal_url": portal_url,
    }
    return _event_write(
        workspace_id=quote.workspace_id,
        event_type=event_type,
        payload=payload,
        endpoint_ids=endpoint_ids,
    )


def _time_entry_payload(entry: TimeEntry) -> dict[str, Any]:
    return {
        "id": str(entry.public_id),
        "time_entry_id": str(entry.public_id),
        "user_email": entry.user.email,
        "project_id": str(entry.project.public_id),
        "project_name": entry.project.name,
        "description": entry.description,
        "started_at": entry.started_at.isoformat(),
        "ended_at": entry.ended_at.isoformat(),
        "duration_seconds": entry.duration_seconds,
        "is_billable": entry.is_billable,
    }


def webhook_event_record_timer_started(
    *, timer: RunningTimer, stopped_entry: TimeEntry | None = None
) -> None:
    """timer.started, and timer.stopped first when starting switched from a running timer:
    one query for both when nobody listens."""
    rows = _subscriptions(workspace_id=timer.workspace_id)
    if stopped_entry is not None:
        stopped_ids = _listening(rows, "timer.stopped")
        if stopped_ids:
            _event_write(
                workspace_id=timer.workspace_id,
                event_type="timer.stopped",
                payload=_time_entry_payload(stopped_entry),
                endpoint_ids=stopped_ids,
            )
    endpoint_ids = _listening(rows, "timer.started")
    if not endpoint_ids:
        return
    payload = {
        "id": str(timer.public_id),
        "user_email": timer.user.email,
        "project_id": str(timer.project.public_id),
        "project_name": timer.project.name,
        "description": timer.description,
        "started_at": timer.started_at.isoformat(),
    }
    _event_write(
        workspace_id=timer.workspace_id,
        event_type="timer.started",
        payload=payload,
        endpoint_ids=endpoint_ids,
    )


def webhook_event_record_timer_stopped(*, entry: TimeEntry) -> None:
    """The stopped timer is gone; the event carries the time entry it became (`id` is the
    entry's id)."""
    endpoint_ids = _subscribed_endpoint_ids(
        workspace_id=entry.workspace_id, event_type="timer.stopped"
    )
    if not endpoint_ids:
        return
    _event_write(
        workspace_id=entry.workspace_id,
        event_type="timer.stopped",
        payload=_time_entry_payload(entry),
        endpoint_ids=endpoint_ids,
    )


# --- endpoints -------------------------------------------------------------------------------


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_hex(32)


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ApplicationError.for_field("url", "Enter the URL that receives the events.")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ApplicationError.for_field(
            "url", "Enter a full http:// or https:// URL, like https://example.com/hooks."
        ) from None
    if len(url) > 500:
        raise ApplicationError.for_field("url", "The URL can have at most 500 characters.")
    return url


def _clean_events(events: Iterable[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(events or []))
    unknown = [name for name in chosen if name not in EVENT_TYPE_NAMES]
    if unknown:
        raise ApplicationError.for_field(
            "events", f"Unknown event type: {', '.join(sorted(unknown))[:200]}."
        )
    if not chosen:
        raise ApplicationError.for_field("events", "Choose at least one event.")
    return [name for name in EVENT_TYPE_NAMES if name in chosen]


@transaction.atomic
def webhook_endpoint_create(
    *,
    workspace: Workspace,
    user: User | None,
    url: str,
    events: Iterable[str],
    description: str = "",
) -> WebhookEndpoint:
    url = _clean_url(url)
    chosen = _clean_events(events)
    if WebhookEndpoint.objects.filter(workspace=workspace).count() >= MAX_ENDPOINTS_PER_WORKSPACE:
        raise ApplicationError(
            f"A workspace can have at most {MAX_ENDPOINTS_PER_WORKSPACE} webhook endpoints."
        )
    return WebhookEndpoint.objects.create(
        workspace=workspace,
        url=url,
        events=chosen,
        description=" ".join(str(description or "").split())[:200],
        secret=_new_secret(),
        created_by=user,
    )


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
) -> WebhookEndpoint:
    if url is not None:
        endpoint.url = _clean_url(url)
    if events is not None:
        endpoint.events = _clean_events(events)
    if description is not None:
        endpoint.description = " ".join(str(description).split())[:200]
    endpoint.save(update_fields=["url", "events", "description", "updated_at"])
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Deleting an endpoint deletes its deliveries and log; events stay (other endpoints
    may still be delivering them)."""
    endpoint.delete()


def webhook_endpoint_secret_regenerate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new signing secret, used from the next attempt on; the old one stops at once."""
    endpoint.secret = _new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


@transaction.atomic
def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Re-enable: the failure count starts again and deliveries still waiting (pending or
    failed, not given up) become due now; the sweeper sends them."""
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=True,
        disabled_at=None,
        disabled_reason="",
        consecutive_failures=0,
        owner_notified_at=None,
        updated_at=now,
    )
    waiting = WebhookDelivery.objects.filter(
        endpoint=endpoint,
        status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED],
    )
    waiting_ids = list(waiting.values_list("pk", flat=True)[:SWEEP_BATCH_SIZE])
    waiting.update(next_attempt_at=now)
    transaction.on_commit(lambda: _send_to_broker(DELIVERY_TASK, waiting_ids))
    endpoint.refresh_from_db()
    return endpoint


def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, user: User) -> WebhookEndpoint:
    """Disabled by hand: nothing is sent until re-enabled, and nobody needs a notice."""
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False,
        disabled_at=now,
        disabled_reason=f"Disabled by {user.email}.",
        owner_notified_at=now,
        updated_at=now,
    )
    endpoint.refresh_from_db()
    return endpoint


def webhook_endpoint_ping(*, endpoint: WebhookEndpoint) -> WebhookEvent:
    """A `ping` event to this endpoint only, whatever it subscribes to."""
    if not endpoint.is_active:
        raise ApplicationError("Re-enable this endpoint before sending it a test event.")
    with transaction.atomic():
        event = _event_write(
            workspace_id=endpoint.workspace_id,
            event_type=PING,
            payload={
                "message": "A test event from Solodesk.",
                "endpoint_id": str(endpoint.public_id),
            },
            endpoint_ids=[endpoint.pk],
        )
    assert event is not None  # no dedup key: always written
    return event


# --- delivering ------------------------------------------------------------------------------


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """How long after the `attempts`-th failed attempt the next one is due."""
    base = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)
    jitter = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return dt.timedelta(seconds=base * jitter)


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_body(event: WebhookEvent) -> bytes:
    return json.dumps(
        {
            "id": str(event.public_id),
            "type": event.event_type,
            "created_at": event.created_at.isoformat(),
            "data": event.payload,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def _stuck_after() -> dt.timedelta:
    """A `delivering` claim older than the task's hard time limit belongs to a dead worker."""
    return dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A receiver's redirect is not followed (it could point anywhere): it fails the attempt."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """POST once; the HTTP status (None when there was no answer) and an error message."""
    if not url.lower().startswith(("http://", "https://")):
        return None, "Only http:// and https:// URLs are called."
    # The scheme is checked above: no file:// or other handler is ever reached.
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            response.read(65536)
            return response.status, ""
    except urllib.error.HTTPError as error:
        if 300 <= error.code < 400:
            location = error.headers.get("Location", "") if error.headers else ""
            return error.code, f"Redirect to {location[:200]} not followed."
        return error.code, f"HTTP {error.code} {error.reason}"[:ERROR_LENGTH]
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            return None, f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g} s."
        return None, f"Could not connect: {reason}"[:ERROR_LENGTH]
    except TimeoutError:
        return None, f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g} s."
    except (OSError, ValueError) as error:
        return None, f"{error.__class__.__name__}: {error}"[:ERROR_LENGTH]


def webhook_delivery_claim(*, delivery_id: int) -> WebhookDelivery | None:
    """Take the delivery for one attempt, or None when it must not be attempted now: it
    succeeded or was given up, its next attempt is not due, another run holds a fresh
    claim, or its endpoint is disabled."""
    now = timezone.now()
    claimable = (
        Q(status=WebhookDelivery.Status.PENDING)
        | Q(status=WebhookDelivery.Status.FAILED, next_attempt_at__lte=now)
        | Q(status=WebhookDelivery.Status.DELIVERING, claimed_at__lt=now - _stuck_after())
    )
    active_endpoint = WebhookEndpoint.objects.filter(pk=OuterRef("endpoint_id"), is_active=True)
    claimed = WebhookDelivery.objects.filter(
        claimable, Exists(active_endpoint), pk=delivery_id
    ).update(
        status=WebhookDelivery.Status.DELIVERING,
        claimed_at=now,
        attempts=F("attempts") + 1,
        updated_at=now,
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)


def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """One attempt of one delivery (the delivery task's work). None when nothing was due."""
    delivery = webhook_delivery_claim(delivery_id=delivery_id)
    if delivery is None:
        return None
    event, endpoint = delivery.event, delivery.endpoint
    body = event_body(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Solodesk-Webhooks/1",
        EVENT_ID_HEADER: str(event.public_id),
        SIGNATURE_HEADER: signature_header(
            secret=endpoint.secret, timestamp=int(time.time()), body=body
        ),
    }
    started = time.monotonic()
    status_code, error = _post(endpoint.url, body, headers)
    duration_ms = int((time.monotonic() - started) * 1000)
    if status_code is not None and not 200 <= status_code < 300 and not error:
        error = f"HTTP {status_code}"
    _record_outcome(delivery, status_code=status_code, duration_ms=duration_ms, error=error)
    delivery.refresh_from_db()
    return delivery


def _audit(event: WebhookEvent, message: str) -> None:
    """Webhook outcomes about an invoice appear in its activity ("did my system hear that
    it was paid?"). Written here, not through invoicing: the action exists for this."""
    if event.invoice_id is None:
        return
    InvoiceActivity.objects.create(
        invoice_id=event.invoice_id,
        actor=None,
        action=InvoiceActivity.Action.WEBHOOK,
        message=message[:500],
    )


@transaction.atomic
def _record_outcome(
    delivery: WebhookDelivery, *, status_code: int | None, duration_ms: int, error: str
) -> None:
    event, endpoint = delivery.event, delivery.endpoint
    succeeded = status_code is not None and 200 <= status_code < 300
    now = timezone.now()
    WebhookAttempt.objects.create(
        delivery=delivery,
        endpoint=endpoint,
        attempt_number=delivery.attempts,
        status_code=status_code,
        duration_ms=duration_ms,
        succeeded=succeeded,
        error=error[:ERROR_LENGTH],
    )
    # Only the run that holds the claim finishes the delivery.
    mine = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.DELIVERING, claimed_at=delivery.claimed_at
    )
    last = {
        "last_status_code": status_code,
        "last_duration_ms": duration_ms,
        "last_error": error[:ERROR_LENGTH],
        "updated_at": now,
    }
    host = endpoint.url.split("//", 1)[-1].split("/", 1)[0]
    code = f"HTTP {status_code}" if status_code is not None else "no answer"
    if succeeded:
        if mine.update(
            status=WebhookDelivery.Status.SUCCEEDED, delivered_at=now, next_attempt_at=None, **last
        ):
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
            _audit(
                event,
                f"Webhook {event.event_type} delivered to {host} ({code}, "
                f"attempt {delivery.attempts}).",
            )
        return
    if delivery.attempts < MAX_ATTEMPTS:
        mine.update(
            status=WebhookDelivery.Status.FAILED,
            next_attempt_at=now + retry_delay(delivery.attempts),
            **last,
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        return
    if not mine.update(status=WebhookDelivery.Status.GIVEN_UP, next_attempt_at=None, **last):
        return
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    _audit(
        event,
        f"Webhook {event.event_type} to {host} given up after {delivery.attempts} attempts "
        f"({error[:200]}).",
    )
    # Disabled only when the endpoint has not succeeded for a whole retry schedule: one
    # delivery given up on an endpoint that answers other deliveries is not an outage.
    failures = (
        WebhookEndpoint.objects.filter(pk=endpoint.pk)
        .values_list("consecutive_failures", flat=True)
        .first()
    )
    if failures is not None and failures >= MAX_ATTEMPTS:
        _endpoint_disable_after_failures(endpoint, error)


def _endpoint_disable_after_failures(endpoint: WebhookEndpoint, error: str) -> None:
    now = timezone.now()
    reason = (
        f"Disabled after {MAX_ATTEMPTS} failed attempts over about a day. Last error: {error[:300]}"
    )
    disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False,
        disabled_at=now,
        disabled_reason=reason[:500],
        owner_notified_at=None,
        updated_at=now,
    )
    if disabled:
        endpoint_id = endpoint.pk
        transaction.on_commit(lambda: _send_to_broker(NOTIFY_TASK, [endpoint_id]))


def webhook_endpoint_disabled_notify(*, endpoint_id: int) -> bool:
    """E-mail the workspace's owners that the endpoint was disabled, once: the conditional
    UPDATE of `owner_notified_at` is the claim, given back if the mail server refuses."""
    now = timezone.now()
    claimed = WebhookEndpoint.objects.filter(
        pk=endpoint_id, is_active=False, owner_notified_at__isnull=True
    ).update(owner_notified_at=now)
    if not claimed:
        return False
    endpoint = WebhookEndpoint.objects.select_related("workspace").get(pk=endpoint_id)
    recipients = list(
        Membership.objects.filter(
            workspace_id=endpoint.workspace_id, role=Membership.Role.OWNER
        ).values_list("user__email", flat=True)
    )
    if not recipients:
        return False
    page = settings.SITE_URL + reverse("webhooks:detail", args=[endpoint.public_id])
    body = (
        f"Solodesk stopped sending webhooks to {endpoint.url} "
        f"(workspace {endpoint.workspace.name}).\n\n"
        f"{endpoint.disabled_reason}\n\n"
        "Deliveries that were waiting are kept; events that happen while it is disabled "
        "are not sent to it. Once the receiver works again, re-enable the endpoint here "
        f"and the waiting deliveries are sent:\n{page}\n"
    )
    try:
        send_mail(
            subject=f"Webhook endpoint disabled: {endpoint.url[:80]}",
            message=body,
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:
        WebhookEndpoint.objects.filter(pk=endpoint_id, owner_notified_at=now).update(
            owner_notified_at=None
        )
        raise
    return True


# --- the sweeper -----------------------------------------------------------------------------


def webhook_overdue_events_emit(*, limit: int = SWEEP_BATCH_SIZE) -> int:
    """invoice.overdue, once per invoice (dedup key `invoice.overdue:<invoice id>`), for
    invoices whose due date has passed in their workspace's time zone with money due, in
    workspaces where an active endpoint subscribes. Bounded: at most `limit` invoices per
    sweep, oldest due date first; an anti-join skips those already announced. A fixed
    number of queries per batch: the endpoints, the candidates, then in one transaction
    the events (bulk, conflicts on the dedup key skipped), their read-back and the
    deliveries (bulk); the broker gets them after commit."""
    subscribed: dict[int, list[int]] = {}
    for pk, workspace_id, event_types in WebhookEndpoint.objects.filter(is_active=True).values_list(
        "pk", "workspace_id", "events"
    ):
        if OVERDUE in (event_types or []):
            subscribed.setdefault(workspace_id, []).append(pk)
    if not subscribed:
        return 0
    # One day of slack for time zones ahead of UTC; each invoice is then checked in its own.
    latest_due = timezone.now().date() + dt.timedelta(days=1)
    announced = WebhookEvent.objects.filter(invoice=OuterRef("pk"), event_type=OVERDUE)
    candidates = (
        Invoice.objects.filter(
            workspace_id__in=list(subscribed),
            kind=Invoice.Kind.INVOICE,
            status__in=OPEN_STATUSES,
            due_date__lt=latest_due,
            total__gt=F("amount_paid") + F("amount_credited"),
        )
        .filter(~Exists(announced))
        .select_related("workspace", "client")
        .order_by("due_date", "pk")[:limit]
    )
    events: list[WebhookEvent] = []
    for invoice in candidates:
        with timezone.override(invoice.workspace.tzinfo):
            if not invoice.is_overdue:
                continue
            events.append(
                WebhookEvent(
                    workspace_id=invoice.workspace_id,
                    event_type=OVERDUE,
                    payload=_json_safe(invoice_payload(invoice)),
                    dedup_key=f"{OVERDUE}:{invoice.public_id}",
                    invoice_id=invoice.pk,
                )
            )
    if not events:
        return 0
    with transaction.atomic():
        # A concurrent sweep may have announced some of these since the anti-join: the
        # unique dedup key skips them, and the read-back by this run's own `public_id`s
        # finds the events written here (ignore_conflicts sets no pk).
        WebhookEvent.objects.bulk_create(events, ignore_conflicts=True)
        written = list(
            WebhookEvent.objects.filter(
                public_id__in=[event.public_id for event in events]
            ).values_list("pk", "workspace_id")
        )
        now = timezone.now()
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(event_id=event_id, endpoint_id=endpoint_id, next_attempt_at=now)
            for event_id, workspace_id in written
            for endpoint_id in subscribed[workspace_id]
        )
        delivery_ids = [delivery.pk for delivery in deliveries]
        transaction.on_commit(lambda: _send_to_broker(DELIVERY_TASK, delivery_ids))
    return len(written)


def webhook_deliveries_sweep(*, batch_size: int = SWEEP_BATCH_SIZE) -> dict[str, int]:
    """Every minute: emit overdue events, then hand the broker the deliveries that are due
    (failed ones whose next attempt has come, pending ones nobody took — the broker was
    down — and `delivering` ones whose worker died), oldest first, at most `batch_size`;
    and re-send owner notices that did not go out. A delivery handed over twice is
    harmless: the claim lets one attempt through."""
    overdue = webhook_overdue_events_emit(limit=batch_size)
    now = timezone.now()
    requeue_after = dt.timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS)
    due = (
        Q(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now - requeue_after)
        | Q(status=WebhookDelivery.Status.FAILED, next_attempt_at__lte=now)
        | Q(status=WebhookDelivery.Status.DELIVERING, claimed_at__lt=now - _stuck_after())
    )
    delivery_ids = list(
        WebhookDelivery.objects.filter(due, endpoint__is_active=True)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    _send_to_broker(DELIVERY_TASK, delivery_ids)
    notice_ids = list(
        WebhookEndpoint.objects.filter(
            is_active=False,
            owner_notified_at__isnull=True,
            disabled_at__lt=now - NOTICE_REQUEUE_AFTER,
        ).values_list("pk", flat=True)[:100]
    )
    _send_to_broker(NOTIFY_TASK, notice_ids)
    return {"overdue_events": overdue, "deliveries": len(delivery_ids), "notices": len(notice_ids)}
