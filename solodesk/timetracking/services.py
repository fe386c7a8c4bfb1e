from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import IntegrityError, connection, models, transaction
from django.db.models import ForeignKey, QuerySet
from django.utils import timezone

from solodesk.accounts.models import User, Workspace
from solodesk.core.exceptions import ApplicationError
from solodesk.core.models import Job
from solodesk.core.prepared import PreparedQuery, statement_cursor
from solodesk.core.rawsql import datetime_value
from solodesk.core.services import job_create
from solodesk.projects.models import Project
from solodesk.timetracking.models import (
    MAX_ENTRY_DURATION,
    UNBILLED_ROUNDED_COLUMNS,
    RunningTimer,
    Tag,
    TimeEntry,
    TimeEntryDay,
    TimeEntryMonth,
    TimeEntryWorkspaceMonth,
    UnbilledTime,
    set_own_json_tags,
    unbilled_rounded,
)
from solodesk.timetracking.selectors import own_json_expression
from solodesk.webhooks.services import (
    webhook_event_record_timer_started,
    webhook_event_record_timer_stopped,
)

MAX_TAGS = 20
# An entry given as a date and a duration starts at this local time.
DEFAULT_START_TIME = dt.time(9, 0)


# --- Daily totals (TimeEntryDay, decision 0004) -------------------------------------------

# (workspace id, user id, local day) -> (entries, seconds, billable seconds) to add.
DayDeltas = dict[tuple[int, int, dt.date], tuple[int, int, int]]
# (workspace id, project id, first day of the local month) -> the same (decision 0005).
MonthDeltas = dict[tuple[int, int, dt.date], tuple[int, int, int]]
# (workspace id, first day of the local month) -> the same (decision 0012).
WorkspaceMonthDeltas = dict[tuple[int, dt.date], tuple[int, int, int]]


@dataclass(frozen=True)
class EntryShare:
    """What an entry adds to its day's totals, taken before a change (to subtract it).
    `is_unbilled`: billable, on no invoice line and not invoiced, so it also counts in its
    project's unbilled time (`UnbilledTime`, decision 0008)."""

    workspace_id: int
    user_id: int
    started_at: dt.datetime
    duration_seconds: int
    is_billable: bool
    project_id: int
    is_unbilled: bool = False

    @classmethod
    def of(cls, entry: TimeEntry) -> EntryShare:
        return cls(
            entry.workspace_id,
            entry.user_id,
            entry.started_at,
            entry.duration_seconds,
            entry.is_billable,
            entry.project_id,
            entry.is_billable and entry.invoice_line_id is None and entry.invoiced_at is None,
        )


def _add_share(
    deltas: DayDeltas, months: MonthDeltas, share: EntryShare, tzinfo: dt.tzinfo, sign: int
) -> None:
    day = share.started_at.astimezone(tzinfo).date()
    change = (
        sign,
        sign * share.duration_seconds,
        sign * share.duration_seconds if share.is_billable else 0,
    )
    for totals, key in (
        (deltas, (share.workspace_id, share.user_id, day)),
        (months, (share.workspace_id, share.project_id, day.replace(day=1))),
    ):
        entries, seconds, billable = totals.get(key, (0, 0, 0))
        totals[key] = (entries + change[0], seconds + change[1], billable + change[2])


@dataclass(frozen=True)
class _Upsert:
    """One INSERT … ON CONFLICT DO UPDATE of a totals table, not yet run: `_upserts_run`
    sends an entry write's upserts as one statement on PostgreSQL. `name` is its name as a
    CTE there."""

    name: str
    sql: str
    params: list[Any]


def _totals_upsert(
    model: type[TimeEntryDay] | type[TimeEntryMonth] | type[TimeEntryWorkspaceMonth],
    columns: tuple[str, ...],
    totals: dict[Any, tuple[int, int, int]],
) -> _Upsert | None:
    """One INSERT … ON CONFLICT DO UPDATE adding the non-zero differences in `totals`
    (None: nothing to add); `columns` name the columns of the keys' values, in order, and
    the conflict is on the model's unique constraint. Rows in key order: two writers
    moving time between the same days lock them in the same order and cannot deadlock."""
    rows = sorted((key, value) for key, value in totals.items() if value != (0, 0, 0))
    if not rows:
        return None
    table = connection.ops.quote_name(model._meta.db_table)
    conflict = _unique_columns(model)
    adapt = connection.ops.adapt_datefield_value
    params: list[Any] = []
    for key, sums in rows:
        params += [adapt(value) if isinstance(value, dt.date) else value for value in key]
        params += sums
    placeholders = ", ".join(["%s"] * (len(columns) + 3))
    values = ", ".join([f"({placeholders})"] * len(rows))
    return _Upsert(
        model.__name__.lower(),
        f"INSERT INTO {table} ({', '.join(columns)}, "  # noqa: S608
        f"entries, seconds, billable_seconds) VALUES {values} "
        f"ON CONFLICT ({conflict}) "
        f"DO UPDATE SET entries = {table}.entries + excluded.entries, "
        f"seconds = {table}.seconds + excluded.seconds, "
        f"billable_seconds = {table}.billable_seconds + excluded.billable_seconds",
        params,
    )


