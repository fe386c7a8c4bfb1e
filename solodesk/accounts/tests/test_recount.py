"""`solodesk recount`: every total the services keep, rebuilt from its records after a write
made around them, or only checked (`--check`: nothing changes, exit 1 when something
differs)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from solodesk.accounts.services import derived_totals_recount, derived_totals_vacuum
from solodesk.cli import RECOUNT_NAME_WIDTH, main
from solodesk.invoicing.models import RevenueMonth
from solodesk.invoicing.tests.factories import make_client, make_entry, make_issued, make_project
from solodesk.timetracking.models import (
    TimeEntry,
    TimeEntryDay,
    TimeEntryMonth,
    TimeEntryWorkspaceMonth,
    UnbilledTime,
)

pytestmark = pytest.mark.django_db


def _totals(workspace):
    return [
        sorted(model.objects.filter(workspace=workspace).values_list(*fields))
        for model, fields in (
            (TimeEntryDay, ("user_id", "day", "entries", "seconds", "billable_seconds")),
            (TimeEntryMonth, ("project_id", "month", "entries", "seconds", "billable_seconds")),
            (TimeEntryWorkspaceMonth, ("month", "entries", "seconds", "billable_seconds")),
            (UnbilledTime, ("project_id", "entries", "seconds", "up_15", "first_started_at")),
            (RevenueMonth, ("client_id", "currency", "month", "invoiced", "paid")),
        )
    ]


@pytest.fixture
def booked(owner):
    """Two entries and an issued invoice, written through the services."""
    client = make_client(owner.workspace, name="Acme")
    project = make_project(client, hourly_rate=Decimal("90.00"))
    # In the morning (UTC), so both entries start on the same local day whatever the hour
    # the test runs at (from ~21:00 UTC the second one started after midnight in Berlin).
    start = (timezone.now() - dt.timedelta(days=3)).replace(
        hour=8, minute=0, second=0, microsecond=0
    )
    entries = [
        make_entry(
            project=project, user=owner.user, start=start + dt.timedelta(hours=h), minutes=50
        )
        for h in (0, 2)
    ]
    make_issued(workspace=owner.workspace, user=owner.user, client=client)
    return entries


def test_a_write_around_the_services_is_found_by_check_and_fixed_by_the_rebuild(owner, booked):
    # Around the services: the entry is longer, its totals do not know.
    TimeEntry.objects.filter(pk=booked[0].pk).update(
        ended_at=booked[0].ended_at + dt.timedelta(minutes=25), duration_seconds=75 * 60
    )
    RevenueMonth.objects.filter(workspace=owner.workspace).update(invoiced=Decimal("1.00"))
    corrupted = _totals(owner.workspace)

    checked = derived_totals_recount(workspace=owner.workspace, dry_run=True)
    assert {c.name: c.differing for c in checked} == {
        "daily time totals": 1,
        "monthly time totals": 1,
        "workspace monthly time": 1,
        "unbilled time": 1,
        "monthly revenue": 1,
        "entries' stored JSON": 1,  # decision 0010: its duration and end are stored too
    }
    assert _totals(owner.workspace) == corrupted  # a check changes nothing

    rebuilt = derived_totals_recount(workspace=owner.workspace)
    assert [c.differing for c in rebuilt] == [1, 1, 1, 1, 1, 1]
    day, month, workspace_month, unbilled, revenue = _totals(owner.workspace)
    assert day[0][3] == month[0][3] == workspace_month[0][2] == unbilled[0][2] == 125 * 60
    assert revenue[0][3] != Decimal("1.00")
    assert json.loads(TimeEntry.objects.get(pk=booked[0].pk).own_json)["duration_seconds"] == 4500
    assert [c.differing for c in derived_totals_recount(workspace=owner.workspace)] == [0] * 6


def test_every_kind_fits_the_commands_column(owner, booked):
    """`solodesk recount` prints each kind's name in a column of its own width."""
    names = [check.name for check in derived_totals_recount(workspace=owner.workspace)]
    assert len(names) == 6
    assert max(len(name) for name in names) <= RECOUNT_NAME_WIDTH


def test_totals_kept_by_the_services_need_no_rebuild(owner, booked):
    kept = _totals(owner.workspace)
    assert all(c.differing == 0 for c in derived_totals_recount(workspace=owner.workspace))
    assert _totals(owner.workspace) == kept


