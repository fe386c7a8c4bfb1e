"""The unbilled time per project (UnbilledTime, decision 0008) always equals the aggregate
over the raw entries — count, seconds, the seconds rounded per entry at every step, the
oldest start — after any sequence of entry writes and invoicing changes (a draft taking
time, a line removed, a draft deleted, an issue, a void); a rebuild gives the same rows,
and `unbilled_projects` reads the project's effective step."""

import contextlib
import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solodesk.accounts.models import TimeRounding
from solodesk.core.exceptions import ApplicationError
from solodesk.invoicing import services as invoicing
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.services import RoundingRule
from solodesk.invoicing.tests.factories import line, make_client, make_project
from solodesk.projects.models import Project
from solodesk.prompts.rules.families import unbilled_projects
from solodesk.tests.factories import RunningTimerFactory
from solodesk.tests.threads import in_thread
from solodesk.timetracking import services as timetracking
from solodesk.timetracking.models import UNBILLED_STEPS, TimeEntry, UnbilledTime
from solodesk.timetracking.services import (
    time_entry_create,
    time_entry_delete,
    time_entry_update,
    timer_stop,
    unbilled_time_rebuild,
)

BASE = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MINUTES = 10 * 24 * 60

Sums = tuple[int, ...]
MODES = ("up", "nearest")


def _rounded(durations: list[int]) -> Sums:
    sums: list[int] = []
    for minutes in UNBILLED_STEPS:
        for mode in (TimeRounding.UP, TimeRounding.NEAREST):
            rule = RoundingRule(mode=mode, minutes=minutes, scope=TimeRounding.PER_ENTRY)
            sums.append(rule.billed_seconds(durations))
    return tuple(sums)


def expected_unbilled(workspace) -> dict[int, tuple[Sums, dt.datetime]]:
    """From the entries, with invoicing's RoundingRule: the reference."""
    entries: dict[int, list[TimeEntry]] = {}
    for entry in TimeEntry.objects.filter(
        workspace=workspace, is_billable=True, invoice_line=None, invoiced_at=None
    ):
        entries.setdefault(entry.project_id, []).append(entry)
    return {
        project_id: (
            (
                len(rows),
                sum(e.duration_seconds for e in rows),
                *_rounded([e.duration_seconds for e in rows]),
            ),
            min(e.started_at for e in rows),
        )
        for project_id, rows in entries.items()
    }


def stored_unbilled(workspace) -> dict[int, tuple[Sums, dt.datetime]]:
    stored = {}
    for row in UnbilledTime.objects.filter(workspace=workspace):
        sums = (
            row.entries,
            row.seconds,
            *(getattr(row, f"{mode}_{minutes}") for minutes in UNBILLED_STEPS for mode in MODES),
        )
        if row.entries == 0:
            # A project whose unbilled entries all went: zeros, no oldest start.
            assert (sums, row.first_started_at) == ((0,) * len(sums), None)
            continue
        stored[row.project_id] = (sums, row.first_started_at)
    return stored


def test_every_rounding_step_a_project_can_choose_has_its_columns():
    assert tuple(minutes for minutes, _ in TimeRounding.MINUTE_CHOICES) == UNBILLED_STEPS
    columns = {field.name for field in UnbilledTime._meta.fields}
    for minutes in UNBILLED_STEPS:
        assert {f"up_{minutes}", f"nearest_{minutes}"} <= columns


operation = st.one_of(
    st.tuples(
        st.just("create"),
        st.integers(0, 2),  # project
        st.integers(0, MINUTES),  # start, minutes after BASE
        st.integers(1, 24 * 3600),  # duration, seconds
        st.booleans(),  # billable
    ),
    st.tuples(
        st.just("update"),
        st.integers(0, 50),  # which entry
        st.integers(0, 2),
        st.integers(0, MINUTES),
        st.integers(1, 24 * 3600),
        st.booleans(),
    ),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("timer"), st.integers(0, 2), st.integers(0, MINUTES), st.integers(1, 900)),
    # A draft from the client's time up to a day (all projects or the first one only).
    st.tuples(st.just("draft"), st.integers(0, 10), st.booleans()),
    st.tuples(st.just("remove_line"), st.integers(0, 10)),
    st.tuples(st.just("delete_draft"), st.integers(0, 10)),
    st.tuples(st.just("issue"), st.integers(0, 10)),
    st.tuples(st.just("void"), st.integers(0, 10)),
)


