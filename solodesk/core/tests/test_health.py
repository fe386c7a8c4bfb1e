"""GET /api/v1/health: 200 when the database, the broker, a worker and the scheduler are
all alive; 503 naming each one that is not. No authentication."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client as DjangoClient
from django.utils import timezone

from solodesk.core.models import Heartbeat
from solodesk.core.services import heartbeat_touch, system_health_check

pytestmark = pytest.mark.urls("solodesk.core.tests.health_urls")
URL = "/api/v1/health"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def alive(db):
    heartbeat_touch(name="worker")
    heartbeat_touch(name="scheduler")


def beat_seen(name: str, seconds_ago: int) -> None:
    Heartbeat.objects.update_or_create(
        name=name, defaults={"seen_at": timezone.now() - dt.timedelta(seconds=seconds_ago)}
    )


def get() -> tuple[int, dict]:
    response = DjangoClient().get(URL)
    return response.status_code, response.json()


def test_all_alive_is_200_without_a_token(alive):
    status, body = get()

    assert status == 200
    assert (body["status"], body["message"], body["failing"]) == ("ok", "All is well.", [])
    assert list(body["checks"]) == ["database", "broker", "worker", "scheduler"]
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["worker"]["seen_at"].endswith("+00:00")


def test_the_answer_is_not_cached(alive):
    assert DjangoClient().get(URL)["Cache-Control"] == "no-store"


def test_a_worker_silent_for_longer_than_the_limit_is_503(alive, settings):
    settings.HEALTH_WORKER_MAX_AGE_SECONDS = 120
    beat_seen("worker", 121)

    status, body = get()

    assert status == 503
    assert (body["status"], body["failing"]) == ("unhealthy", ["worker"])
    assert body["message"] == "Not healthy: worker."
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["detail"].startswith("last seen 12")


def test_a_worker_that_never_reported_is_503(db):
    heartbeat_touch(name="scheduler")

    status, body = get()

    assert (status, body["failing"]) == (503, ["worker"])
    assert body["checks"]["worker"] == {
        "ok": False,
        "detail": "has never reported",
        "seen_at": None,
    }


def test_a_stale_scheduler_is_503(alive, settings):
    settings.HEALTH_SCHEDULER_MAX_AGE_SECONDS = 300
    beat_seen("scheduler", 301)

    status, body = get()

    assert (status, body["failing"]) == (503, ["scheduler"])
    assert body["message"] == "Not healthy: scheduler."


def test_a_redis_broker_that_does_not_answer_is_503(alive, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"

    status, body = get()

    assert (status, body["failing"]) == (503, ["broker"])
    assert "Connection refused" in body["checks"]["broker"]["detail"]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose connections are accepted and never answered, like a hung Redis."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        holder.join(timeout=5)
        for held in accepted:
            held.close()
        listener.close()


def test_a_redis_broker_that_never_answers_is_503_within_the_socket_timeout(
    alive, settings, silent_port
):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{silent_port}/0"
    settings.BROKER_SOCKET_TIMEOUT_SECONDS = 0.5

    started = time.monotonic()
    status, body = get()
    elapsed = time.monotonic() - started

    assert (status, body["failing"]) == (503, ["broker"])
    # One connection attempt and one retry, each bounded by the socket timeout.
    assert elapsed < 3.0, elapsed


def test_a_filesystem_broker_without_its_queue_folder_is_503(alive, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_DIR = tmp_path / "nowhere"

    status, body = get()

    assert (status, body["failing"]) == (503, ["broker"])
    assert "is missing or not writable" in body["checks"]["broker"]["detail"]


def test_a_database_that_does_not_answer_is_503_and_the_heartbeats_are_unknown(alive):
    with mock.patch(
        "solodesk.core.services.connection.cursor", side_effect=OperationalError("gone")
    ):
        status, body = get()

    assert status == 503
    assert body["failing"] == ["database", "worker", "scheduler"]
    assert body["checks"]["database"]["detail"] == "OperationalError: gone"


def test_health_costs_two_queries(alive, django_assert_num_queries):
    # 1. SELECT 1   2. both heartbeats
    with django_assert_num_queries(2):
        checks = system_health_check()
    assert [check.ok for check in checks] == [True, True, True, True]