def test_the_command_checks_then_rebuilds(owner, booked, capsys):
    UnbilledTime.objects.filter(workspace=owner.workspace).delete()

    assert main(["recount", "--check"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{owner.workspace.name} ({owner.workspace.public_id})"
    assert "  unbilled time                  0 rows  1 rows differ" in out
    assert out[-1] == "1 rows differ: run `solodesk recount` to rebuild them."
    assert not UnbilledTime.objects.exists()

    assert main(["recount", "--workspace", str(owner.workspace.public_id)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "Rebuilt."
    assert UnbilledTime.objects.filter(workspace=owner.workspace).count() == 1
    assert main(["recount", "--check"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "Every total matches its records."


def test_the_command_rewrites_only_the_stored_json_that_differs(owner, booked, capsys):
    TimeEntry.objects.filter(pk=booked[1].pk).update(description="Written around the ORM")

    assert main(["recount", "--check"]) == 1
    assert "  entries' stored JSON           2 rows  1 rows differ" in capsys.readouterr().out
    assert main(["recount"]) == 0
    out = capsys.readouterr().out
    assert "  entries' stored JSON           2 rows  1 rows differ, rebuilt: 1 rows" in out
    stored = json.loads(TimeEntry.objects.get(pk=booked[1].pk).own_json)
    assert stored["description"] == "Written around the ORM"
    assert main(["recount", "--check"]) == 0


@pytest.mark.parametrize("public_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_workspace_is_an_error(owner, capsys, public_id):
    assert main(["recount", "--workspace", public_id]) == 2
    assert capsys.readouterr().err == f"error: no workspace with the id {public_id}\n"


# --- vacuum after a real recount (PostgreSQL) ---------------------------------------------

DERIVED_TABLES = [
    model._meta.db_table
    for model in (
        TimeEntryDay,
        TimeEntryMonth,
        TimeEntryWorkspaceMonth,
        UnbilledTime,
        RevenueMonth,
    )
]
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="VACUUM and pg_stat_user_tables are PostgreSQL's"
)


def _vacuums(column: str = "vacuum_count, analyze_count") -> dict[str, tuple[int, ...]]:
    """Manual VACUUM and ANALYZE runs per table (autovacuum's are counted apart). This
    connection's own counts are sent first: a late one would land after what is read, and
    the next are then held back for a second (as in a real recount, quick after its start)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            f"SELECT relname, {column} FROM pg_stat_user_tables WHERE relname = ANY(%s)",  # noqa: S608
            [DERIVED_TABLES],
        )
        return {name: tuple(counts) for name, *counts in cursor.fetchall()}


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_recount_vacuums_and_analyzes_the_five_tables_once_committed(owner, booked, capsys):
    UnbilledTime.objects.filter(workspace=owner.workspace).delete()
    before = _vacuums()
    assert sorted(before) == sorted(DERIVED_TABLES)

    assert main(["recount"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == ["Vacuumed and analyzed the totals' tables.", "Rebuilt."]
    after = _vacuums()
    assert {name: (v - before[name][0], a - before[name][1]) for name, (v, a) in after.items()} == {
        name: (1, 1) for name in DERIVED_TABLES
    }
    # The rows the rebuild deleted are gone, and the statistics say so.
    assert _vacuums("n_dead_tup, n_mod_since_analyze") == {name: (0, 0) for name in DERIVED_TABLES}
    assert UnbilledTime.objects.filter(workspace=owner.workspace).count() == 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_check_does_not_vacuum(owner, booked, capsys):
    before = _vacuums()
    assert main(["recount", "--check"]) == 0
    assert "Vacuumed" not in capsys.readouterr().out
    assert _vacuums() == before


def test_inside_a_transaction_the_recount_skips_the_vacuum(owner, booked, capsys):
    # The test's own transaction, as a caller's `atomic` would be: VACUUM would fail there.
    assert connection.in_atomic_block
    assert derived_totals_vacuum() is False
    assert main(["recount"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "Every total matches its records."
    assert not any(line.startswith("Vacuumed") for line in out)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the other databases")
@pytest.mark.django_db(transaction=True)
def test_on_sqlite_a_recount_in_autocommit_does_nothing_more(owner, booked, capsys):
    assert not connection.in_atomic_block
    assert main(["recount"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "Every total matches its records."
    assert not any(line.startswith("Vacuumed") for line in out)
    assert derived_totals_vacuum() is False


# --- vacuum after the time-zone change's recount job -------------------------------------


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_time_zone_recount_job_vacuums_once_it_has_run(owner, booked):
    from solodesk.accounts.services import time_totals_recount_start
    from solodesk.accounts.tasks import time_totals_recount_task
    from solodesk.core.models import Job

    job = time_totals_recount_start(workspace=owner.workspace, user=owner.user)
    assert job is not None
    before = _vacuums()

    time_totals_recount_task(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    after = _vacuums()
    day, month = TimeEntryDay._meta.db_table, TimeEntryMonth._meta.db_table
    assert after[day][0] == before[day][0] + 1
    assert after[month][0] == before[month][0] + 1


def test_the_recount_job_is_done_even_when_its_vacuum_fails(owner, booked, monkeypatch):
    from solodesk.accounts import tasks
    from solodesk.accounts.services import time_totals_recount_start
    from solodesk.core.models import Job

    def fails() -> bool:
        raise RuntimeError("the vacuum failed")

    monkeypatch.setattr(tasks, "derived_totals_vacuum", fails)
    job = time_totals_recount_start(workspace=owner.workspace, user=owner.user)
    assert job is not None

    tasks.time_totals_recount_task(job.pk)  # no exception: logged

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED


def test_a_recount_job_past_its_soft_time_limit_does_not_vacuum(owner, booked, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    from solodesk.accounts import tasks
    from solodesk.accounts.services import time_totals_recount_start
    from solodesk.core.models import Job

    vacuums: list[bool] = []
    monkeypatch.setattr(tasks, "derived_totals_vacuum", lambda: vacuums.append(True) or True)

    def too_long(*, job):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(tasks, "time_totals_recount_run", too_long)
    job = time_totals_recount_start(workspace=owner.workspace, user=owner.user)
    assert job is not None

    tasks.time_totals_recount_task(job.pk)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert vacuums == []