@functools.cache
def _unique_columns(model: type[models.Model]) -> str:
    """The columns of the model's one unique constraint, quoted, in its order: the
    conflict target of its totals' upserts."""
    (unique,) = model._meta.constraints
    column_of = {field.name: str(field.column) for field in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    return ", ".join(quote(column_of[name]) for name in unique.fields)  # type: ignore[attr-defined]


def _workspace_months(months: MonthDeltas) -> WorkspaceMonthDeltas:
    """The per-project monthly differences summed per workspace and month
    (`TimeEntryWorkspaceMonth`, decision 0012)."""
    totals: WorkspaceMonthDeltas = {}
    for (workspace_id, _project_id, month), (entries, seconds, billable) in months.items():
        before = totals.get((workspace_id, month), (0, 0, 0))
        totals[workspace_id, month] = (
            before[0] + entries,
            before[1] + seconds,
            before[2] + billable,
        )
    return totals


def _upserts_run(upserts: Iterable[_Upsert | None]) -> None:
    """Run an entry write's totals upserts, in the order given: on PostgreSQL as ONE
    statement, the first the main statement and the others data-modifying CTEs, unread
    (`WITH c AS (…), b AS (…) INSERT … a`); elsewhere (SQLite has no data-modifying CTEs)
    one after another.

    Why one statement: each upsert locks a hot row (every write of a project's month and
    unbilled time waits on the same rows) until commit. Sent one by one, the day's row
    stayed locked while the month's and the unbilled time's upserts made their round trips
    through Python and the network; in one statement they are taken back to back, and a
    create costs one round trip instead of three.

    Lock order: PostgreSQL runs the main statement, then the unread CTEs in the reverse of
    their order in the text (a ModifyTable's rows are finished last-initialized first), so
    the CTEs are written in reverse and the rows are locked in the order given, as when
    run one by one: every entry write locks days, then months, then the workspace's
    months, then unbilled time, and two writes cannot deadlock on them. (The docs leave the
    order of CTEs unspecified; what matters is that it is the same for every write, and it
    is: one shape of statement.)
    The sub-statements share one snapshot, and each ON CONFLICT DO UPDATE adds to the
    latest committed row as a statement of its own would: the totals are the same."""
    present = [upsert for upsert in upserts if upsert is not None]
    if not present:
        return
    with statement_cursor() as cursor:
        if connection.vendor != "postgresql":
            for upsert in present:
                cursor.execute(upsert.sql, upsert.params)
            return
        main, *others = present
        ctes = others[::-1]
        sql = main.sql
        if ctes:
            sql = f"WITH {', '.join(f'{c.name} AS ({c.sql})' for c in ctes)} {main.sql}"
        cursor.execute(sql, [param for upsert in (*ctes, main) for param in upsert.params])


# --- Unbilled time per project (UnbilledTime, decision 0008) -----------------------------------

# The summed columns of UnbilledTime, in the order of unbilled_rounded's values after the
# count and the seconds.
UNBILLED_SUMS = ("entries", "seconds", *UNBILLED_ROUNDED_COLUMNS)
# The condition of the partial index entry_unbilled_idx and of
# invoicing.services.unbilled_entries (without the project's billing method, which the
# reader checks). `is_billable` bare: SQLite only uses a partial index when the WHERE
# implies its condition without bound parameters.
UNBILLED_WHERE = "e.is_billable AND e.invoice_line_id IS NULL AND e.invoiced_at IS NULL"


def _unbilled_sums_sql(sign: int) -> str:
    """COUNT, SUM of the seconds and of each step's rounded seconds of the entries `e`, in
    the integer arithmetic of unbilled_rounded (and RoundingRule.apply), times `sign`."""
    sums = ["COUNT(*)", "SUM(e.duration_seconds)"]
    for column in UNBILLED_ROUNDED_COLUMNS:
        mode, minutes = column.split("_")
        step = int(minutes) * 60
        half = step - 1 if mode == "up" else step // 2
        sums.append(f"SUM((e.duration_seconds + {half}) / {step} * {step})")
    return ", ".join(f"{sign} * {total}" if sign != 1 else total for total in sums)


def _unbilled_upsert_sql(rows: str) -> str:
    """INSERT of `rows` (VALUES or a SELECT with a WHERE: SQLite parses the upsert of an
    INSERT … SELECT only after one) ON CONFLICT (project) adding the differences and
    keeping the earlier first start (NULL: no start to add). Commutative: concurrent writers
    of a project never lose one another's difference."""
    table = connection.ops.quote_name(UnbilledTime._meta.db_table)
    sums = ", ".join(f"{column} = {table}.{column} + excluded.{column}" for column in UNBILLED_SUMS)
    # Not LEAST/MIN(a, b): PostgreSQL's LEAST skips a NULL, SQLite's MIN(a, b) returns it.
    # No entry left: no oldest start (and nothing to recompute).
    first = (
        f"first_started_at = CASE WHEN {table}.entries + excluded.entries = 0 THEN NULL"
        f" WHEN excluded.first_started_at IS NULL"
        f" THEN {table}.first_started_at WHEN {table}.first_started_at IS NULL"
        f" OR excluded.first_started_at < {table}.first_started_at"
        f" THEN excluded.first_started_at ELSE {table}.first_started_at END"
    )
    return (
        f"INSERT INTO {table} (workspace_id, project_id, {', '.join(UNBILLED_SUMS)},"
        f" first_started_at) {rows} ON CONFLICT (project_id) DO UPDATE SET {sums}, {first}"
    )


def _unbilled_first_recompute(cursor: Any, condition: str, params: list[Any]) -> None:
    """The oldest unbilled start of the summary rows matching `condition` (on the table,
    unaliased), recomputed from the entries after a delta took some off: a removed entry
    may have been the oldest. A separate statement after the delta's upsert, which holds
    the rows' locks until commit. Race-free under READ COMMITTED: this statement's snapshot
    sees every writer that committed before the lock was granted, and a writer still to
    come waits for the lock and applies its earlier start on top of this value."""
    table = connection.ops.quote_name(UnbilledTime._meta.db_table)
    entry = connection.ops.quote_name(TimeEntry._meta.db_table)
    cursor.execute(
        f"UPDATE {table} SET first_started_at = (SELECT MIN(e.started_at) FROM {entry} e"  # noqa: S608
        f" WHERE e.workspace_id = {table}.workspace_id AND e.project_id = {table}.project_id"
        f" AND {UNBILLED_WHERE}) WHERE {condition}",
        params,
    )


# (workspace id, project id) -> (entries, seconds, up_1, nearest_1, …) to add, and the
# earliest start added / taken off.
UnbilledDeltas = dict[tuple[int, int], list[int]]


def _unbilled_upsert(
    sums: UnbilledDeltas,
    added_first: dict[tuple[int, int], dt.datetime],
    removed_first: dict[tuple[int, int], dt.datetime],
) -> _Upsert | None:
    """ONE upsert of the non-zero differences (or a project whose oldest start may have
    moved); None: nothing to write."""
    # In project order: two writers moving entries between the same projects lock their
    # rows in the same order and cannot deadlock.
    keys = sorted(
        key
        for key, values in sums.items()
        if any(values) or key in added_first or key in removed_first
    )
    if not keys:
        return None
    adapt = connection.ops.adapt_datetimefield_value
    params: list[Any] = []
    for key in keys:
        first = added_first.get(key)
        params += [*key, *sums[key], None if first is None else adapt(first)]
    row = f"({', '.join(['%s'] * (len(UNBILLED_SUMS) + 3))})"
    return _Upsert(
        "unbilled", _unbilled_upsert_sql(f"VALUES {', '.join([row] * len(keys))}"), params
    )


def _unbilled_upsert_and_recompute(
    upsert: _Upsert, removed_first: dict[tuple[int, int], dt.datetime]
) -> None:
    """The unbilled upsert of a write that took unbilled entries off, RETURNING the rows'
    oldest starts; then, only where a removed entry was at or before that start (it may
    have been the oldest), ONE recompute of it. A statement of its own, after the other
    totals' (`_upserts_run`): made the main statement of theirs, to read what it returns,
    it would lock the unbilled rows before the days' and the months', the reverse of every
    other entry write's order."""
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(UnbilledTime._meta.db_table)
    with statement_cursor() as cursor:
        cursor.execute(upsert.sql + " RETURNING project_id, first_started_at", upsert.params)
        # NULL when the project has no unbilled entry left.
        firsts = {
            project_id: None if first is None else datetime_value(first)
            for project_id, first in cursor.fetchall()
        }
        recompute: list[Any] = []
        for (_, project_id), removed in sorted(removed_first.items()):
            first = firsts.get(project_id)
            if first is not None and first >= removed:
                recompute += [project_id, adapt(removed)]
        if recompute:
            condition = " OR ".join(
                [f"(project_id = %s AND {table}.first_started_at >= %s)"] * (len(recompute) // 2)
            )
            _unbilled_first_recompute(cursor, condition, recompute)


def unbilled_time_apply(*, entry_ids: Iterable[int], sign: int) -> None:
    """The entries `entry_ids`, if billable, have just become unbilled (`sign` 1: released
    from a draft's line, their invoice voided) or stopped being unbilled (-1: taken by a
    draft): ONE INSERT … SELECT … GROUP BY project … ON CONFLICT DO UPDATE adding their
    sums, computed in SQL, to their projects' unbilled time; after a removal, ONE recompute
    of the oldest start of the projects where a taken entry was at or before it
    (`_unbilled_first_recompute`). Call it in the transaction that changed the entries,
    after the change (the UPDATE locked the rows, so the sums are those of the rows as
    changed: an entry edited concurrently is either committed before or waits)."""
    ids = sorted(set(entry_ids))
    if not ids:
        return
    if sign not in (1, -1):
        raise ValueError("sign is 1 or -1")
    entry = connection.ops.quote_name(TimeEntry._meta.db_table)
    table = connection.ops.quote_name(UnbilledTime._meta.db_table)
    selected = f"e.id IN ({', '.join(['%s'] * len(ids))}) AND e.is_billable"
    first = "MIN(e.started_at)" if sign == 1 else "NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            _unbilled_upsert_sql(
                f"SELECT e.workspace_id, e.project_id, {_unbilled_sums_sql(sign)}, {first}"  # noqa: S608
                f" FROM {entry} e WHERE {selected} GROUP BY e.workspace_id, e.project_id"
                # The rows locked in project order, as by `_unbilled_upsert`: no deadlock.
                f" ORDER BY e.project_id"
            ),
            ids,
        )
        if sign == -1:
            _unbilled_first_recompute(
                cursor,
                f"EXISTS (SELECT 1 FROM {entry} e WHERE {selected}"  # noqa: S608
                f" AND e.project_id = {table}.project_id"
                f" AND e.started_at <= {table}.first_started_at)",
                ids,
            )


