"""The migration that adds the workspace's monthly totals (decision 0012) fills them from
the per-project monthly totals: the rows the services would have written."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from solodesk.tests.factories import ProjectFactory, WorkspaceFactory
from solodesk.timetracking.models import TimeEntryWorkspaceMonth
from solodesk.timetracking.services import time_entry_create

BEFORE = ("timetracking", "0010_entry_own_json")
AFTER = ("timetracking", "0011_workspace_months")


def _rows() -> list[tuple]:
    return sorted(
        TimeEntryWorkspaceMonth.objects.values_list(
            "workspace_id", "month", "entries", "seconds", "billable_seconds"
        )
    )


def _migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([target])


@pytest.mark.django_db(transaction=True)
def test_the_backfill_sums_the_project_months_of_each_workspace(owner):
    other = WorkspaceFactory()
    start = dt.datetime(2026, 1, 30, 9, tzinfo=dt.UTC)
    for workspace, user in ((owner.workspace, owner.user), (other, owner.user)):
        projects = [ProjectFactory(client__workspace=workspace) for _ in range(2)]
        for day, project, hours, billable in (
            (0, projects[0], 1, True),
            (1, projects[1], 2, False),
            (3, projects[0], 3, True),  # February
            (3, projects[1], 4, True),
        ):
            started = start + dt.timedelta(days=day)
            time_entry_create(
                workspace=workspace,
                user=user,
                project=project,
                started_at=started,
                ended_at=started + dt.timedelta(hours=hours),
                is_billable=billable,
            )
    kept = _rows()
    assert len(kept) == 4  # two months in each workspace

    _migrate(BEFORE)  # the table is dropped
    _migrate(AFTER)  # and filled again from the project months

    assert _rows() == kept
