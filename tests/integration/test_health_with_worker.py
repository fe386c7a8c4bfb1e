"""GET /api/v1/health (as config/api.py mounts it) with a real worker process: the worker
writes its own heartbeat when it starts, and the scheduler's beat task, sent through the
broker and run by that worker, writes the scheduler's; then the answer is 200."""

from __future__ import annotations

import pytest
from django.test import Client as DjangoClient

from solodesk.config.celery_app import app as celery_app
from solodesk.core.selectors import heartbeat_get
from tests.processes import wait_until

pytestmark = pytest.mark.integration


def test_a_running_worker_and_scheduler_make_the_health_check_pass(celery_worker_process):
    wait_until(
        lambda: heartbeat_get(name="worker"),
        timeout=30,
        message="the worker wrote no heartbeat when it started",
    )
    first = DjangoClient().get("/api/v1/health")
    assert (first.status_code, first.json()["failing"]) == (503, ["scheduler"])

    # What beat sends every minute.
    celery_app.send_task("solodesk.core.tasks.scheduler_heartbeat_task")
    wait_until(
        lambda: heartbeat_get(name="scheduler"),
        timeout=30,
        message="the worker did not run the scheduler's heartbeat task",
    )

    response = DjangoClient().get("/api/v1/health")
    assert response.status_code == 200, response.json()
    assert response.json()["failing"] == []
    assert all(check["ok"] for check in response.json()["checks"].values())