@transaction.atomic
def unbilled_time_rebuild(*, workspace: Workspace) -> int:
    """Recompute the workspace's unbilled time per project from its entries, in SQL (the
    same statement on PostgreSQL and SQLite), for data loaded around the services (the
    seed, `bench/`, tests that bulk_create). Returns the rows written. Not part of the
    time-zone recount (`time_entry_days_rebuild`): unbilled time has no days, and the
    invoicing writes that change it do not take the workspace lock that orders a recount."""
    UnbilledTime.objects.filter(workspace=workspace).delete()
    table = connection.ops.quote_name(UnbilledTime._meta.db_table)
    entry = connection.ops.quote_name(TimeEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, project_id, {', '.join(UNBILLED_SUMS)},"  # noqa: S608
            f" first_started_at) SELECT e.workspace_id, e.project_id, {_unbilled_sums_sql(1)},"
            f" MIN(e.started_at) FROM {entry} e WHERE e.workspace_id = %s AND {UNBILLED_WHERE}"
            f" GROUP BY e.workspace_id, e.project_id",
            [workspace.pk],
        )
        return int(cursor.rowcount)


def _add_unbilled(
    sums: UnbilledDeltas,
    firsts: dict[tuple[int, int], dt.datetime],
    share: EntryShare,
    sign: int,
) -> None:
    key = (share.workspace_id, share.project_id)
    values = sums.setdefault(key, [0] * len(UNBILLED_SUMS))
    change = (1, share.duration_seconds, *unbilled_rounded(share.duration_seconds))
    for index, amount in enumerate(change):
        values[index] += sign * amount
    if key not in firsts or share.started_at < firsts[key]:
        firsts[key] = share.started_at