def _pick(invoices: list[Invoice], which: int) -> Invoice | None:
    return invoices[which % len(invoices)] if invoices else None


def _apply(op, *, workspace, user, client, projects) -> None:
    kind = op[0]
    entries = list(TimeEntry.objects.filter(workspace=workspace).order_by("pk"))
    invoices = list(Invoice.objects.filter(workspace=workspace).order_by("pk"))
    drafts = [i for i in invoices if i.status == Invoice.Status.DRAFT]
    if kind == "create":
        _, which_project, start, seconds, billable = op
        started = BASE + dt.timedelta(minutes=start)
        time_entry_create(
            workspace=workspace,
            user=user,
            project=projects[which_project],
            started_at=started,
            ended_at=started + dt.timedelta(seconds=seconds),
            is_billable=billable,
        )
    elif kind == "update" and entries:
        _, which, which_project, start, seconds, billable = op
        started = BASE + dt.timedelta(minutes=start)
        time_entry_update(
            entry=entries[which % len(entries)],
            project=projects[which_project],
            started_at=started,
            ended_at=started + dt.timedelta(seconds=seconds),
            is_billable=billable,
        )
    elif kind == "delete" and entries:
        time_entry_delete(entry=entries[op[1] % len(entries)])
    elif kind == "timer":
        _, which_project, start, seconds = op
        started = BASE + dt.timedelta(minutes=start)
        RunningTimerFactory(
            workspace=workspace, user=user, project=projects[which_project], started_at=started
        )
        timer_stop(user=user, ended_at=started + dt.timedelta(seconds=seconds))
    elif kind == "draft":
        _, day, every_project = op
        invoicing.invoice_create_from_time(
            workspace=workspace,
            user=user,
            client=client,
            date_from=None,
            date_to=(BASE + dt.timedelta(days=day)).date(),
            project_public_ids=None if every_project else [projects[0].public_id],
            grouping="entry",
        )
    elif kind == "remove_line" and (draft := _pick(drafts, op[1])) is not None:
        kept = list(draft.lines.all())[1:]
        invoicing.invoice_update_draft(
            invoice=draft,
            user=user,
            lines=[
                line(
                    description=kept_line.description,
                    quantity=str(kept_line.quantity),
                    unit_price=str(kept_line.unit_price),
                    tax_rate=str(kept_line.tax_rate),
                    unit=kept_line.unit,
                    public_id=kept_line.public_id,
                )
                for kept_line in kept
            ]
            or [line("Other")],
        )
    elif kind == "delete_draft" and (draft := _pick(drafts, op[1])) is not None:
        invoicing.invoice_delete_draft(invoice=draft, user=user)
    elif kind == "issue" and (draft := _pick(drafts, op[1])) is not None:
        invoicing.invoice_issue(invoice=draft, user=user)
    elif kind == "void":
        issued = [i for i in invoices if i.status == Invoice.Status.ISSUED]
        if (invoice := _pick(issued, op[1])) is not None:
            invoicing.invoice_void(invoice=invoice, user=user)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=14))
