"""The outbox: events are written in the caller's transaction, one delivery per subscribed
active endpoint, handed to the broker after commit; each event type comes from its service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.db import transaction
from django.test import Client as DjangoClient
from django.urls import reverse

from solodesk.invoicing import pdf, sending
from solodesk.invoicing import services as invoicing
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.tests.factories import make_client, make_issued
from solodesk.quotes import services as quotes
from solodesk.quotes.tests.helpers import make_sent_quote
from solodesk.tests.factories import ProjectFactory
from solodesk.timetracking import services as timetracking
from solodesk.webhooks import services
from solodesk.webhooks.models import WebhookDelivery, WebhookEvent
from solodesk.webhooks.tests.conftest import make_endpoint, sent_ids

# Taken at import, before the autouse fixture replaces it with a recorder.
REAL_SEND_TO_BROKER = services._send_to_broker


def events_of(workspace, event_type: str) -> list[WebhookEvent]:
    return list(WebhookEvent.objects.filter(workspace=workspace, event_type=event_type))


@pytest.fixture(autouse=True)
def _no_quote_side_effects():
    with (
        mock.patch("solodesk.quotes.services._enqueue_email"),
        mock.patch("solodesk.quotes.pdf._enqueue_pdf"),
    ):
        yield


def test_without_endpoints_an_event_costs_one_query_and_writes_nothing(
    owner, django_assert_num_queries
):
    # 1 the workspace's active endpoints.
    with django_assert_num_queries(1):
        services.webhook_event_record(
            workspace=owner.workspace, event_type="invoice.paid", payload={"id": "x"}
        )
    assert not WebhookEvent.objects.exists()


def test_only_active_endpoints_subscribed_to_the_type_get_a_delivery(
    owner, stranger, broker, django_capture_on_commit_callbacks
):
    paid = make_endpoint(owner.workspace, events=["invoice.paid"])
    make_endpoint(owner.workspace, events=["invoice.issued"])
    disabled = make_endpoint(owner.workspace, events=["invoice.paid"])
    disabled.is_active = False
    disabled.save()
    make_endpoint(stranger.workspace, events=["invoice.paid"])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.webhook_event_record(
            workspace=owner.workspace,
            event_type="invoice.paid",
            payload={"id": "inv_1", "total": Decimal("12.50"), "day": dt.date(2026, 3, 2)},
        )

    (event,) = WebhookEvent.objects.all()
    assert event.payload == {"id": "inv_1", "total": "12.50", "day": "2026-03-02"}
    (delivery,) = WebhookDelivery.objects.all()
    assert (delivery.endpoint, delivery.event, delivery.status) == (paid, event, "pending")
    assert len(callbacks) == 1
    assert sent_ids(broker) == [delivery.pk]


def test_a_rolled_back_change_emits_nothing(owner, broker, django_capture_on_commit_callbacks):
    make_endpoint(owner.workspace)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.webhook_event_record(
            workspace=owner.workspace, event_type="invoice.paid", payload={}
        )
        raise RuntimeError("the change failed")

    assert not WebhookEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert broker.call_count == 0


def test_a_broker_outage_at_enqueue_is_logged_and_never_raised(owner, caplog):
    with mock.patch(
        "solodesk.config.celery_app.app.send_task", side_effect=OSError("connection refused")
    ) as send_task:
        REAL_SEND_TO_BROKER(services.DELIVERY_TASK, [1, 2, 3])

    # One try: the broker is down, the rest wait for the sweeper too.
    assert send_task.call_count == 1
    assert "the sweeper will retry" in caplog.text


def test_a_dedup_key_emits_once(owner):
    make_endpoint(owner.workspace)
    for _ in range(2):
        services.webhook_event_record(
            workspace=owner.workspace, event_type="invoice.overdue", payload={}, dedup_key="k1"
        )
    assert WebhookEvent.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1


# --- each event type comes from its service -------------------------------------------------


def test_issuing_an_invoice_emits_invoice_issued(owner):
    make_endpoint(owner.workspace)
    client = make_client(owner.workspace, name="Acme Robotics")
    invoice = make_issued(workspace=owner.workspace, user=owner.user, client=client)

    (event,) = events_of(owner.workspace, "invoice.issued")
    assert event.invoice_id == invoice.pk
    assert event.payload == {
        "id": str(invoice.public_id),
        "kind": "invoice",
        "number": invoice.number,
        "status": "issued",
        "overdue": True,  # issued on 2 March 2026, due long before today
        "client_id": str(client.public_id),
        "client_name": "Acme Robotics",
        "currency": invoice.currency,
        "issue_date": "2026-03-02",
        "due_date": invoice.due_date.isoformat(),
        "subtotal": "100.00",
        "tax_total": "21.00",
        "total": "121.00",
        "amount_paid": "0.00",
        "amount_credited": "0.00",
        "amount_due": "121.00",
        "portal_url": None,
    }


def test_payments_emit_payment_recorded_and_the_last_one_invoice_paid(owner):
    make_endpoint(owner.workspace)
    invoice = make_issued(workspace=owner.workspace, user=owner.user)

    for amount in ("21.00", "100.00"):
        invoicing.payment_record(
            invoice=invoice,
            user=owner.user,
            amount=Decimal(amount),
            date=dt.date(2026, 3, 5),
            method="bank_transfer",
        )

    recorded = sorted(events_of(owner.workspace, "payment.recorded"), key=lambda e: e.pk)
    assert [e.payload["amount"] for e in recorded] == ["21.00", "100.00"]
    assert recorded[0].payload["invoice"]["status"] == "partially_paid"
    (paid,) = events_of(owner.workspace, "invoice.paid")
    assert (paid.payload["status"], paid.payload["amount_due"]) == ("paid", "0.00")


def test_the_sent_event_is_emitted_when_the_mail_server_took_the_email(owner, monkeypatch):
    make_endpoint(owner.workspace)
    monkeypatch.setattr(pdf, "invoice_pdf_render", lambda *, invoice: b"%PDF-1.7\n")
    client = make_client(owner.workspace, email="billing@acme.test")
    invoice = make_issued(workspace=owner.workspace, user=owner.user, client=client)
    with mock.patch("solodesk.core.services._send_to_broker"):
        delivery = sending.invoice_send_start(invoice=invoice, user=owner.user)
    assert not events_of(owner.workspace, "invoice.sent")

    from solodesk.invoicing import tasks as invoicing_tasks

    invoicing_tasks.invoice_send_task(delivery.job.pk)

    (event,) = events_of(owner.workspace, "invoice.sent")
    assert event.payload["portal_url"].startswith("https://desk.example.com/p/")


def test_the_clients_first_view_emits_invoice_viewed_once(owner):
    make_endpoint(owner.workspace)
    invoice = make_issued(workspace=owner.workspace, user=owner.user)
    invoice = sending.portal_link_regenerate(invoice=invoice, user=owner.user)
    browser = DjangoClient()
    url = reverse("portal:invoice", args=[invoice.portal_token])

    with mock.patch("solodesk.core.services._send_to_broker"):
        browser.get(url)
        browser.get(url)

    (event,) = events_of(owner.workspace, "invoice.viewed")
    assert event.payload["id"] == str(invoice.public_id)


def test_quote_answers_emit_quote_accepted_and_quote_declined(owner):
    make_endpoint(owner.workspace)
    accepted = make_sent_quote(workspace=owner.workspace, user=owner.user)
    declined = make_sent_quote(workspace=owner.workspace, user=owner.user)

    quotes.quote_accept(token=accepted.portal_token, name="Ada")
    quotes.quote_decline(token=declined.portal_token, reason="Too dear")

    (accept_event,) = events_of(owner.workspace, "quote.accepted")
    assert accept_event.payload["id"] == str(accepted.public_id)
    assert accept_event.payload["accepted_by_name"] == "Ada"
    (decline_event,) = events_of(owner.workspace, "quote.declined")
    assert decline_event.payload["decline_reason"] == "Too dear"
    assert decline_event.payload["total"] == "1210.00"


def test_timers_emit_started_and_stopped_and_a_switch_emits_both(owner):
    make_endpoint(owner.workspace)
    project = ProjectFactory(workspace=owner.workspace)
    other = ProjectFactory(workspace=owner.workspace, client=project.client)

    timer, _ = timetracking.timer_start(workspace=owner.workspace, user=owner.user, project=project)
    timer2, switched = timetracking.timer_start(
        workspace=owner.workspace, user=owner.user, project=other, switch=True
    )
    entry = timetracking.timer_stop(user=owner.user)

    started = sorted(events_of(owner.workspace, "timer.started"), key=lambda e: e.pk)
    assert [e.payload["id"] for e in started] == [str(timer.public_id), str(timer2.public_id)]
    assert started[0].payload["project_id"] == str(project.public_id)
    stopped = sorted(events_of(owner.workspace, "timer.stopped"), key=lambda e: e.pk)
    assert [e.payload["time_entry_id"] for e in stopped] == [
        str(switched.public_id),
        str(entry.public_id),
    ]


# --- invoice.overdue, from the sweeper ------------------------------------------------------


def test_the_sweeper_emits_invoice_overdue_once_per_invoice(owner, stranger):
    make_endpoint(owner.workspace, events=["invoice.overdue"])
    overdue = make_issued(
        workspace=owner.workspace, user=owner.user, issue_date=dt.date(2026, 3, 2)
    )
    Invoice.objects.filter(pk=overdue.pk).update(due_date=dt.date(2026, 3, 16))
    make_issued(workspace=owner.workspace, user=owner.user, issue_date=dt.date(2026, 3, 30))
    Invoice.objects.filter(workspace=owner.workspace).exclude(pk=overdue.pk).update(
        due_date=dt.date(2026, 4, 20)
    )
    paid = make_issued(workspace=owner.workspace, user=owner.user)
    Invoice.objects.filter(pk=paid.pk).update(due_date=dt.date(2026, 3, 16))
    invoicing.payment_record(
        invoice=paid,
        user=owner.user,
        amount=Decimal("121.00"),
        date=dt.date(2026, 3, 5),
        method="cash",
    )
    # A stranger's overdue invoice, without endpoints: nothing.
    other = make_issued(workspace=stranger.workspace, user=stranger.user)
    Invoice.objects.filter(pk=other.pk).update(due_date=dt.date(2026, 3, 16))

    with time_machine.travel(dt.datetime(2026, 4, 1, 12, tzinfo=dt.UTC)):
        first = services.webhook_deliveries_sweep()
        second = services.webhook_deliveries_sweep()

    assert (first["overdue_events"], second["overdue_events"]) == (1, 0)
    (event,) = WebhookEvent.objects.filter(event_type="invoice.overdue")
    assert event.dedup_key == f"invoice.overdue:{overdue.public_id}"
    assert (event.payload["id"], event.payload["overdue"]) == (str(overdue.public_id), True)
    assert event.payload["amount_due"] == "121.00"


def test_overdue_follows_the_workspaces_day(owner):
    owner.workspace.time_zone = "America/Los_Angeles"
    owner.workspace.save()
    make_endpoint(owner.workspace, events=["invoice.overdue"])
    invoice = make_issued(workspace=owner.workspace, user=owner.user)
    Invoice.objects.filter(pk=invoice.pk).update(due_date=dt.date(2026, 3, 31))

    # 1 April 03:00 UTC is still 31 March in Los Angeles: not overdue yet.
    with time_machine.travel(dt.datetime(2026, 4, 1, 3, tzinfo=dt.UTC)):
        assert services.webhook_overdue_events_emit() == 0
    with time_machine.travel(dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC)):
        assert services.webhook_overdue_events_emit() == 1


def _overdue_invoices(workspace, count: int) -> list[Invoice]:
    """`count` issued invoices due on 16 March 2026, 121.00 EUR each, nothing paid."""
    client = make_client(workspace=workspace)
    return Invoice.objects.bulk_create(
        Invoice(
            workspace=workspace,
            client=client,
            status=Invoice.Status.ISSUED,
            number=f"2026-{n + 1:05d}",
            number_year=2026,
            number_sequence=n + 1,
            currency="EUR",
            issue_date=dt.date(2026, 3, 2),
            due_date=dt.date(2026, 3, 16),
            subtotal=Decimal("100.00"),
            tax_total=Decimal("21.00"),
            total=Decimal("121.00"),
        )
        for n in range(count)
    )


@pytest.mark.parametrize("count", [3, 30])
def test_the_overdue_emission_runs_a_fixed_number_of_queries(
    owner, broker, count, django_assert_num_queries, django_capture_on_commit_callbacks
):
    first = make_endpoint(owner.workspace, events=["invoice.overdue"])
    second = make_endpoint(owner.workspace, events=["invoice.overdue", "invoice.paid"])
    make_endpoint(owner.workspace, events=["invoice.paid"])
    _overdue_invoices(owner.workspace, count)
    broker.reset_mock()

    # 1 active endpoints (who listens to invoice.overdue), 2 overdue invoices not yet
    # announced (with workspace and client), 3 SAVEPOINT, 4 INSERT of the events (conflicts
    # on the dedup key ignored), 5 read-back of the events written, 6 INSERT of the
    # deliveries, 7 RELEASE SAVEPOINT.
    with (
        time_machine.travel(dt.datetime(2026, 4, 1, 12, tzinfo=dt.UTC)),
        django_capture_on_commit_callbacks(execute=True),
        django_assert_num_queries(7),
    ):
        emitted = services.webhook_overdue_events_emit()

    assert emitted == count
    events = WebhookEvent.objects.filter(event_type="invoice.overdue")
    assert events.count() == count
    assert set(events.values_list("invoice__workspace", flat=True)) == {owner.workspace.pk}
    deliveries = WebhookDelivery.objects.filter(event__event_type="invoice.overdue")
    assert sorted(deliveries.values_list("endpoint", flat=True)) == sorted(
        [first.pk, second.pk] * count
    )
    assert sorted(sent_ids(broker)) == sorted(deliveries.values_list("pk", flat=True))


def test_an_overdue_event_written_meanwhile_is_not_emitted_twice(owner, broker):
    """A concurrent sweep announced one invoice after this sweep's anti-join ran (shown by
    an event with the same dedup key the anti-join cannot see): the dedup key skips it,
    and only the events written by this sweep get deliveries."""
    endpoint = make_endpoint(owner.workspace, events=["invoice.overdue"])
    taken, free = _overdue_invoices(owner.workspace, 2)
    WebhookEvent.objects.create(
        workspace=owner.workspace,
        event_type="invoice.other",
        dedup_key=f"invoice.overdue:{taken.public_id}",
        invoice=taken,
    )

    with time_machine.travel(dt.datetime(2026, 4, 1, 12, tzinfo=dt.UTC)):
        assert services.webhook_overdue_events_emit() == 1

    (event,) = WebhookEvent.objects.filter(event_type="invoice.overdue")
    assert event.invoice_id == free.pk
    (delivery,) = WebhookDelivery.objects.all()
    assert (delivery.event_id, delivery.endpoint_id) == (event.pk, endpoint.pk)


# --- the sweeper ------------------------------------------------------------------------------


def test_the_sweeper_hands_over_due_deliveries_only(owner, broker, settings):
    endpoint = make_endpoint(owner.workspace)
    off = make_endpoint(owner.workspace)
    now = dt.datetime(2026, 4, 1, 12, tzinfo=dt.UTC)
    with time_machine.travel(now - dt.timedelta(hours=1)):
        forgotten = services.webhook_endpoint_ping(endpoint=endpoint)  # broker was down
    with time_machine.travel(now):
        fresh = services.webhook_endpoint_ping(endpoint=endpoint)  # its message is on its way
        retry_due = services.webhook_endpoint_ping(endpoint=endpoint)
        retry_later = services.webhook_endpoint_ping(endpoint=endpoint)
        dead_worker = services.webhook_endpoint_ping(endpoint=endpoint)
        on_disabled = services.webhook_endpoint_ping(endpoint=off)
    WebhookDelivery.objects.filter(event=retry_due).update(
        status="failed", next_attempt_at=now - dt.timedelta(seconds=1)
    )
    WebhookDelivery.objects.filter(event=retry_later).update(
        status="failed", next_attempt_at=now + dt.timedelta(minutes=5)
    )
    WebhookDelivery.objects.filter(event=dead_worker).update(
        status="delivering", claimed_at=now - dt.timedelta(hours=1)
    )
    WebhookDelivery.objects.filter(event=on_disabled).update(
        next_attempt_at=now - dt.timedelta(hours=1)
    )
    off.is_active = False
    off.owner_notified_at = now
    off.save()
    broker.reset_mock()

    with time_machine.travel(now):
        result = services.webhook_deliveries_sweep()

    expected = {
        WebhookDelivery.objects.get(event=event).pk for event in (forgotten, retry_due, dead_worker)
    }
    assert set(sent_ids(broker)) == expected
    assert result["deliveries"] == 3
    assert WebhookDelivery.objects.get(event=fresh).pk not in sent_ids(broker)


@pytest.mark.parametrize("rows", [3, 12])
def test_the_sweeper_batch_is_bounded_and_its_query_count_does_not_grow(
    owner, broker, rows, django_assert_num_queries
):
    endpoint = make_endpoint(owner.workspace)
    now = dt.datetime(2026, 4, 1, 12, tzinfo=dt.UTC)
    with time_machine.travel(now - dt.timedelta(hours=1)):
        for _ in range(rows):
            services.webhook_endpoint_ping(endpoint=endpoint)
    broker.reset_mock()

    # 1 active endpoints (who listens to invoice.overdue), 2 overdue invoices not yet
    # announced (none), 3 one batch of due deliveries, 4 disabled endpoints whose owner
    # was not told.
    with time_machine.travel(now), django_assert_num_queries(4):
        result = services.webhook_deliveries_sweep(batch_size=5)

    assert result["deliveries"] == min(rows, 5)
    assert len(sent_ids(broker)) == min(rows, 5)