def _time_zones_locked(
    workspace_ids: Iterable[int], *, for_rebuild: bool = False
) -> dict[int, str]:
    """The workspaces' time zones, read under the lock that orders entry writes and
    recounts of the same workspace (decision 0007): every entry write takes its
    workspace's row FOR SHARE before it upserts totals, a recount takes it FOR NO KEY
    UPDATE for its whole transaction. So a write waits for a running recount (and is then
    added, in the new zone, to the recounted totals), or a recount waits for the write to
    commit (and counts its entry from the table): never lost, never counted twice. The zone
    comes from the locked row, the latest committed one, not from the caller's copy of the
    workspace, which may predate a change. On SQLite every transaction is BEGIN IMMEDIATE,
    which already serializes writers, so the row is only read. (A create, a change of
    project and a timer's stop take the same lock in the query that reads their project
    or timer: `_project_locked`, `_locked_timer`.)"""
    ids = sorted(set(workspace_ids))
    if not ids:
        return {}
    lock = ""
    if connection.features.has_select_for_update:
        lock = " FOR NO KEY UPDATE" if for_rebuild else " FOR SHARE"
    table = connection.ops.quote_name(Workspace._meta.db_table)
    with statement_cursor() as cursor:
        cursor.execute(
            f"SELECT id, time_zone FROM {table} "  # noqa: S608 - table name from the model
            f"WHERE id IN ({', '.join(['%s'] * len(ids))}) ORDER BY id{lock}",
            ids,
        )
        return {int(workspace_id): str(zone) for workspace_id, zone in cursor.fetchall()}


def _share_the_workspace(sql: str) -> str:
    """The SQL of a `select_for_update(of=(…, "workspace"))` query with the workspace's row
    locked FOR SHARE instead (`FOR UPDATE OF t FOR SHARE OF accounts_workspace`). Django's
    select_for_update has FOR UPDATE and FOR NO KEY UPDATE only, and entry writes must
    share their workspace's row (decision 0007): many writers of a workspace hold it at
    once, only a recount's FOR NO KEY UPDATE waits for them. Applied once, to the SQL a
    `PreparedQuery` compiled. On SQLite, which has no row locks, Django leaves the clause
    out and there is nothing to change."""
    workspace = connection.ops.quote_name(Workspace._meta.db_table)
    head, clause, names = sql.rpartition(" FOR UPDATE OF ")
    if not clause:
        return sql
    of = names.split(", ")
    if workspace not in of:
        raise ValueError(f"No FOR UPDATE OF {workspace} to share in: {sql}")
    update = ", ".join(name for name in of if name != workspace)
    return head + (f" FOR UPDATE OF {update}" if update else "") + f" FOR SHARE OF {workspace}"


def time_entry_days_apply(
    *,
    added: Iterable[TimeEntry | EntryShare] = (),
    removed: Iterable[TimeEntry | EntryShare] = (),
    locked: Workspace | None = None,
) -> None:
    """Add the `added` entries to their days' totals and take the `removed` ones off, in ONE
    INSERT … ON CONFLICT DO UPDATE that adds the differences (so concurrent writers to the
    same day never lose an update); and the same for the per-project monthly totals
    (`TimeEntryMonth`, decision 0005) and the workspace's (`TimeEntryWorkspaceMonth`,
    decision 0012), an upsert each when the change moves any time, and for the projects'
    unbilled time (decision 0008); on PostgreSQL all in one statement
    (`_upserts_run`). Call it in the transaction that writes the entries. The day is the
    local day of the start in the workspace's time zone as read under the workspace lock
    (`_time_zones_locked`), one query, never the caller's copy of the workspace: a
    time-zone change may have committed since the caller loaded it. `locked`
    is a workspace row this transaction already read under that lock (with the project,
    `_project_locked`, or the timer, `_locked_timer`): its zone is used, no query."""
    added_shares = [i if isinstance(i, EntryShare) else EntryShare.of(i) for i in added]
    removed_shares = [i if isinstance(i, EntryShare) else EntryShare.of(i) for i in removed]
    if Counter(added_shares) == Counter(removed_shares):
        return  # no time moved (a new description, tags): no totals change in any zone
    workspace_ids = {share.workspace_id for share in added_shares + removed_shares}
    if locked is not None and workspace_ids == {locked.pk}:
        zones = {locked.pk: locked.time_zone}
    else:
        zones = _time_zones_locked(workspace_ids)
    tzinfos = {workspace_id: zoneinfo.ZoneInfo(zone) for workspace_id, zone in zones.items()}
    deltas: DayDeltas = {}
    months: MonthDeltas = {}
    for share in added_shares:
        _add_share(deltas, months, share, tzinfos[share.workspace_id], 1)
    for share in removed_shares:
        _add_share(deltas, months, share, tzinfos[share.workspace_id], -1)
    upserts = [
        _totals_upsert(TimeEntryDay, ("workspace_id", "user_id", "day"), deltas),
        _totals_upsert(TimeEntryMonth, ("workspace_id", "project_id", "month"), months),
        _totals_upsert(
            TimeEntryWorkspaceMonth, ("workspace_id", "month"), _workspace_months(months)
        ),
    ]
    unbilled: UnbilledDeltas = {}
    added_first: dict[tuple[int, int], dt.datetime] = {}
    removed_first: dict[tuple[int, int], dt.datetime] = {}
    for share in added_shares:
        if share.is_unbilled:
            _add_unbilled(unbilled, added_first, share, 1)
    for share in removed_shares:
        if share.is_unbilled:
            _add_unbilled(unbilled, removed_first, share, -1)
    for key, first in list(removed_first.items()):
        if key in added_first and added_first[key] <= first:
            # An entry as early or earlier comes in: LEAST(row, added) is the new oldest.
            del removed_first[key]
    unbilled_upsert = _unbilled_upsert(unbilled, added_first, removed_first)
    if unbilled_upsert is not None and removed_first:
        _upserts_run(upserts)
        _unbilled_upsert_and_recompute(unbilled_upsert, removed_first)
    else:
        # A create, or a change that cannot move the oldest start back: ONE statement on
        # PostgreSQL (`_upserts_run`).
        _upserts_run([*upserts, unbilled_upsert])


