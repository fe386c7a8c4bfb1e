"""The per-project monthly totals (TimeEntryMonth, decision 0005) and the workspace's
(TimeEntryWorkspaceMonth, decision 0012) always equal the aggregate over the raw entries,
after any sequence of creates, updates (project moves included), deletes, timer stops and
time-zone changes."""

import datetime as dt
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solodesk.accounts.services import workspace_update
from solodesk.accounts.tasks import time_totals_recount_task
from solodesk.core.models import Job
from solodesk.tests.factories import MembershipFactory, ProjectFactory, RunningTimerFactory
from solodesk.timetracking.models import TimeEntry, TimeEntryMonth, TimeEntryWorkspaceMonth
from solodesk.timetracking.services import (
    time_entry_create,
    time_entry_days_rebuild,
    time_entry_delete,
    time_entry_update,
    timer_stop,
)

# Late on the last day of March 2026, the week-end Europe's clocks change: entries cross a
# local month's end in every zone below, and the 23-hour day.
BASE = dt.datetime(2026, 3, 29, 20, 0, tzinfo=dt.UTC)
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland", "UTC"]
MINUTES = 4 * 24 * 60


def expected_months(workspace) -> dict[tuple[int, dt.date], tuple[int, int, int]]:
    totals: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry in TimeEntry.objects.filter(workspace=workspace):
        local = entry.started_at.astimezone(workspace.tzinfo).date()
        row = totals[entry.project_id, local.replace(day=1)]
        row[0] += 1
        row[1] += entry.duration_seconds
        row[2] += entry.duration_seconds if entry.is_billable else 0
    return {key: tuple(value) for key, value in totals.items()}


def expected_workspace_months(workspace) -> dict[dt.date, tuple[int, int, int]]:
    totals: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (_project, month), sums in expected_months(workspace).items():
        totals[month] = [total + value for total, value in zip(totals[month], sums, strict=True)]
    return {month: tuple(value) for month, value in totals.items()}


def stored_workspace_months(workspace) -> dict[dt.date, tuple[int, int, int]]:
    return {
        row.month: (row.entries, row.seconds, row.billable_seconds)
        for row in TimeEntryWorkspaceMonth.objects.filter(workspace=workspace)
        if (row.entries, row.seconds, row.billable_seconds) != (0, 0, 0)
    }


def stored_months(workspace) -> dict[tuple[int, dt.date], tuple[int, int, int]]:
    return {
        (row.project_id, row.month): (row.entries, row.seconds, row.billable_seconds)
        for row in TimeEntryMonth.objects.filter(workspace=workspace)
        if (row.entries, row.seconds, row.billable_seconds) != (0, 0, 0)
    }


operation = st.one_of(
    st.tuples(
        st.just("create"),
        st.integers(0, 1),  # user
        st.integers(0, 1),  # project
        st.integers(0, MINUTES),  # start, minutes after BASE
        st.integers(1, 10 * 60),  # duration, minutes
        st.booleans(),  # billable
    ),
    st.tuples(
        st.just("update"),
        st.integers(0, 50),  # which entry
        st.integers(0, 1),  # project
        st.integers(0, MINUTES),
        st.integers(1, 10 * 60),
        st.booleans(),
    ),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(
        st.just("timer"),
        st.integers(0, 1),
        st.integers(0, 1),
        st.integers(0, MINUTES),
        st.integers(0, 600),
    ),
    st.tuples(st.just("time_zone"), st.sampled_from(ZONES)),
    st.tuples(st.just("recount")),
)


def recounts_queued(workspace) -> list[int]:
    return list(
        Job.objects.filter(
            workspace=workspace, kind=Job.Kind.TIME_TOTALS_RECOUNT, status=Job.Status.QUEUED
        ).values_list("pk", flat=True)
    )


def recount(workspace) -> None:
    """Run the recount jobs that changes of time zone queued, as a worker would."""
    for job_id in recounts_queued(workspace):
        time_totals_recount_task(job_id)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=12))
