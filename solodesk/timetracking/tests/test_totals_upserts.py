"""The totals' upserts of an entry write (`services._totals_upsert`, `_upserts_run`)."""

import datetime as dt
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from solodesk.tests.factories import ProjectFactory
from solodesk.timetracking import services
from solodesk.timetracking.models import (
    TimeEntryDay,
    TimeEntryMonth,
    TimeEntryWorkspaceMonth,
    UnbilledTime,
)

BASE = dt.datetime(2026, 3, 9, 9, tzinfo=dt.UTC)


def test_the_rows_of_an_upsert_are_in_key_order():
    """Two writes moving time between the same two days in opposite directions lock the
    days' rows in the same order, whatever order their differences were found in: without
    it, bench-style mixed writes on PostgreSQL (8 threads, creates, moves, deletes) hit
    `deadlock detected` 7-9 times in 3,200 writes."""
    later, earlier = (1, 2, dt.date(2026, 3, 10)), (1, 2, dt.date(2026, 3, 9))
    upsert = services._totals_upsert(
        TimeEntryDay,
        ("workspace_id", "user_id", "day"),
        {later: (1, 60, 60), earlier: (-1, -60, -60), (1, 3, dt.date(2026, 3, 11)): (0, 0, 0)},
    )
    assert upsert is not None
    day = connection.ops.adapt_datefield_value
    assert upsert.params == [1, 2, day(earlier[2]), -1, -60, -60, 1, 2, day(later[2]), 1, 60, 60]


def test_a_create_sends_its_four_upserts_as_one_statement_on_postgresql(owner):
    project = ProjectFactory(client__workspace=owner.workspace)
    with CaptureQueriesContext(connection) as queries:
        services.time_entry_create(
            workspace=owner.workspace,
            user=owner.user,
            project=project,
            started_at=BASE,
            ended_at=BASE + dt.timedelta(hours=1),
            is_billable=True,
        )
    upserts = [q["sql"].count("ON CONFLICT") for q in queries.captured_queries]
    expected = [4] if connection.vendor == "postgresql" else [1, 1, 1, 1]
    assert [count for count in upserts if count] == expected
    # The day's, the month's, the workspace month's and the unbilled time's, in that order
    # of locking: on PostgreSQL the main statement's rows first, then the CTEs' from the
    # last written to the first (services._upserts_run).
    sql = " ".join(q["sql"] for q in queries.captured_queries if "ON CONFLICT" in q["sql"])
    tables = re.findall(r'INSERT INTO "?(\w+)"?', sql)
    locked = [tables[-1], *tables[-2::-1]] if connection.vendor == "postgresql" else tables
    assert locked == [
        TimeEntryDay._meta.db_table,
        TimeEntryMonth._meta.db_table,
        TimeEntryWorkspaceMonth._meta.db_table,
        UnbilledTime._meta.db_table,
    ]