def _zone_in_sql(time_zone: str) -> bool:
    """Whether PostgreSQL reads `time_zone` as the same zone as Python's zoneinfo: an
    area/location name (or UTC). Bare names such as CET or EST are abbreviations to
    PostgreSQL (a fixed offset) but zones with summer time to zoneinfo."""
    return connection.vendor == "postgresql" and ("/" in time_zone or time_zone == "UTC")


def time_entries_own_json_rebuild(*, entries: QuerySet[TimeEntry] | None = None) -> int:
    """Writes `own_json` of `entries` (every entry by default) from their columns, in the
    database (`own_json_expression`, one UPDATE): the migration that added the column,
    and `solodesk recount`. Every write through the ORM keeps it already (`OwnJsonField`).
    Returns the rows written."""
    entries = TimeEntry.objects.all() if entries is None else entries
    return entries.update(own_json=own_json_expression())


def time_entries_own_json_stale_rebuild(*, entries: QuerySet[TimeEntry]) -> int:
    """Writes `own_json` of those of `entries` whose stored text is not the database's
    JSON of their columns and tags, byte for byte (the ORM's writes are: test_own_json),
    and returns how many: `solodesk recount`, which rewrites nothing on a database in step."""
    return time_entries_own_json_rebuild(entries=entries.exclude(own_json=own_json_expression()))


@transaction.atomic
def time_entry_days_rebuild(*, workspace: Workspace) -> int:
    """Recompute the workspace's daily totals, its per-project monthly ones
    (`TimeEntryMonth`) and its monthly ones (`TimeEntryWorkspaceMonth`), from its entries
    (the migrations that add them, a change of the workspace's time zone, bulk-loaded
    data). Returns the count of daily rows.

    On PostgreSQL one statement groups the entries by local day and month
    (`started_at AT TIME ZONE …`, the server's time-zone database, the same files as
    zoneinfo's where both use the system's) and inserts both totals: a million entries in
    seconds. Elsewhere (SQLite has no time zones) the entries are read and summed here.

    First it locks the workspace row (`_time_zones_locked`): entry writes wait until this
    transaction commits, and the zone counted in is the one committed last (a recount job
    that started after a second change of zone counts in the newest one)."""
    workspace.time_zone = _time_zones_locked([workspace.pk], for_rebuild=True)[workspace.pk]
    TimeEntryDay.objects.filter(workspace=workspace).delete()
    TimeEntryMonth.objects.filter(workspace=workspace).delete()
    TimeEntryWorkspaceMonth.objects.filter(workspace=workspace).delete()
    if _zone_in_sql(workspace.time_zone):
        return _rebuild_in_sql(workspace)
    tzinfo = workspace.tzinfo
    deltas: DayDeltas = {}
    months: MonthDeltas = {}
    entries = (
        TimeEntry.objects.filter(workspace=workspace)
        .order_by()
        .values_list("user_id", "started_at", "duration_seconds", "is_billable", "project_id")
    )
    for user_id, started_at, seconds, is_billable, project_id in entries.iterator(chunk_size=5000):
        share = EntryShare(workspace.pk, user_id, started_at, seconds, is_billable, project_id)
        _add_share(deltas, months, share, tzinfo, 1)
    _totals_insert(TimeEntryDay, ("workspace_id", "user_id", "day"), deltas)
    _totals_insert(TimeEntryMonth, ("workspace_id", "project_id", "month"), months)
    _totals_insert(TimeEntryWorkspaceMonth, ("workspace_id", "month"), _workspace_months(months))
    return len(deltas)


def _totals_insert(
    model: type[models.Model], fields: tuple[str, ...], totals: dict[Any, tuple[int, int, int]]
) -> None:
    """Insert a rebuild's `totals` rows, their keys' values in the `fields` named."""
    model._default_manager.bulk_create(
        [
            model(
                **dict(zip(fields, key, strict=True)),
                entries=count,
                seconds=seconds,
                billable_seconds=billable,
            )
            for key, (count, seconds, billable) in totals.items()
        ],
        batch_size=1000,
    )


