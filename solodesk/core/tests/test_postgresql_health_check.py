"""solodesk.core.postgresql: before a request's first query, a persistent connection whose
socket has nothing to read is reused without a `SELECT 1`; one the server has closed is
opened again and the request's queries succeed.

Outside the test's own transaction (`transactional_db`): Django checks only a connection
that is idle, as it is between two requests."""

from __future__ import annotations

import select

import pytest
from django.db import connection

from solodesk.tests.factories import WorkspaceFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the PostgreSQL backend's health check"
)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _second_connection():
    """Another session on the test database, opened as Django opens its own, in autocommit."""
    other = connection.get_new_connection(connection.get_connection_params())
    other.autocommit = True
    return other


def _next_request() -> None:
    """What Django does at the start and the end of each request."""
    connection.close_if_unusable_or_obsolete()


def _count_server_round_trips(monkeypatch) -> list[str]:
    """The statements psycopg sends on the raw connection (Django's `SELECT 1` check
    uses a psycopg cursor directly, bypassing Django's query log)."""
    sent: list[str] = []
    raw = connection.connection
    cursor = raw.cursor

    def counting_cursor(*args, **kwargs):
        sent.append("cursor")
        return cursor(*args, **kwargs)

    monkeypatch.setattr(raw, "cursor", counting_cursor)
    return sent


def test_the_engine_is_ours(settings):
    assert settings.DATABASES["default"]["ENGINE"] == "solodesk.core.postgresql"
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def test_a_healthy_idle_connection_is_reused_without_asking_the_server(
    transactional_db, monkeypatch
):
    WorkspaceFactory()
    pid = _backend_pid()
    sent = _count_server_round_trips(monkeypatch)

    _next_request()
    connection.close_if_health_check_failed()

    assert sent == []
    assert connection.health_check_done
    assert _backend_pid() == pid


def test_a_connection_the_server_closed_is_opened_again(transactional_db):
    WorkspaceFactory()
    pid = _backend_pid()
    with _second_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The server's goodbye reaches the socket (it is readable) before the next request.
    poller = select.poll()
    poller.register(connection.connection.pgconn.socket, select.POLLIN)
    assert poller.poll(10_000)

    _next_request()

    assert _backend_pid() != pid  # the request's first query succeeds, on a new connection


def test_bytes_to_read_get_djangos_check(transactional_db, monkeypatch):
    """A notification waiting on the socket is not a closed connection: Django's
    `SELECT 1` decides, and the connection is kept."""
    pid = _backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN solodesk_health_test")
    with _second_connection() as other:
        other.execute("NOTIFY solodesk_health_test")
    poller = select.poll()
    poller.register(connection.connection.pgconn.socket, select.POLLIN)
    assert poller.poll(10_000)
    sent = _count_server_round_trips(monkeypatch)

    _next_request()
    connection.close_if_health_check_failed()

    assert sent == ["cursor"]
    assert _backend_pid() == pid
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN *")
