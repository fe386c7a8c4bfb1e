from unittest import mock

import pytest


@pytest.fixture(autouse=True)
def broker():
    """No broker in unit tests: what would be enqueued is recorded instead."""
    with mock.patch("solodesk.quotes.services._enqueue_email") as enqueue:
        yield enqueue