def _rebuild_in_sql(workspace: Workspace) -> int:
    """The three inserts in one statement (data-modifying CTEs run to completion), so a
    rebuild costs the queries the Python path does: the daily rows' count comes back. The
    workspace's months are summed from the per-project months the statement inserts (its
    RETURNING rows), not from the entries again."""
    quote = connection.ops.quote_name
    entry = quote(TimeEntry._meta.db_table)
    day, month = quote(TimeEntryDay._meta.db_table), quote(TimeEntryMonth._meta.db_table)
    workspace_month = quote(TimeEntryWorkspaceMonth._meta.db_table)
    sums = (
        "COUNT(*), SUM(duration_seconds), "
        "SUM(CASE WHEN is_billable THEN duration_seconds ELSE 0 END)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH days AS ("  # noqa: S608 - table names from the models
            f"INSERT INTO {day} (workspace_id, user_id, day, entries, seconds, "
            f"billable_seconds) "
            f"SELECT workspace_id, user_id, (started_at AT TIME ZONE %s)::date, {sums} "
            f"FROM {entry} WHERE workspace_id = %s GROUP BY 1, 2, 3 RETURNING 1), "
            f"months AS ("
            f"INSERT INTO {month} (workspace_id, project_id, month, entries, seconds, "
            f"billable_seconds) "
            f"SELECT workspace_id, project_id, "
            f"date_trunc('month', started_at AT TIME ZONE %s)::date, {sums} "
            f"FROM {entry} WHERE workspace_id = %s GROUP BY 1, 2, 3 "
            f"RETURNING workspace_id, month, entries, seconds, billable_seconds), "
            f"workspace_months AS ("
            f"INSERT INTO {workspace_month} (workspace_id, month, entries, seconds, "
            f"billable_seconds) "
            f"SELECT workspace_id, month, SUM(entries), SUM(seconds), SUM(billable_seconds) "
            f"FROM months GROUP BY 1, 2) "
            f"SELECT COUNT(*) FROM days",
            [workspace.time_zone, workspace.pk, workspace.time_zone, workspace.pk],
        )
        return int(cursor.fetchone()[0])


def _project_with_workspace_shared(**lookup: Any) -> QuerySet[Project]:
    return (
        Project.objects.select_related("client", "workspace")
        .filter(**lookup)
        .select_for_update(of=("workspace",))[:1]
    )


# Compiled once per process: building and compiling this three-table, locking query cost
# more CPU (~3.5 ms) than the zone's own query it replaces.
_PROJECT_BY_PK: PreparedQuery[Project] = PreparedQuery(
    lambda workspace_id, pk: _project_with_workspace_shared(workspace_id=workspace_id, pk=pk),
    "workspace_id",
    "pk",
    rewrite=_share_the_workspace,
)
_PROJECT_BY_PUBLIC_ID: PreparedQuery[Project] = PreparedQuery(
    lambda workspace_id, public_id: _project_with_workspace_shared(
        workspace_id=workspace_id, public_id=public_id
    ),
    "workspace_id",
    public_id=UUID,
    rewrite=_share_the_workspace,
)


def _project_locked(*, workspace: Workspace, project: Project | UUID) -> Project:
    """The project an entry is written on (an instance, or the public id an API body
    names), looked up in `workspace` with its client and its workspace row, which the same
    query reads FOR SHARE: the lock that orders entry writes against a recount (decision
    0007), taken before the entry is written, so `project.workspace.time_zone` is the zone
    the totals count in (`time_entry_days_apply(locked=...)`) and no second query reads
    it. The same error whether the project does not exist or is another workspace's."""
    if isinstance(project, Project):
        found = _PROJECT_BY_PK.first(workspace_id=workspace.pk, pk=project.pk)
    else:
        found = _PROJECT_BY_PUBLIC_ID.first(workspace_id=workspace.pk, public_id=project)
    if found is None:
        raise ApplicationError.for_field("project_id", "Project not found.")
    return found


def _check_project(*, workspace: Workspace, project: Project) -> None:
    if project.workspace_id != workspace.pk:
        # Same words as for a project that does not exist: no hint that it exists elsewhere.
        raise ApplicationError.for_field("project_id", "Project not found.")


def _check_times(started_at: dt.datetime, ended_at: dt.datetime) -> int:
    if timezone.is_naive(started_at) or timezone.is_naive(ended_at):
        raise ApplicationError.for_field("started_at", "Times need a time zone.")
    if ended_at <= started_at:
        raise ApplicationError.for_field("ended_at", "The end must be after the start.")
    if ended_at - started_at > MAX_ENTRY_DURATION:
        raise ApplicationError.for_field("ended_at", "An entry cannot be longer than 24 hours.")
    return int((ended_at - started_at).total_seconds())