def test_unbilled_time_equals_the_entries_after_any_sequence_of_writes(owner, operations):
    workspace = owner.workspace
    workspace.time_rounding_minutes = 6
    workspace.save()
    client = make_client(workspace, default_hourly_rate=Decimal("80.00"))
    projects = [
        make_project(client, hourly_rate=Decimal("95.00")),
        make_project(client, time_rounding_minutes=15),
        make_project(client, billing_method="non_billable", time_rounding_minutes=30),
    ]
    for op in operations:
        # Refused (no unbilled time, an invoiced entry…): nothing changed.
        with contextlib.suppress(ApplicationError):
            _apply(op, workspace=workspace, user=owner.user, client=client, projects=projects)
        assert stored_unbilled(workspace) == expected_unbilled(workspace), op
    # A rebuild from the entries gives the same rows.
    before = stored_unbilled(workspace)
    unbilled_time_rebuild(workspace=workspace)
    assert stored_unbilled(workspace) == before
    # The read picks each project's effective step; non-billable projects are left out
    # (the workspace keeps the projects of earlier examples: Hypothesis reuses `owner`).
    expected = expected_unbilled(workspace)
    non_billable = set(
        Project.objects.filter(
            workspace=workspace, billing_method=Project.BillingMethod.NON_BILLABLE
        ).values_list("pk", flat=True)
    )
    rows = unbilled_projects(workspace=workspace)
    assert [row.project_id for row in rows] == sorted(set(expected) - non_billable)
    for row in rows:
        durations = list(
            TimeEntry.objects.filter(
                project_id=row.project_id, is_billable=True, invoice_line=None, invoiced_at=None
            ).values_list("duration_seconds", flat=True)
        )
        minutes = row.time_rounding_minutes or workspace.time_rounding_minutes
        up = RoundingRule(mode=TimeRounding.UP, minutes=minutes, scope=TimeRounding.PER_ENTRY)
        near = RoundingRule(
            mode=TimeRounding.NEAREST, minutes=minutes, scope=TimeRounding.PER_ENTRY
        )
        assert (row.entries, row.seconds, row.up_seconds, row.nearest_seconds, row.first_at) == (
            len(durations),
            sum(durations),
            up.billed_seconds(durations),
            near.billed_seconds(durations),
            expected[row.project_id][1],
        )


def _entry(workspace, user, project, start: dt.datetime, seconds: int, **fields) -> TimeEntry:
    return time_entry_create(
        workspace=workspace,
        user=user,
        project=project,
        started_at=start,
        ended_at=start + dt.timedelta(seconds=seconds),
        **fields,
    )


def test_a_changed_rounding_step_needs_no_recount(owner):
    workspace = owner.workspace
    project = make_project(make_client(workspace))
    _entry(workspace, owner.user, project, BASE, 301)  # 5 min 1 s
    assert unbilled_projects(workspace=workspace)[0][16:18] == (360, 300)  # 1-minute step
    workspace.time_rounding_minutes = 15
    workspace.save()
    assert unbilled_projects(workspace=workspace)[0][16:18] == (900, 0)
    project.time_rounding_minutes = 6
    project.save()
    assert unbilled_projects(workspace=workspace)[0][16:18] == (360, 360)


def test_removing_the_oldest_entry_recomputes_the_oldest_start(owner, django_assert_num_queries):
    workspace = owner.workspace
    project = make_project(make_client(workspace))
    oldest = _entry(workspace, owner.user, project, BASE, 60)
    _entry(workspace, owner.user, project, BASE + dt.timedelta(hours=2), 60)
    newer = _entry(workspace, owner.user, project, BASE + dt.timedelta(hours=1), 60)
    # Queries: SAVEPOINT, the entry's row FOR UPDATE, DELETE the entry (and its tags'
    # rows), the workspace's zone under its lock, the daily, monthly and workspace's
    # monthly upserts, the unbilled upsert, RELEASE: a newer entry leaves the oldest start
    # as it is. On PostgreSQL the daily and both monthly upserts are one statement
    # (services._upserts_run).
    together = connection.vendor == "postgresql"
    with django_assert_num_queries(8 if together else 10):
        time_entry_delete(entry=newer)
    # The oldest: one more, the recompute of the oldest start.
    with django_assert_num_queries(9 if together else 11):
        time_entry_delete(entry=oldest)
    assert UnbilledTime.objects.get(project=project).first_started_at == BASE + dt.timedelta(
        hours=2
    )


def test_an_edit_that_leaves_the_unbilled_time_as_it_is_writes_no_summary(
    owner, django_assert_num_queries
):
    workspace = owner.workspace
    project = make_project(make_client(workspace))
    entry = _entry(workspace, owner.user, project, BASE, 60)
    # Queries: SAVEPOINT, the entry's row FOR UPDATE, UPDATE the entry, RELEASE (no time
    # moved, nothing unbilled changed).
    with django_assert_num_queries(4):
        time_entry_update(entry=entry, description="Other words")


