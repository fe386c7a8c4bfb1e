"""Webhook test helpers: a recorded broker, endpoints (the receiver is in receiver.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from solodesk.webhooks import services
from solodesk.webhooks.models import EVENT_TYPE_NAMES, WebhookEndpoint
from solodesk.webhooks.tests.receiver import receiver_fixture  # noqa: F401 - a fixture


@pytest.fixture(autouse=True)
def broker() -> Iterator[mock.MagicMock]:
    """No broker in unit tests: what would be handed over (after commit) is recorded."""
    with mock.patch("solodesk.webhooks.services._send_to_broker") as send:
        yield send


@pytest.fixture(autouse=True)
def _short_timeout(settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.SITE_URL = "https://desk.example.com"


def sent_ids(broker: mock.MagicMock, task_name: str = services.DELIVERY_TASK) -> list[int]:
    return [
        object_id
        for call in broker.call_args_list
        if call.args[0] == task_name
        for object_id in call.args[1]
    ]


def make_endpoint(workspace, *, url: str = "https://hooks.example.com/in", **kwargs: Any):
    kwargs.setdefault("events", list(EVENT_TYPE_NAMES))
    return services.webhook_endpoint_create(workspace=workspace, user=None, url=url, **kwargs)


@pytest.fixture
def endpoint(owner, receiver) -> WebhookEndpoint:
    return make_endpoint(owner.workspace, url=receiver.url)
