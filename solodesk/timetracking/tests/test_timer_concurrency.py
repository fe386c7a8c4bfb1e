"""Members starting and stopping their timers on the same project at the same moment
(PostgreSQL: SQLite serialises all writers and has no row locks). Each member's timer is
their own row; nothing shared may be locked, or two stops deadlock (bench/http_load.py
found that at 8 concurrent clients when the timer's FOR UPDATE also locked the project)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from solodesk.accounts.models import Membership
from solodesk.tests.factories import (
    ClientFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
    WorkspaceFactory,
)
from solodesk.timetracking import services
from solodesk.timetracking.models import RunningTimer, TimeEntry

MEMBERS = 8
ROUNDS = 6


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises all writers and has no row locks.",
)
@pytest.mark.django_db(transaction=True)
def test_members_start_and_stop_timers_on_one_project_at_once_without_deadlock():
    workspace = WorkspaceFactory()
    project = ProjectFactory(workspace=workspace, client=ClientFactory(workspace=workspace))
    users = [UserFactory() for _ in range(MEMBERS)]
    for user in users:
        MembershipFactory(workspace=workspace, user=user, role=Membership.Role.MEMBER)
    barrier = threading.Barrier(MEMBERS)

    def work(index: int) -> int:
        user = users[index]
        try:
            barrier.wait()
            for _ in range(ROUNDS):
                services.timer_start(workspace=workspace, user=user, project=project)
                services.timer_stop(user=user)
            return ROUNDS
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=MEMBERS) as pool:
        done = list(pool.map(work, range(MEMBERS)))

    assert done == [ROUNDS] * MEMBERS
    assert TimeEntry.objects.filter(project=project).count() == MEMBERS * ROUNDS
    assert not RunningTimer.objects.exists()