@pytest.mark.parametrize("billable", [True, False])
def test_a_non_billable_entry_is_not_unbilled_time(owner, billable):
    workspace = owner.workspace
    project = make_project(make_client(workspace))
    _entry(workspace, owner.user, project, BASE, 60, is_billable=billable)
    assert stored_unbilled(workspace) == expected_unbilled(workspace)
    assert len(stored_unbilled(workspace)) == int(billable)


# --- concurrency (PostgreSQL: row locks, READ COMMITTED) --------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_an_older_entry_added_while_the_oldest_is_removed_stays_the_oldest(owner, monkeypatch):
    """The delete's upsert holds the summary row; a create of an entry between the deleted
    oldest and the next waits on it, uncommitted, while the delete recomputes the oldest
    start without seeing it; then the create's LEAST puts it first. Never lost."""
    workspace = owner.workspace
    project = make_project(make_client(workspace))
    oldest = _entry(workspace, owner.user, project, BASE, 60)
    _entry(workspace, owner.user, project, BASE + dt.timedelta(hours=10), 60)
    recomputing, release = threading.Event(), threading.Event()
    original = timetracking._unbilled_first_recompute

    def paused(cursor, condition, params):
        recomputing.set()  # the upsert ran: this transaction holds the row
        assert release.wait(20)
        original(cursor, condition, params)

    monkeypatch.setattr(timetracking, "_unbilled_first_recompute", paused)
    errors: list[BaseException] = []
    deleter = in_thread(lambda: time_entry_delete(entry=oldest), errors)
    assert recomputing.wait(20)
    creator = in_thread(
        lambda: _entry(workspace, owner.user, project, BASE + dt.timedelta(hours=5), 60), errors
    )
    time.sleep(0.5)
    assert creator.is_alive()  # its upsert waits for the deleter's row lock
    release.set()
    deleter.join(30)
    creator.join(30)

    assert errors == []
    row = UnbilledTime.objects.get(project=project)
    assert (row.entries, row.first_started_at) == (2, BASE + dt.timedelta(hours=5))
    assert stored_unbilled(workspace) == expected_unbilled(workspace)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_removing_the_oldest_while_an_older_entry_is_being_added_counts_it(owner, monkeypatch):
    """The other order: the create holds the row (upserted, not committed) when the delete
    of the oldest starts; the delete's upsert waits, and its recompute, a new statement,
    sees the committed create."""
    workspace = owner.workspace
    project = make_project(make_client(workspace))
    oldest = _entry(workspace, owner.user, project, BASE, 60)
    _entry(workspace, owner.user, project, BASE + dt.timedelta(hours=10), 60)
    upserted, release = threading.Event(), threading.Event()
    original = timetracking._upserts_run

    def paused(upserts):
        upserts = list(upserts)
        original(upserts)
        # The create's totals, its unbilled time's with them (the delete's comes apart).
        creates = any(upsert is not None and upsert.name == "unbilled" for upsert in upserts)
        if creates and not upserted.is_set():
            upserted.set()
            assert release.wait(20)

    monkeypatch.setattr(timetracking, "_upserts_run", paused)
    errors: list[BaseException] = []
    creator = in_thread(
        lambda: _entry(workspace, owner.user, project, BASE + dt.timedelta(hours=5), 60), errors
    )
    assert upserted.wait(20)
    deleter = in_thread(lambda: time_entry_delete(entry=oldest), errors)
    time.sleep(0.5)
    assert deleter.is_alive()  # its upsert waits for the creator's row lock
    release.set()
    creator.join(30)
    deleter.join(30)

    assert errors == []
    row = UnbilledTime.objects.get(project=project)
    assert (row.entries, row.first_started_at) == (2, BASE + dt.timedelta(hours=5))
    assert stored_unbilled(workspace) == expected_unbilled(workspace)