def _clean_tag_names(names: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for name in names:
        name = " ".join(str(name).split())[:50]
        if name and name.lower() not in {c.lower() for c in cleaned}:
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS:
        raise ApplicationError.for_field("tags", f"At most {MAX_TAGS} tags per entry.")
    return cleaned


def tags_get_or_create(*, workspace: Workspace, names: Iterable[str]) -> list[Tag]:
    """Two queries whatever the number of tags: one insert that ignores existing names, one
    read back."""
    cleaned = _clean_tag_names(names)
    if not cleaned:
        return []
    Tag.objects.bulk_create(
        [Tag(workspace=workspace, name=name) for name in cleaned], ignore_conflicts=True
    )
    return list(Tag.objects.filter(workspace=workspace, name__in=cleaned))


def span_from_date_and_duration(
    *, workspace: Workspace, date: dt.date, duration: dt.timedelta, start_time: dt.time | None
) -> tuple[dt.datetime, dt.datetime]:
    """An entry given as a day and a duration starts at `start_time` (09:00 by default) in
    the workspace's time zone."""
    if duration <= dt.timedelta(0):
        raise ApplicationError.for_field("duration", "The duration must be positive.")
    if duration > MAX_ENTRY_DURATION:
        raise ApplicationError.for_field("duration", "An entry cannot be longer than 24 hours.")
    started_at = dt.datetime.combine(date, start_time or DEFAULT_START_TIME, workspace.tzinfo)
    return started_at, started_at + duration


_ENTRY_INSERT: dict[str, tuple[str, list[Any]]] = {}  # database alias -> SQL, fields


def _entry_insert(entry: TimeEntry) -> TimeEntry:
    """INSERT the new `entry` as `TimeEntry.objects.create` would, through
    `statement_cursor`: prepared on PostgreSQL, the text built once per process. Every
    create and timer stop runs it; the ORM compiled the INSERT on every call (client-side
    binding: PostgreSQL parsed and planned each one again). The values are the ORM's own:
    each field's `pre_save` (the public id the instance was given, `created_at` and
    `updated_at` set to now) prepared by `get_db_prep_save`. No pre_save/post_save
    signals are sent (nothing in Solodesk listens to them: no signals for domain logic).
    Its tests compare the row and the instance with the ORM's."""
    alias = connection.alias
    found = _ENTRY_INSERT.get(alias)
    if found is None:
        meta = TimeEntry._meta
        quote = connection.ops.quote_name
        fields = [field for field in meta.concrete_fields if not field.primary_key]
        columns = ", ".join(quote(str(field.column)) for field in fields)
        returning = ""
        if connection.features.can_return_columns_from_insert:
            returning = f" RETURNING {quote(str(meta.pk.column))}"
        found = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 - the model's names
            f"VALUES ({', '.join(['%s'] * len(fields))}){returning}",
            fields,
        )
        _ENTRY_INSERT[alias] = found
    sql, fields = found
    params = [field.get_db_prep_save(field.pre_save(entry, True), connection) for field in fields]
    with statement_cursor(alias) as cursor:
        cursor.execute(sql, params)
        if connection.features.can_return_columns_from_insert:
            entry.pk = cursor.fetchone()[0]
        else:
            entry.pk = connection.ops.last_insert_id(
                cursor, TimeEntry._meta.db_table, str(TimeEntry._meta.pk.column)
            )
    entry._state.adding = False
    entry._state.db = alias
    return entry


@transaction.atomic
def time_entry_create(
    *,
    workspace: Workspace,
    user: User,
    project: Project | UUID,
    started_at: dt.datetime,
    ended_at: dt.datetime,
    description: str = "",
    is_billable: bool | None = None,
    tags: Iterable[str] = (),
) -> TimeEntry:
    """`project` is an instance, or the public id the API's body gives: either way it is
    looked up again, with the workspace lock (`_project_locked`)."""
    project = _project_locked(workspace=workspace, project=project)
    duration = _check_times(started_at, ended_at)
    tag_rows = tags_get_or_create(workspace=workspace, names=tags)
    entry = TimeEntry(
        workspace=workspace,
        user=user,
        project=project,
        started_at=started_at,
        ended_at=ended_at,
        duration_seconds=duration,
        description=description.strip()[:500],
        is_billable=project.is_billable if is_billable is None else is_billable,
    )
    set_own_json_tags(entry, (tag.name for tag in tag_rows))
    _entry_insert(entry)
    time_entry_days_apply(added=[entry], locked=project.workspace)
    if tag_rows:
        entry.tags.set(tag_rows)
    return entry


ENTRY_FIELDS = ("project", "started_at", "ended_at", "description", "is_billable", "tags")


def _entry_locked(entry: TimeEntry) -> None:
    """`entry` refreshed from its row, locked FOR UPDATE until the transaction ends: a change
    or a delete starts from the row as it is, not from the caller's copy, read by a page or
    a request before a draft took the entry (a save of the copy cleared the draft's line)
    or another request changed it (the totals took off the copy's time, not the row's, and
    drifted from the entries). Loaded relations whose key changed are dropped. On SQLite
    the transaction (BEGIN IMMEDIATE) already holds the database's write lock. (Not
    `refresh_from_db`, which drops every loaded relation: the caller's project, client
    and workspace would cost queries again.)"""
    fields = [field for field in TimeEntry._meta.concrete_fields if not field.primary_key]
    row = (
        TimeEntry.objects.select_for_update()
        .filter(pk=entry.pk)
        .values_list(*(field.attname for field in fields))
        .first()
    )
    if row is None:
        raise ApplicationError("This entry no longer exists.")
    for field, value in zip(fields, row, strict=True):
        if (
            isinstance(field, ForeignKey)
            and field.is_cached(entry)
            and getattr(entry, field.attname) != value
        ):
            field.delete_cached_value(entry)
        setattr(entry, field.attname, value)


