"""Shared by the top-level tests: the logs of real processes are added to a failure report."""

from __future__ import annotations

import pytest

from tests.processes import CHILD_PROCESSES


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.failed:
        for process in item.stash.get(CHILD_PROCESSES, []):
            report.sections.append((f"{process.name} log (last lines)", process.tail()))
    return report
