from unittest import mock

import pytest


@pytest.fixture(autouse=True)
def broker():
    """No broker in unit tests: what would be enqueued is recorded instead."""
    with mock.patch("solodesk.quotes.services._enqueue_email") as enqueue:
        yield enqueue


@pytest.fixture(autouse=True)
def pdf_broker():
    """The PDF task's enqueue, recorded instead of sent (called after commit)."""
    with mock.patch("solodesk.quotes.pdf._enqueue_pdf") as enqueue:
        yield enqueue
