"""Webhooks through a real broker and a real worker process to a real HTTP receiver on
127.0.0.1: an invoice issued while the broker is unreachable still reaches the receiver,
exactly once, after the sweeper hands its delivery over."""

from __future__ import annotations

from unittest import mock

import pytest

from solodesk.invoicing.models import Invoice
from solodesk.invoicing.services import invoice_issue
from solodesk.invoicing.tests.factories import line, make_draft
from solodesk.tests.factories import ClientFactory, MembershipFactory, UserFactory, WorkspaceFactory
from solodesk.webhooks.models import WebhookDelivery, WebhookEvent
from solodesk.webhooks.services import webhook_deliveries_sweep, webhook_endpoint_create
from solodesk.webhooks.tests.receiver import receiver_fixture  # noqa: F401 - a fixture
from tests.integration.conftest import purge_broker
from tests.processes import ChildProcess, start_worker, wait_until

pytestmark = pytest.mark.integration


def _issue(workspace, user) -> Invoice:
    draft = make_draft(
        workspace=workspace,
        user=user,
        client=ClientFactory(workspace=workspace, name="Acme Ltd"),
        lines=[line("Design", quantity="2", unit_price="100.00", tax_rate="0")],
    )
    return invoice_issue(invoice=draft, user=user)


def test_an_event_from_a_broker_outage_is_delivered_once_by_the_sweeper(
    start_child, receiver, settings
):
    settings.JOB_REQUEUE_AFTER_SECONDS = 0  # "queued too long" is now, for the sweep below
    workspace = WorkspaceFactory(name="Owner Studio")
    user = UserFactory(email="owner@example.com")
    MembershipFactory(workspace=workspace, user=user)
    endpoint = webhook_endpoint_create(
        workspace=workspace, user=user, url=receiver.url, events=["invoice.issued"]
    )
    purge_broker()
    worker = start_child(start_worker, name="worker")
    assert isinstance(worker, ChildProcess)

    # 1. Broker up: the delivery is handed over after commit and the worker POSTs it.
    first = _issue(workspace, user)
    wait_until(lambda: len(receiver.requests) == 1, timeout=30, message="no first delivery")

    # 2. Broker down at commit time: the request still succeeds, the event is stored.
    with mock.patch(
        "solodesk.config.celery_app.app.send_task", side_effect=ConnectionError("broker down")
    ):
        second = _issue(workspace, user)
    assert WebhookEvent.objects.filter(invoice=second).count() == 1
    assert WebhookDelivery.objects.get(event__invoice=second).status == "pending"

    # 3. Broker back: the sweeper hands the forgotten delivery over; run twice, still once.
    webhook_deliveries_sweep()
    webhook_deliveries_sweep()
    wait_until(lambda: len(receiver.requests) >= 2, timeout=30, message="not delivered")
    wait_until(
        lambda: WebhookDelivery.objects.filter(status="succeeded").count() == 2,
        timeout=30,
        message="deliveries not marked succeeded",
    )

    ids = [request.json["data"]["id"] for request in receiver.requests]
    assert sorted(ids) == sorted([str(first.public_id), str(second.public_id)])
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        assert request.headers["Solodesk-Signature"].startswith("t=")
    assert endpoint.attempt_log.count() == 2