@transaction.atomic
def time_entry_update(*, entry: TimeEntry, **fields: Any) -> TimeEntry:
    """`project`, when given, is an instance or a public id (the API's body). Another
    project moves the entry's time (the monthly totals are per project), so it is looked
    up with the workspace lock (`_project_locked`); the same one only checked. The entry is
    changed as its locked row is (`_entry_locked`); `entry` becomes that row."""
    unknown = set(fields) - set(ENTRY_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown time entry fields: {', '.join(sorted(unknown))}")
    _entry_locked(entry)
    if entry.invoiced_at is not None:
        raise ApplicationError("This entry is on an invoice and can no longer be changed.")
    workspace = entry.workspace
    before = EntryShare.of(entry)
    locked = None
    project = fields.get("project")
    if isinstance(project, Project) and project.pk == entry.project_id:
        _check_project(workspace=workspace, project=project)
        entry.project = project
    elif project is not None:
        entry.project = _project_locked(workspace=workspace, project=project)
        locked = entry.project.workspace
    entry.started_at = fields.get("started_at", entry.started_at)
    entry.ended_at = fields.get("ended_at", entry.ended_at)
    entry.duration_seconds = _check_times(entry.started_at, entry.ended_at)
    if "description" in fields:
        entry.description = (fields["description"] or "").strip()[:500]
    if "is_billable" in fields:
        entry.is_billable = bool(fields["is_billable"])
    tag_rows = None
    if "tags" in fields:
        tag_rows = tags_get_or_create(workspace=workspace, names=fields["tags"] or [])
        set_own_json_tags(entry, (tag.name for tag in tag_rows))
    entry.save()
    time_entry_days_apply(added=[entry], removed=[before], locked=locked)
    if tag_rows is not None:
        entry.tags.set(tag_rows)
    return entry


@transaction.atomic
def time_entry_delete(*, entry: TimeEntry) -> None:
    """Deletes the entry's row as it is now (`_entry_locked`), and takes that off the
    totals."""
    _entry_locked(entry)
    if entry.invoiced_at is not None:
        raise ApplicationError("This entry is on an invoice and cannot be deleted.")
    share = EntryShare.of(entry)
    entry.delete()
    time_entry_days_apply(removed=[share])


# --- The running timer ------------------------------------------------------------------


_TIMER_WITH_WORKSPACE_SHARED: PreparedQuery[RunningTimer] = PreparedQuery(
    lambda user_id: (
        RunningTimer.objects.select_related("project", "workspace")
        .filter(user_id=user_id)
        .select_for_update(of=("self", "workspace"))
        .order_by("pk")[:1]
    ),
    "user_id",
    rewrite=_share_the_workspace,
)


def _locked_timer(user: User, *, share_workspace: bool = False) -> RunningTimer | None:
    """The user's timer, its row locked FOR UPDATE. Not the shared project and workspace
    rows: with select_related, FOR UPDATE would lock them too, and two members stopping
    timers on the same project deadlocked (found by bench/http_load.py at 8 clients).
    With `share_workspace` (a stop, which writes an entry), the workspace row is read
    FOR SHARE in the same query: the lock entry writes take against a recount
    (decision 0007), so `timer.workspace.time_zone` is the zone to count in."""
    if share_workspace:
        return _TIMER_WITH_WORKSPACE_SHARED.first(user_id=user.pk)
    return (
        RunningTimer.objects.select_for_update(of=("self",))
        .select_related("project", "workspace")
        .filter(user=user)
        .first()
    )


def _entry_from_timer(
    timer: RunningTimer, ended_at: dt.datetime, *, locked: Workspace | None = None
) -> TimeEntry:
    if ended_at < timer.started_at:
        raise ApplicationError.for_field("ended_at", "The timer cannot stop before it started.")
    if ended_at - timer.started_at > MAX_ENTRY_DURATION:
        raise ApplicationError.for_field(
            "ended_at",
            "The timer ran for more than 24 hours: choose the time you stopped working.",
        )
    entry = _entry_insert(
        TimeEntry(
            workspace=timer.workspace,
            user=timer.user,
            project=timer.project,
            started_at=timer.started_at,
            ended_at=ended_at,
            duration_seconds=int((ended_at - timer.started_at).total_seconds()),
            description=timer.description,
            is_billable=timer.project.is_billable,
        )
    )
    time_entry_days_apply(added=[entry], locked=locked)
    return entry


@transaction.atomic
def timer_start(
    *,
    workspace: Workspace,
    user: User,
    project: Project,
    description: str = "",
    switch: bool = False,
) -> tuple[RunningTimer, TimeEntry | None]:
    """Start the user's timer. With `switch`, a running timer is stopped (its entry created)
    and the new one started in the same transaction; without it, a running timer is an error.
    Returns the new timer and the entry of the stopped one, if any."""
    _check_project(workspace=workspace, project=project)
    if project.is_archived:
        raise ApplicationError.for_field("project_id", "This project is archived.")
    now = timezone.now()
    stopped_entry = None
    current = _locked_timer(user)
    if current is not None:
        if not switch:
            raise ApplicationError(
                "A timer is already running. Stop it first, or switch to the new project."
            )
        current.user = user
        stopped_entry = _entry_from_timer(current, now)
        current.delete()
    try:
        # The one-to-one on user is the last guard when two devices start at the same moment.
        with transaction.atomic():
            timer = RunningTimer.objects.create(
                workspace=workspace,
                user=user,
                project=project,
                description=description.strip()[:500],
                started_at=now,
            )
    except IntegrityError:
        raise ApplicationError("A timer is already running.") from None
    webhook_event_record_timer_started(timer=timer, stopped_entry=stopped_entry)
    return timer, stopped_entry


@transaction.atomic
def timer_stop(*, user: User, ended_at: dt.datetime | None = None) -> TimeEntry:
    timer = _locked_timer(user, share_workspace=True)
    if timer is None:
        raise ApplicationError("No timer is running.")
    timer.user = user
    entry = _entry_from_timer(timer, ended_at or timezone.now(), locked=timer.workspace)
    timer.delete()
    webhook_event_record_timer_stopped(entry=entry)
    return entry


@transaction.atomic
def timer_discard(*, user: User) -> None:
    deleted, _ = RunningTimer.objects.filter(user=user).delete()
    if not deleted:
        raise ApplicationError("No timer is running.")


def time_entries_export_start(
    *, workspace: Workspace, user: User, filters_params: dict[str, str]
) -> Job:
    """Create the export job; a worker picks it up after commit."""
    return job_create(
        workspace=workspace,
        owner=user,
        kind=Job.Kind.TIME_ENTRIES_EXPORT,
        task_name="solodesk.timetracking.tasks.time_entries_export_task",
        params=filters_params,
    )
