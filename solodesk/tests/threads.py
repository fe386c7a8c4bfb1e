"""Running a function in a thread of its own, on its own database connection: for tests
of what two transactions do at the same moment (PostgreSQL row locks)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def in_thread(function: Callable[[], Any], errors: list[BaseException]) -> threading.Thread:
    """Start `function` in a new thread and return it (join it). What it raises goes into
    `errors`, for the test to report; its connection is closed when it ends."""

    def run() -> None:
        try:
            function()
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread
