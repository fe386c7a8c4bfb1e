"""The daily totals (TimeEntryDay, decision 0004) always equal the aggregate over the raw
entries, after any sequence of creates, updates, deletes, timer stops and time-zone changes."""

import datetime as dt
from collections import defaultdict

from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solodesk.accounts.services import workspace_update
from solodesk.accounts.tasks import time_totals_recount_task
from solodesk.core.models import Job
from solodesk.tests.factories import MembershipFactory, ProjectFactory, RunningTimerFactory
from solodesk.timetracking.models import TimeEntry, TimeEntryDay
from solodesk.timetracking.services import (
    time_entry_create,
    time_entry_days_rebuild,
    time_entry_delete,
    time_entry_update,
    timer_stop,
)

# Late on the Saturday before Europe's spring DST change: offsets cross local midnights and
# the 23-hour day.
BASE = dt.datetime(2026, 3, 28, 20, 0, tzinfo=dt.UTC)
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]


def expected_days(workspace) -> dict[tuple[int, dt.date], tuple[int, int, int]]:
    totals: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry in TimeEntry.objects.filter(workspace=workspace):
        row = totals[entry.user_id, entry.started_at.astimezone(workspace.tzinfo).date()]
        row[0] += 1
        row[1] += entry.duration_seconds
        row[2] += entry.duration_seconds if entry.is_billable else 0
    return {key: tuple(value) for key, value in totals.items()}


def stored_days(workspace) -> dict[tuple[int, dt.date], tuple[int, int, int]]:
    return {
        (row.user_id, row.day): (row.entries, row.seconds, row.billable_seconds)
        for row in TimeEntryDay.objects.filter(workspace=workspace)
        if (row.entries, row.seconds, row.billable_seconds) != (0, 0, 0)
    }


operation = st.one_of(
    st.tuples(
        st.just("create"),
        st.integers(0, 1),  # user
        st.integers(0, 4 * 24 * 60),  # start, minutes after BASE
        st.integers(1, 10 * 60),  # duration, minutes
        st.booleans(),  # billable
    ),
    st.tuples(
        st.just("update"),
        st.integers(0, 50),  # which entry
        st.integers(0, 4 * 24 * 60),
        st.integers(1, 10 * 60),
        st.booleans(),
    ),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(
        st.just("timer"), st.integers(0, 1), st.integers(0, 4 * 24 * 60), st.integers(0, 600)
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
def test_daily_totals_equal_the_entries_after_any_sequence_of_writes(owner, operations):
    workspace = owner.workspace
    other = MembershipFactory(workspace=workspace, role="member").user
    users = [owner.user, other]
    project = ProjectFactory(client__workspace=workspace)
    for op in operations:
        kind = op[0]
        entries = list(TimeEntry.objects.filter(workspace=workspace).order_by("pk"))
        if kind == "create":
            _, who, start, minutes, billable = op
            started = BASE + dt.timedelta(minutes=start)
            time_entry_create(
                workspace=workspace,
                user=users[who],
                project=project,
                started_at=started,
                ended_at=started + dt.timedelta(minutes=minutes),
                is_billable=billable,
            )
        elif kind == "update" and entries:
            _, which, start, minutes, billable = op
            entry = entries[which % len(entries)]
            started = BASE + dt.timedelta(minutes=start)
            time_entry_update(
                entry=entry,
                started_at=started,
                ended_at=started + dt.timedelta(minutes=minutes),
                is_billable=billable,
            )
        elif kind == "delete" and entries:
            time_entry_delete(entry=entries[op[1] % len(entries)])
        elif kind == "timer":
            _, who, start, minutes = op
            started = BASE + dt.timedelta(minutes=start)
            RunningTimerFactory(
                workspace=workspace, user=users[who], project=project, started_at=started
            )
            timer_stop(user=users[who], ended_at=started + dt.timedelta(minutes=minutes))
        elif kind == "time_zone":
            # Queues a recount (decision 0007): the writes until it runs are added in the
            # new zone to totals still counted in the old one; the recount makes them exact.
            workspace_update(workspace=workspace, time_zone=op[1])
        elif kind == "recount":
            recount(workspace)
        if not recounts_queued(workspace):
            assert stored_days(workspace) == expected_days(workspace), op
    recount(workspace)
    assert stored_days(workspace) == expected_days(workspace)
    # A rebuild from the entries gives the same rows.
    before = stored_days(workspace)
    time_entry_days_rebuild(workspace=workspace)
    assert stored_days(workspace) == before


def test_one_write_is_one_upsert_and_an_update_moves_the_time_between_days(
    owner, django_assert_num_queries
):
    workspace = owner.workspace  # UTC
    project = ProjectFactory(client__workspace=workspace)
    entry = time_entry_create(
        workspace=workspace,
        user=owner.user,
        project=project,
        started_at=BASE,
        ended_at=BASE + dt.timedelta(hours=2),
        is_billable=True,
    )
    assert stored_days(workspace) == {(owner.user.pk, BASE.date()): (1, 7200, 7200)}
    later = BASE + dt.timedelta(days=1)
    # Queries: SAVEPOINT, the entry's row FOR UPDATE (the change starts from it), UPDATE
    # the entry, the workspace's time zone read under its lock (decision 0007), the one
    # upsert of both days' totals, the upsert of the month's and of the workspace's month
    # (same project and month: the billable seconds change; decision 0012), the upsert of
    # the project's unbilled time (no longer billable: its only entry goes, so no oldest
    # start to recompute; decision 0008), RELEASE. On PostgreSQL the days', the month's
    # and the workspace month's upserts are one statement (services._upserts_run); the
    # unbilled one, which took an entry off, stays apart (its RETURNING decides the
    # recompute).
    with django_assert_num_queries(7 if connection.vendor == "postgresql" else 9):
        time_entry_update(
            entry=entry, started_at=later, ended_at=later + dt.timedelta(hours=1), is_billable=False
        )
    assert stored_days(workspace) == {(owner.user.pk, later.date()): (1, 3600, 0)}
    time_entry_delete(entry=entry)
    assert stored_days(workspace) == {}


def test_rebuild_counts_local_days_in_area_zones_and_bare_zone_names(owner):
    # PostgreSQL groups in SQL (AT TIME ZONE); "CET" is a fixed +01:00 abbreviation to
    # PostgreSQL but a zone with summer time to zoneinfo, so it is summed in Python.
    workspace = owner.workspace
    other = MembershipFactory(workspace=workspace, role="member").user
    project = ProjectFactory(client__workspace=workspace)
    summer = dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC)  # 00:30 on 2 July in CEST
    for user, started in ((owner.user, summer), (other, summer), (owner.user, BASE)):
        time_entry_create(
            workspace=workspace,
            user=user,
            project=project,
            started_at=started,
            ended_at=started + dt.timedelta(minutes=45),
            is_billable=user == other,
        )
    for zone in ("CET", "Europe/Berlin", "Pacific/Auckland", "UTC"):
        workspace.time_zone = zone
        workspace.save()

        count = time_entry_days_rebuild(workspace=workspace)

        assert stored_days(workspace) == expected_days(workspace), zone
        assert count == len(expected_days(workspace))
    assert (owner.user.pk, dt.date(2026, 7, 1)) in stored_days(workspace)  # UTC, last
