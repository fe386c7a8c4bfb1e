"""solodesk.core.sqlite: a process's write transactions on one SQLite file queue on a lock of
the process, taken at BEGIN and given back however the transaction ends (commit, rollback,
a failed BEGIN, the connection closed inside it), so the next writer starts at once
instead of polling in SQLite's busy handler.

These tests run outside the test's own transaction (`transactional_db`): inside it, the
test would hold the lock from start to end."""

from __future__ import annotations

import os
import sqlite3
import threading

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from solodesk.core.models import Heartbeat
from solodesk.core.sqlite.base import DatabaseWrapper, writer_lock

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the embedded SQLite database's backend"
)

WAIT = 10  # seconds: a bound on every wait, so a broken lock fails instead of hanging


def _lock() -> threading.Lock:
    return writer_lock(os.path.abspath(connection.settings_dict["NAME"]))


def _no_busy_wait() -> None:
    """This thread's connection fails at once on SQLite's own lock instead of waiting."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 0")


def _beat(name: str) -> None:
    Heartbeat.objects.create(name=name, seen_at=timezone.now())


def test_the_lock_is_held_from_begin_to_commit(transactional_db):
    assert not _lock().locked()

    with transaction.atomic():
        _beat("inside")
        assert _lock().locked()
        with transaction.atomic():  # a savepoint takes nothing more
            _beat("nested")
        assert _lock().locked()

    assert not _lock().locked()
    assert Heartbeat.objects.filter(name__in=["inside", "nested"]).count() == 2


def test_a_second_thread_waits_for_the_lock_not_in_sqlites_busy_handler(transactional_db):
    """With SQLite's busy wait off, the second writer's BEGIN IMMEDIATE would fail with
    "database is locked" while the first holds the file; it waits on the process's lock
    instead and writes as soon as the first commits."""
    first_inside, first_may_commit = threading.Event(), threading.Event()
    second_started, second_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                _beat("first")
                first_inside.set()
                assert first_may_commit.wait(WAIT)
        except BaseException as error:
            errors.append(error)
            first_inside.set()
        finally:
            connection.close()

    def second() -> None:
        try:
            _no_busy_wait()
            assert first_inside.wait(WAIT)
            second_started.set()
            with transaction.atomic():
                _beat("second")
            second_done.set()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert second_started.wait(WAIT)
    assert not second_done.wait(0.3), "the second writer did not wait for the first"
    first_may_commit.set()
    for thread in threads:
        thread.join(WAIT)

    assert errors == []
    assert second_done.is_set()
    assert list(Heartbeat.objects.order_by("id").values_list("name", flat=True)) == [
        "first",
        "second",
    ]
    assert not _lock().locked()


def test_given_back_after_a_rollback(transactional_db):
    with pytest.raises(ValueError), transaction.atomic():
        _beat("rolled back")
        raise ValueError

    assert not _lock().locked()
    assert not Heartbeat.objects.exists()


def test_given_back_when_begin_fails_on_another_process_writing(transactional_db):
    """Another process (here a plain sqlite3 connection) holds the file's write lock: BEGIN
    IMMEDIATE fails, and the lock of this process is free again."""
    _no_busy_wait()
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"), transaction.atomic():
            _beat("blocked")
        assert not _lock().locked()
        other.execute("COMMIT")
    finally:
        other.close()

    with transaction.atomic():
        _beat("after")
    assert list(Heartbeat.objects.values_list("name", flat=True)) == ["after"]


def test_given_back_when_the_connection_closes_inside_the_transaction(transactional_db):
    with transaction.atomic():
        _beat("lost")
        connection.close()  # SQLite rolls the transaction back
        assert not _lock().locked()

    assert not _lock().locked()
    with transaction.atomic():
        _beat("kept")
    assert list(Heartbeat.objects.values_list("name", flat=True)) == ["kept"]


def test_a_writer_that_waits_past_the_timeout_gets_sqlites_error(transactional_db, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", {"timeout": 0.2})
    lock = _lock()
    assert lock.acquire(timeout=WAIT)  # as another thread of this process would
    try:
        with pytest.raises(OperationalError, match="database is locked"), transaction.atomic():
            _beat("too late")
    finally:
        lock.release()

    assert not _lock().locked()
    assert not Heartbeat.objects.exists()


def test_one_lock_per_file_and_none_for_a_database_in_memory(db):
    assert writer_lock("/srv/a.sqlite3") is writer_lock("/srv/a.sqlite3")
    assert writer_lock("/srv/a.sqlite3") is not writer_lock("/srv/b.sqlite3")

    memory = DatabaseWrapper({**connection.settings_dict, "NAME": ":memory:"}, alias="memory")
    memory.ensure_connection()
    try:
        memory._start_transaction_under_autocommit()
        assert memory._held_writer_lock is None
        assert not writer_lock(os.path.abspath(":memory:")).locked()
    finally:
        memory.connection.close()  # Django's close() keeps a database in memory open


def test_a_forked_process_does_not_inherit_a_held_lock(transactional_db):
    lock = _lock()
    assert lock.acquire(timeout=WAIT)  # as another thread would hold it at the fork
    try:
        pid = os.fork()
        if pid == 0:  # the child: a fresh lock, free
            os._exit(0 if not _lock().locked() and _lock() is not lock else 1)
        _, status = os.waitpid(pid, 0)
    finally:
        lock.release()
    assert os.waitstatus_to_exitcode(status) == 0
