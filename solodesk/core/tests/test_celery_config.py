"""Celery settings that keep a task from running twice (issue 4, "Killed workers")."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from solodesk.config.celery_app import _configure_redis_broker


@pytest.mark.parametrize(
    ("time_limit", "retry_delays", "longest"),
    [(7200, [60], 7200), (360, [60, 7200], 7200)],
)
def test_redis_refuses_a_visibility_timeout_shorter_than_a_task_can_take(
    settings, time_limit, retry_delays, longest
):
    """Redis hands an unacknowledged message to another worker after the visibility
    timeout: a running task, or a retry waiting its countdown, would then run twice."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.BROKER_VISIBILITY_TIMEOUT_SECONDS = 7200
    settings.CELERY_TASK_TIME_LIMIT = time_limit
    settings.INVOICE_EMAIL_RETRY_DELAYS = retry_delays

    with pytest.raises(ImproperlyConfigured, match=rf"\({longest} s\)"):
        _configure_redis_broker()
