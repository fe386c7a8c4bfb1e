"""Django's PostgreSQL backend, whose health check asks the socket before the server.

With persistent connections Django checks a connection before the first query of each
request (`CONN_HEALTH_CHECKS`), so that one the server has closed (a restart, an
administrator's `pg_terminate_backend`, `idle_session_timeout`) is opened again instead
of failing the request. Its check is a `SELECT 1`: one more round trip on every request,
~0.3 ms of the web process's CPU and as much of PostgreSQL's for an API create (a
py-spy profile; 7 round trips instead of 6).

A server that ends a connection sends its reason and closes the socket, so the socket
of a closed connection has something to read. An idle connection (in autocommit, no
transaction) whose socket has nothing to read is taken as usable without asking the
server; anything else (bytes to read, a transaction open, a broken status) gets
Django's `SELECT 1`. The check after a failed query (`errors_occurred`) is Django's, and a
connection pool does its own.
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    # (The ignores below: django-stubs does not declare the health check's attributes.)
    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled  # type: ignore[attr-defined]
            and not self.health_check_done  # type: ignore[has-type]
            and not self.pool
            and self._idle_with_nothing_to_read()
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _idle_with_nothing_to_read(self) -> bool:
        pgconn = self.connection.pgconn
        if (
            self.connection.closed
            or pgconn.status != pq.ConnStatus.OK
            or pgconn.transaction_status != pq.TransactionStatus.IDLE
        ):
            return False
        if not hasattr(select, "poll"):  # Windows: Django's check
            return False
        try:
            poller = select.poll()
            poller.register(pgconn.socket, select.POLLIN)
            return not poller.poll(0)
        except (OSError, ValueError, psycopg.OperationalError):  # no socket: Django decides
            return False
