"""Fixtures that start real processes against the test database.

The test uses `transactional_db`: its rows are committed, so gunicorn and the Celery worker
(separate processes, production settings) see them, and what they write is visible here.
The processes share with this test: the database (the test database, read from the live
connection), the broker, MEDIA_ROOT (exports are files) and SECRET_KEY (sessions).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from solodesk.config.celery_app import app as celery_app
from tests.processes import (
    ChildProcess,
    WebServer,
    register_child,
    start_web_server,
    start_worker,
)

# Settings the child processes must not inherit from the environment of the test run.
_NOT_INHERITED = (
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "SECRET_KEY",
    "SOLODESK_VAR_DIR",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "CELERY_BROKER_URL",
    "CELERY_BROKER_DIR",
    "DEBUG",
)


def live_database_url() -> str:
    """The URL of the test database this process is connected to."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        credentials = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = db["HOST"] or "localhost"
        port = db["PORT"] or 5432
        return f"postgres://{credentials}@{host}:{port}/{quote(db['NAME'], safe='')}"
    raise NotImplementedError(f"No URL for database engine {db['ENGINE']}")


@pytest.fixture(scope="session")
def _cache_table_in_test_database(django_db_setup, django_db_blocker) -> None:
    """Production settings keep the cache (login throttling) in a database table, which
    `solodesk migrate` creates; the test settings use local memory, so the test database
    has no such table until this creates it."""
    from django.core.management.commands.createcachetable import Command

    table = "solodesk_cache"
    with django_db_blocker.unblock():
        if table not in connection.introspection.table_names():
            command = Command()
            command.verbosity = 0
            command.create_table(database="default", tablename=table, dry_run=False)


@pytest.fixture
def child_env(
    _cache_table_in_test_database, transactional_db, settings, tmp_path, _media_in_tmp
) -> dict[str, str]:
    """The environment of a web or worker process that shares this test's state."""
    env = {key: value for key, value in os.environ.items() if key not in _NOT_INHERITED}
    env.update(
        DJANGO_SETTINGS_MODULE="solodesk.config.settings.production",
        DATABASE_URL=live_database_url(),
        SECRET_KEY=settings.SECRET_KEY,
        SOLODESK_VAR_DIR=str(tmp_path / "var"),
        MEDIA_ROOT=str(Path(settings.MEDIA_ROOT).resolve()),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_BROKER_DIR=str(Path(settings.CELERY_BROKER_DIR).resolve()),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
    )
    return env


@pytest.fixture
def start_child(request, child_env, tmp_path) -> Iterator[Callable[..., object]]:
    """Call `start_child(start_worker, name=...)` or with `start_web_server`: the process is
    stopped at teardown (before the database is flushed) and its log shown on failure."""
    started: list[ChildProcess] = []
    log_dir = tmp_path / "logs"

    def start(starter: Callable[..., object], **kwargs: object) -> object:
        result = starter(env=child_env, log_dir=log_dir, **kwargs)
        process = result.process if isinstance(result, WebServer) else result
        assert isinstance(process, ChildProcess)
        started.append(process)
        register_child(request.node, process)
        return result

    yield start
    for process in reversed(started):
        process.stop()


def purge_broker() -> int:
    """Drop messages left in the broker by earlier tests (their jobs are gone)."""
    return int(celery_app.control.purge() or 0)


@pytest.fixture
def celery_worker_process(start_child) -> ChildProcess:
    purge_broker()
    worker = start_child(start_worker, name="worker")
    assert isinstance(worker, ChildProcess)
    return worker


@pytest.fixture
def web_server(start_child) -> Callable[..., WebServer]:
    """Factory: `web_server(name="web-a", workers=1, threads=4)` → a running gunicorn."""

    def start(name: str = "web", workers: int = 1, threads: int = 4) -> WebServer:
        server = start_child(start_web_server, name=name, workers=workers, threads=threads)
        assert isinstance(server, WebServer)
        return server

    return start
