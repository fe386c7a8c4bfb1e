from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest

from solodesk.recurring import services
from solodesk.tests.factories import ClientFactory


def retainer_line(**extra: Any) -> dict[str, Any]:
    return {
        "description": "Retainer",
        "quantity": Decimal("1"),
        "unit": "pieces",
        "unit_price": Decimal("1000.00"),
        "tax_rate": Decimal("21"),
        **extra,
    }


def make_profile(persona, *, client=None, **kwargs: Any):
    client = client or ClientFactory(workspace=persona.workspace, name="Acme Ltd")
    fields: dict[str, Any] = {
        "name": "Retainer",
        "start_date": dt.date(2026, 1, 1),
        "lines": [retainer_line()],
    }
    fields.update(kwargs)
    return services.recurring_profile_create(
        workspace=persona.workspace, user=persona.user, client=client, **fields
    )


@pytest.fixture
def run_broker():
    """The broker hand-off of runs, replaced: tests run tasks by calling them."""
    with mock.patch("solodesk.config.celery_app.app.send_task") as send:
        yield send
