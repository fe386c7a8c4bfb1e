"""Django's SQLite backend, with a process's write transactions queued on a lock of its own.

SQLite allows one writer per database file. With BEGIN IMMEDIATE (settings:
`transaction_mode`) a second writer waits in SQLite's busy handler, which polls: it
sleeps 1, 2, 5, 10, 15, 20, 25… ms between attempts, so it may sleep on for milliseconds
after the lock came free, and every attempt costs CPU. The threads of one web process
need not poll each other: here an outermost transaction first takes a
`threading.Lock` of its database file, which wakes the next waiting thread as soon as
the holder commits or rolls back. Only other processes (the other web processes, the
worker) still meet in the busy handler. On the time-entry create at 8 clients (gunicorn
2 × 4 threads) this gave +7 % requests per second and −12 % web CPU per create
(docs/performance.md, "SQLite's writers").

The lock is taken where Django begins a transaction in autocommit mode
(`_start_transaction_under_autocommit`, every outermost `transaction.atomic`) and
released where that transaction ends: when the connection goes back to autocommit after
COMMIT or ROLLBACK, when BEGIN itself fails, or when the connection is closed inside the
transaction (which rolls it back). Waiting for it counts against the same `timeout` as
SQLite's own busy wait; past it, the error is SQLite's own "database is locked". Single
statements in autocommit (outside `atomic`) and in-memory databases are left to SQLite.
A forked process (gunicorn's workers, Celery's pool) starts with fresh locks.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from django.db.backends.sqlite3 import base

DEFAULT_TIMEOUT = 5.0  # seconds: Python's sqlite3.connect default, as Django uses it
# The locks by file, and the lock that guards adding one.
_registry: dict[str, Any] = {"locks": {}, "guard": threading.Lock()}


def writer_lock(name: str) -> threading.Lock:
    """The lock of one database file, shared by every connection of this process (the
    file's name as settings give it, made absolute: a second spelling of the same file
    would only get a lock of its own and leave its writers to SQLite's busy handler)."""
    locks: dict[str, threading.Lock] = _registry["locks"]
    lock = locks.get(name)
    if lock is None:
        with _registry["guard"]:
            lock = locks.setdefault(name, threading.Lock())
    return lock


def _forget_locks_in_child() -> None:
    """A forked process starts with locks of its own: a lock another thread of the parent
    held at the fork would stay held in the child for ever."""
    _registry.update(locks={}, guard=threading.Lock())


os.register_at_fork(after_in_child=_forget_locks_in_child)


class DatabaseWrapper(base.DatabaseWrapper):
    # (The ignores below: django-stubs does not declare the backend's private methods.)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_writer_lock: threading.Lock | None = None

    def _start_transaction_under_autocommit(self) -> None:
        # The name is read each time: the test runner renames the database it tests.
        if self._held_writer_lock is None and not self.is_in_memory_db():
            lock = writer_lock(os.path.abspath(self.settings_dict["NAME"]))
            timeout = float(self.settings_dict["OPTIONS"].get("timeout", DEFAULT_TIMEOUT))
            with self.wrap_database_errors:
                if not lock.acquire(timeout=timeout):
                    raise sqlite3.OperationalError("database is locked")
            self._held_writer_lock = lock
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_writer_lock()
            raise

    def _set_autocommit(self, autocommit: bool) -> None:
        try:
            super()._set_autocommit(autocommit)  # type: ignore[misc]
        finally:
            if autocommit:
                self._release_writer_lock()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._release_writer_lock()

    def _release_writer_lock(self) -> None:
        lock, self._held_writer_lock = self._held_writer_lock, None
        if lock is not None:
            lock.release()