def test_monthly_totals_equal_the_entries_after_any_sequence_of_writes(owner, operations):
    workspace = owner.workspace
    other = MembershipFactory(workspace=workspace, role="member").user
    users = [owner.user, other]
    projects = [
        ProjectFactory(client__workspace=workspace),
        ProjectFactory(client__workspace=workspace),
    ]
    for op in operations:
        kind = op[0]
        entries = list(TimeEntry.objects.filter(workspace=workspace).order_by("pk"))
        if kind == "create":
            _, who, which_project, start, minutes, billable = op
            started = BASE + dt.timedelta(minutes=start)
            time_entry_create(
                workspace=workspace,
                user=users[who],
                project=projects[which_project],
                started_at=started,
                ended_at=started + dt.timedelta(minutes=minutes),
                is_billable=billable,
            )
        elif kind == "update" and entries:
            _, which, which_project, start, minutes, billable = op
            started = BASE + dt.timedelta(minutes=start)
            time_entry_update(
                entry=entries[which % len(entries)],
                project=projects[which_project],
                started_at=started,
                ended_at=started + dt.timedelta(minutes=minutes),
                is_billable=billable,
            )
        elif kind == "delete" and entries:
            time_entry_delete(entry=entries[op[1] % len(entries)])
        elif kind == "timer":
            _, who, which_project, start, minutes = op
            started = BASE + dt.timedelta(minutes=start)
            RunningTimerFactory(
                workspace=workspace,
                user=users[who],
                project=projects[which_project],
                started_at=started,
            )
            timer_stop(user=users[who], ended_at=started + dt.timedelta(minutes=minutes))
        elif kind == "time_zone":
            # Queues a recount (decision 0007): the writes until it runs are added in the
            # new zone to totals still counted in the old one; the recount makes them exact.
            workspace_update(workspace=workspace, time_zone=op[1])
        elif kind == "recount":
            recount(workspace)
        if not recounts_queued(workspace):
            assert stored_months(workspace) == expected_months(workspace), op
            assert stored_workspace_months(workspace) == expected_workspace_months(workspace), op
    recount(workspace)
    assert stored_months(workspace) == expected_months(workspace)
    assert stored_workspace_months(workspace) == expected_workspace_months(workspace)
    # A rebuild from the entries gives the same rows.
    before = stored_months(workspace), stored_workspace_months(workspace)
    time_entry_days_rebuild(workspace=workspace)
    assert (stored_months(workspace), stored_workspace_months(workspace)) == before


def test_moving_an_entry_to_another_project_moves_its_time_in_one_upsert(
    owner, django_assert_num_queries
):
    workspace = owner.workspace  # Europe/Brussels
    first = ProjectFactory(client__workspace=workspace)
    second = ProjectFactory(client__workspace=workspace)
    started = dt.datetime(2026, 3, 31, 21, 30, tzinfo=dt.UTC)  # 23:30 local, 31 March
    entry = time_entry_create(
        workspace=workspace,
        user=owner.user,
        project=first,
        started_at=started,
        ended_at=started + dt.timedelta(hours=1),
        is_billable=True,
    )
    march = dt.date(2026, 3, 1)
    assert stored_months(workspace) == {(first.pk, march): (1, 3600, 3600)}
    assert stored_workspace_months(workspace) == {march: (1, 3600, 3600)}
    # Queries: SAVEPOINT, the entry's row FOR UPDATE, UPDATE the entry, the workspace's
    # time zone read under its lock (decision 0007), the monthly totals' upsert (the day's totals do not change: same
    # user, day, length and billability), the unbilled time's upsert (both projects'
    # rows in one statement; the first has no entry left, so no recompute: decision 0008),
    # RELEASE.
    with django_assert_num_queries(7):
        time_entry_update(entry=entry, project=second)
    assert stored_months(workspace) == {(second.pk, march): (1, 3600, 3600)}
    # The workspace's month is unchanged: no upsert of it (none in the count above).
    assert stored_workspace_months(workspace) == {march: (1, 3600, 3600)}
