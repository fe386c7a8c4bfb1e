from __future__ import annotations

from unittest import mock

import pytest


@pytest.fixture
def broker():
    """Records what would be handed to the broker instead of sending it."""
    with mock.patch("solodesk.reminders.services._send_to_broker") as send:
        yield send


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://desk.example.com"
    settings.DEFAULT_FROM_EMAIL = "Solodesk <billing@desk.example.com>"
