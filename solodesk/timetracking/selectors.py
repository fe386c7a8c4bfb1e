from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections, router
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
)
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404

from solodesk.accounts.models import User, Workspace
from solodesk.clients.models import Client
from solodesk.core.prepared import (
    SLICE_LIMIT_SENTINEL,
    SLICE_OFFSET_SENTINEL,
    PreparedRows,
    row_sentinels,
    statement_cursor,
)
from solodesk.projects.models import Project
from solodesk.timetracking.models import (
    RunningTimer,
    Tag,
    TimeEntry,
    TimeEntryDay,
    TimeEntryMonth,
)


@dataclass(frozen=True)
class TimeEntryFilters:
    """Filters shared by the web list, the API and the export. Dates are whole days in the
    workspace's time zone, both ends included."""

    client_id: UUID | None = None
    project_id: UUID | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    billable: bool | None = None
    unbilled: bool = False

    def as_params(self) -> dict[str, str]:
        """JSON-safe form, for storing on a Job."""
        params = {
            "client_id": str(self.client_id) if self.client_id else "",
            "project_id": str(self.project_id) if self.project_id else "",
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "billable": "" if self.billable is None else str(self.billable).lower(),
            "unbilled": "true" if self.unbilled else "",
        }
        return {key: value for key, value in params.items() if value}

    @classmethod
    def from_params(cls, params: dict[str, str]) -> TimeEntryFilters:
        billable = params.get("billable")
        return cls(
            client_id=UUID(params["client_id"]) if params.get("client_id") else None,
            project_id=UUID(params["project_id"]) if params.get("project_id") else None,
            date_from=dt.date.fromisoformat(params["date_from"])
            if params.get("date_from")
            else None,
            date_to=dt.date.fromisoformat(params["date_to"]) if params.get("date_to") else None,
            billable=None if not billable else billable == "true",
            unbilled=params.get("unbilled") == "true",
        )


def _day_start(workspace: Workspace, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, workspace.tzinfo)


def _filtered(workspace: Workspace, filters: TimeEntryFilters) -> QuerySet[TimeEntry]:
    return _entries_where(_where_values(workspace, filters), filters)


def _where_values(workspace: Workspace, filters: TimeEntryFilters) -> dict[str, Any]:
    """The values of the filters that are present, by name: the workspace, the client's and
    the project's public ids, and the local days as the times they start and end at."""
    values: dict[str, Any] = {"workspace_id": workspace.pk}
    if filters.client_id:
        values["client_id"] = filters.client_id
    if filters.project_id:
        values["project_id"] = filters.project_id
    if filters.date_from:
        values["start"] = _day_start(workspace, filters.date_from)
    if filters.date_to:
        values["end"] = _day_start(workspace, filters.date_to + dt.timedelta(days=1))
    return values


def _entries_where(values: dict[str, Any], filters: TimeEntryFilters) -> QuerySet[TimeEntry]:
    """The entries matching `_where_values`' values, and `filters`' billable and unbilled."""
    qs = TimeEntry.objects.filter(workspace_id=values["workspace_id"])
    if "client_id" in values:
        qs = qs.filter(project__client__public_id=values["client_id"])
    if "project_id" in values:
        qs = qs.filter(project__public_id=values["project_id"])
    if "start" in values:
        qs = qs.filter(started_at__gte=values["start"])
    if "end" in values:
        qs = qs.filter(started_at__lt=values["end"])
    if filters.billable is not None:
        qs = qs.filter(is_billable=filters.billable)
    if filters.unbilled:
        qs = qs.filter(is_billable=True, invoice_line__isnull=True, invoiced_at__isnull=True)
    return qs


def _with_relations(qs: QuerySet[TimeEntry]) -> QuerySet[TimeEntry]:
    return qs.select_related("project__client", "user").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.only("id", "name").order_by("name"))
    )


def time_entry_list(
    *, workspace: Workspace, filters: TimeEntryFilters | None = None
) -> QuerySet[TimeEntry]:
    """Entries newest first with project, client, user (joined) and tags (one prefetch)."""
    qs = _filtered(workspace, filters or TimeEntryFilters())
    return _with_relations(qs).order_by("-started_at", "-pk")


@dataclass(frozen=True, slots=True)
class TimeEntryRow:
    """An entry as the API list shows it, as plain data (the API's names)."""

    id: UUID
    project_id: UUID
    project_name: str
    client_id: UUID
    client_name: str
    user_email: str
    started_at: dt.datetime
    ended_at: dt.datetime
    duration_seconds: int
    description: str
    billable: bool
    invoiced: bool
    tags: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime


_ROW_FIELDS = (
    "pk",
    "public_id",
    "project__public_id",
    "project__name",
    "project__client__public_id",
    "project__client__name",
    "user__email",
    "started_at",
    "ended_at",
    "duration_seconds",
    "description",
    "is_billable",
    "invoiced_at",
    "created_at",
    "updated_at",
)


class _IsoUtcText(Func):
    """A time as the text `iso_utc` makes of it (microseconds only when there are any, as
    Python's isoformat), for `own_json_expression` (the stored JSON rebuilt, or checked,
    by the database): on PostgreSQL from the timestamptz; on SQLite from the text Django
    stores, str() of the time in UTC ("YYYY-MM-DD HH:MM:SS" or
    "YYYY-MM-DD HH:MM:SS.ffffff": every write goes through the ORM), with "T" for the space
    and "+00:00" added (one replace(), cheaper than substr()s)."""

    template = (
        "replace(to_char(%(expressions)s AT TIME ZONE 'UTC',"
        " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), '.000000+', '+')"
    )
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        template = "(replace(%(expressions)s, ' ', 'T') || '+00:00')"
        return self.as_sql(compiler, connection, template=template, **extra)


class _UuidText(Func):
    """A UUID column as `str(uuid)`: PostgreSQL's text of its native uuid is that; SQLite
    stores the 32 hex digits (Django's UUIDField without a native type): dashes put in."""

    template = "%(expressions)s"
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        template = _sqlite_uuid_text("%(expressions)s")
        return self.as_sql(compiler, connection, template=template, **extra)


def _sqlite_uuid_text(column: str) -> str:
    """SQLite's text of a UUID column as `str(uuid)` (Django stores the 32 hex digits)."""
    parts = ("1, 8", "9, 4", "13, 4", "17, 4", "21, 12")
    return "(" + " || '-' || ".join(f"substr({column}, {part})" for part in parts) + ")"


class _JsonBool(Func):
    """A boolean as JSON's true or false (SQLite's are the integers 0 and 1)."""

    template = "%(expressions)s"
    output_field = BooleanField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        template = "json(CASE WHEN %(expressions)s THEN 'true' ELSE 'false' END)"
        return self.as_sql(compiler, connection, template=template, **extra)


class _CodePointOrder(Func):
    """A text ordered by code point, as Python's `sorted` (UTF-8's bytes): PostgreSQL's
    "C" collation; SQLite's default (BINARY) already is."""

    template = '%(expressions)s COLLATE "C"'
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        return self.as_sql(compiler, connection, template="%(expressions)s", **extra)


class _JsonTagNames(Subquery):
    """An entry's tag names as a JSON array, sorted by code point as Python's `sorted`
    (`models.tags_json`; PostgreSQL's "C" collation, SQLite's BINARY). PostgreSQL:
    ARRAY(the names), which `_JsonObject` writes with array_to_json. SQLite (before 3.44,
    no ORDER BY inside an aggregate): `json_group_array` over the ordered names, which
    SQLite feeds it in order (select.c omits a FROM subquery's ORDER BY only when the
    outer query's aggregates are count, min or max; the tests check the order); json()
    keeps it JSON, not a string, inside the row's object."""

    template = "ARRAY(%(subquery)s)"
    output_field = CharField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        template = 'json((SELECT json_group_array("name") FROM (%(subquery)s)))'
        return self.as_sql(compiler, connection, template=template, **extra)


class _JsonObject(Func):
    """The row as the text of a JSON object with these keys (fixed names, written into
    the SQL), in this order, byte for byte as Python's compact writer: `own_json_expression`.
    Django's JSONObject builds jsonb on PostgreSQL, which orders the keys by length, and
    its JSONField would parse every row.

    SQLite: `json_object`. PostgreSQL: the text put together with `||`, each value as
    JSON (`_postgresql_json`). (`json_build_object` takes "any" and looks up each
    argument's type output on every row: ~5–8 ms more CPU per 1,000 rows than the
    concatenation's ~1.5 ms.)"""

    output_field = TextField()

    def __init__(self, **fields: Any) -> None:
        self.keys = tuple(fields)
        super().__init__(*fields.values())

    def _compiled(self, compiler: Any) -> tuple[list[tuple[str, Any, str]], list[Any]]:
        parts, params = [], []
        for key, expression in zip(self.keys, self.get_source_expressions(), strict=True):
            sql, expression_params = compiler.compile(expression)
            parts.append((key, expression, sql))
            params.extend(expression_params)
        return parts, params

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, list[Any]]:
        parts, params = self._compiled(compiler)
        pairs = ", ".join(f"'{key}', {sql}" for key, _, sql in parts)
        return f"json_object({pairs})", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        parts, params = self._compiled(compiler)
        pieces = [
            f"""'{"," if index else "{"}"{key}":' || {_postgresql_json(expression, sql)}"""
            for index, (key, expression, sql) in enumerate(parts)
        ]
        return "(" + " || ".join(pieces) + " || '}')", params


def _postgresql_json(expression: Any, sql: str) -> str:
    """`sql` (a value of `_JsonObject`) as JSON text on PostgreSQL. Every value is NOT
    NULL (one NULL would make the whole row NULL)."""
    if isinstance(expression, (_UuidText, _IsoUtcText)):  # hex digits, -:.+T: nothing to escape
        return f"""('"' || ({sql})::text || '"')"""
    if isinstance(expression, _JsonBool):
        return f"(CASE WHEN {sql} THEN 'true' ELSE 'false' END)"
    if isinstance(expression, _JsonTagNames):
        return f"array_to_json({sql})::text"
    if expression.output_field.get_internal_type() in ("IntegerField", "PositiveIntegerField"):
        return f"({sql})::text"
    return f"to_json({sql})::text"  # a string, escaped


@functools.cache
def own_json_expression() -> _JsonObject:
    """`models.entry_own_json` built by the database from the row's columns and its tags:
    the same values (ids as `str(uuid)`, times as `iso_utc`, true/false, the tag names in
    code point order). `time_entries_own_json_rebuild` writes the column with it, and a
    test holds every write's column equal to it."""
    return _JsonObject(
        id=_UuidText("public_id"),
        started_at=_IsoUtcText("started_at"),
        ended_at=_IsoUtcText("ended_at"),
        duration_seconds=F("duration_seconds"),
        description=F("description"),
        billable=_JsonBool("is_billable"),
        created_at=_IsoUtcText("created_at"),
        updated_at=_IsoUtcText("updated_at"),
        tags=_JsonTagNames(
            Tag.objects.filter(time_entries=OuterRef("pk"))
            .order_by(_CodePointOrder("name").asc())
            .values("name")
        ),
    )


class _IsSet(Func):
    """Whether a column is not NULL, as the database's boolean or 0/1, with no converter
    (every value in a page of up to 2,000 rows would pass through one)."""

    template = "(%(expressions)s IS NOT NULL)"
    output_field = IntegerField()


# The API list's page is two queries (`TimeEntryRows.json_page`): the ORM's of the page's
# rows, selecting `_PAGE_COLUMNS` (each entry's stored JSON, `TimeEntry.own_json`: its own
# fields and tag names; whether it is invoiced; its project and user), then this one, of
# the JSON members of the page's projects (with their clients) and users, written once
# each; `_page_items` puts the items together. (Formatting the two UUIDs and quoting the
# names per row was most of SQLite's time for a page of 1,000; as one query with common
# table expressions, PostgreSQL spent ~2.4 ms more on 1,844 rows than on the plain page,
# and each `||` of text per row cost it ~0.5 µs, more than Python's join of the pieces.)
_PAGE_COLUMNS = ("own_json", "invoiced", "project_id", "user_id")
_PAGE_PARTS_SQL = """SELECT 0, p.id, ',"project_id":"' || {project_uuid} || '","project_name":'
  || {project_name} || ',"client_id":"' || {client_uuid} || '","client_name":' || {client_name}
FROM {projects} p JOIN {clients} c ON c.id = p.client_id WHERE p.id {in_projects}
UNION ALL
SELECT 1, u.id, ',"user_email":' || {user_email} || '}}' FROM {users} u WHERE u.id {in_users}"""


@functools.cache
def _page_parts_sql(vendor: str) -> str:
    """`_PAGE_PARTS_SQL` for `vendor`: its two parameters are the ids of the page's
    projects and users (PostgreSQL: arrays; SQLite: JSON arrays)."""
    if vendor == "postgresql":
        parts = {
            "project_uuid": "p.public_id::text",
            "client_uuid": "c.public_id::text",
            "project_name": "to_json(p.name)::text",
            "client_name": "to_json(c.name)::text",
            "user_email": "to_json(u.email)::text",
            "in_projects": "= ANY(%s::bigint[])",
            "in_users": "= ANY(%s::bigint[])",
        }
    else:
        parts = {
            "project_uuid": _sqlite_uuid_text("p.public_id"),
            "client_uuid": _sqlite_uuid_text("c.public_id"),
            "project_name": "json_quote(p.name)",
            "client_name": "json_quote(c.name)",
            "user_email": "json_quote(u.email)",
            "in_projects": "IN (SELECT value FROM json_each(%s))",
            "in_users": "IN (SELECT value FROM json_each(%s))",
        }
    return _PAGE_PARTS_SQL.format(
        projects=Project._meta.db_table,
        clients=Client._meta.db_table,
        users=User._meta.db_table,
        **parts,
    )


def _page_members(rows: list[tuple[Any, ...]], alias: str) -> tuple[dict[int, str], dict[int, str]]:
    """The JSON members of the page's projects and of its users, by id, in one query
    (`_PAGE_PARTS_SQL`); none for an empty page."""
    projects: dict[int, str] = {}
    users: dict[int, str] = {}
    if not rows:
        return projects, users
    project_ids = sorted({row[2] for row in rows})
    user_ids = sorted({row[3] for row in rows})
    vendor = connections[alias].vendor
    params: list[Any] = [project_ids, user_ids]
    if vendor != "postgresql":
        params = [json.dumps(project_ids), json.dumps(user_ids)]
    with statement_cursor(alias) as cursor:
        cursor.execute(_page_parts_sql(vendor), params)
        for kind, pk, part in cursor.fetchall():
            (users if kind else projects)[pk] = part
    return projects, users


def _page_items(
    rows: list[tuple[Any, ...]], projects: dict[int, str], users: dict[int, str]
) -> str:
    """The page's rows (`_PAGE_COLUMNS`) as the items of a JSON array: each entry's
    stored object without its closing "}" (it ends with the tags' ']}'), then invoiced,
    and its project's and user's members (`_page_members`, the latter closing it)."""
    return ",".join(
        [
            f'{own[:-1]},"invoiced":{"true" if invoiced else "false"}{projects[project]}'
            f"{users[user]}"
            for own, invoiced, project, user in rows
        ]
    )


class TimeEntryRows:
    """The filtered entries, newest first, as a lazily sliced sequence of plain rows for a
    paginator (ninja's or Django's: `all()`, `count()`, slicing). `count()` is one COUNT; a
    slice is one page: the entries joined with project, client and user (values, not model
    instances) with their tag names, in one query on PostgreSQL, two on SQLite.

    Why not model instances: a page of 50 built 200 of them (entry, project, client, user),
    a related manager per entry for its tags and a prefetch, then ninja's resolvers walked
    them again; that was most of the API list's time (bench/raw_floor.py measures it
    against a raw-psycopg handler)."""

    def __init__(self, values: dict[str, Any], filters: TimeEntryFilters) -> None:
        self._values = values  # `_where_values`
        self._filters = filters

    @functools.cached_property
    def _entries(self) -> QuerySet[TimeEntry]:
        return _entries_where(self._values, self._filters).order_by(*_LIST_ORDER)

    def _prepared(self, kind: str) -> PreparedRows:
        """The API list's page ("first" or "later") or capped count ("count") for these
        filters, compiled once per combination of filters present (`_prepare_rows`)."""
        alias = router.db_for_read(TimeEntry)
        key = (alias, kind, tuple(self._values), self._filters.billable, self._filters.unbilled)
        prepared = _PREPARED_ROWS.get(key)
        if prepared is None:
            prepared = _PREPARED_ROWS[key] = _prepare_rows(*key)
        return prepared

    def all(self) -> TimeEntryRows:
        return self

    def count(self) -> int:
        return self._entries.count()

    def count_up_to(self, stop: int) -> int:
        """The count, stopping at `stop` rows (`SELECT COUNT(*) FROM (… LIMIT stop)`, no
        ORDER BY): a month of a busy workspace is ~19,000 entries, and the API list counts
        at most 1,000 past its page (`CappedLimitOffsetPagination.capped_count`)."""
        return self._prepared("count").count(**self._values, limit=stop)

    def __len__(self) -> int:
        return self.count()

    def _page(self, page: slice) -> tuple[QuerySet[TimeEntry], slice]:
        return _page_of(self._entries, page)

    def json_page(self, page: slice) -> tuple[bytes, int]:
        """A page as the API's JSON array (UTF-8) and the number of its items: each item
        is the entry's stored JSON (`TimeEntry.own_json`) and the members of its project
        and user, written once per project and user of the page by a second query
        (`_page_members`, none for an empty page), which Python only joins
        (`_page_items`). The page's query is compiled once per combination of filters
        (`_prepare_rows`); both are prepared on PostgreSQL. (Python building dicts from
        rows and writing them was ~7 ms of a page of 1,000 on PostgreSQL, nearly all of
        its ~17 ms on SQLite: converting ids and times; decision 0010.)"""
        start = page.start or 0
        values = {**self._values, "limit": page.stop - start}
        if start:
            values["offset"] = start
        prepared = self._prepared("later" if start else "first")
        rows = prepared.rows(**values)
        projects, users = _page_members(rows, prepared.alias)
        # Each statement has its own snapshot on PostgreSQL (READ COMMITTED): a project or
        # user gone by the second was deleted after its entries (PROTECT), which are then
        # gone too, and left out of the page.
        rows = [row for row in rows if row[2] in projects and row[3] in users]
        return f"[{_page_items(rows, projects, users)}]".encode(), len(rows)

    def __getitem__(self, page: slice) -> list[TimeEntryRow]:
        if not isinstance(page, slice):
            raise TypeError("TimeEntryRows is sliced by pages only.")
        tags: dict[int, list[str]] = {}
        entries, rest = self._page(page)
        if connections[self._entries.db].vendor == "postgresql":
            rows = list(
                entries.annotate(tag_names=_tag_names()).values_list(*_ROW_FIELDS, "tag_names")[
                    rest
                ]
            )
            tags = {row[0]: row[-1] for row in rows}
        else:
            rows = list(entries.values_list(*_ROW_FIELDS)[rest])
            if not rows:
                return []
            tags = _tag_names_by_entry([row[0] for row in rows])
        return [
            TimeEntryRow(
                id=public_id,
                project_id=project_id,
                project_name=project_name,
                client_id=client_id,
                client_name=client_name,
                user_email=user_email,
                started_at=started_at,
                ended_at=ended_at,
                duration_seconds=duration_seconds,
                description=description,
                billable=is_billable,
                invoiced=invoiced_at is not None,
                tags=tags.get(pk, []),
                created_at=created_at,
                updated_at=updated_at,
            )
            for (
                pk,
                public_id,
                project_id,
                project_name,
                client_id,
                client_name,
                user_email,
                started_at,
                ended_at,
                duration_seconds,
                description,
                is_billable,
                invoiced_at,
                created_at,
                updated_at,
                *_names,
            ) in rows
        ]


@functools.cache
def _tag_names() -> ArraySubquery:
    """The subquery of an entry's tag names, built once per process: `annotate` resolves
    a copy for each query, and building its queryset was ~1 ms of a list request."""
    return ArraySubquery(
        Tag.objects.filter(time_entries=OuterRef("pk")).order_by("name").values("name")
    )


def _tag_names_by_entry(entry_ids: list[int]) -> dict[int, list[str]]:
    """The entries' tag names, sorted, in one query (none without entries)."""
    tags: dict[int, list[str]] = {}
    if not entry_ids:
        return tags
    tag_links = (
        TimeEntry.tags.through.objects.filter(timeentry_id__in=entry_ids)
        .order_by("tag__name")
        .values_list("timeentry_id", "tag__name")
    )
    for entry_id, name in tag_links:
        tags.setdefault(entry_id, []).append(name)
    return tags


def _page_of(entries: QuerySet[TimeEntry], page: slice) -> tuple[QuerySet[TimeEntry], slice]:
    """The entries to read a page from, and the slice still to take of them. The first
    page is read straight from the entries (PostgreSQL stops after `limit` rows of the
    index). A later page's ids are picked first (ordered, offset and limit on the entries
    alone), then only those rows are joined and computed: with the joins, the tag names and
    the text times in the query with the OFFSET, PostgreSQL computed them for every skipped
    row too (a page at offset 18,000 of one month took ~0.3 s)."""
    if not page.start:
        return entries, page
    ids = entries.values("pk")[page]
    return TimeEntry.objects.filter(pk__in=ids).order_by(*entries.query.order_by), slice(None)


_LIST_ORDER = ("-started_at", "-pk")
_WHERE_TYPES: dict[str, Any] = {
    "workspace_id": int,
    "client_id": UUID,
    "project_id": UUID,
    "start": dt.datetime,
    "end": dt.datetime,
}
# At most 2 aliases × 3 kinds × 16 combinations of values × 3 billable × 2 unbilled.
_PREPARED_ROWS: dict[tuple[Any, ...], PreparedRows] = {}


def _prepare_rows(
    alias: str, kind: str, names: tuple[str, ...], billable: bool | None, unbilled: bool
) -> PreparedRows:
    """The API list's query for one combination of filters, built by the ORM with
    sentinel values and compiled once: building and compiling the page's and the count's
    querysets was ~2 ms of CPU of every request (more than the database's work)."""
    sentinels = row_sentinels(**{name: _WHERE_TYPES[name] for name in names})
    entries = _entries_where(
        sentinels, TimeEntryFilters(billable=billable, unbilled=unbilled)
    ).order_by(*_LIST_ORDER)
    if kind == "count":
        capped = entries.order_by().values_list("pk")[:SLICE_LIMIT_SENTINEL]
        return PreparedRows.compile(capped, alias=alias, sentinels=sentinels, count=True)
    if kind == "first":
        page = slice(None, SLICE_LIMIT_SENTINEL)
    else:
        page = slice(SLICE_OFFSET_SENTINEL, SLICE_OFFSET_SENTINEL + SLICE_LIMIT_SENTINEL)
    entries, rest = _page_of(entries, page)
    rows = entries.annotate(invoiced=_IsSet("invoiced_at")).values_list(*_PAGE_COLUMNS)[rest]
    return PreparedRows.compile(rows, alias=alias, sentinels=sentinels)


def time_entry_list_rows(
    *, workspace: Workspace, filters: TimeEntryFilters | None = None
) -> TimeEntryRows:
    """The entries of `time_entry_list` (same filters, same order) as plain rows, for the
    API list."""
    filters = filters or TimeEntryFilters()
    return TimeEntryRows(_where_values(workspace, filters), filters)


def time_entry_get(*, workspace: Workspace, public_id: UUID | str) -> TimeEntry:
    entry = get_object_or_404(
        _with_relations(TimeEntry.objects.all()), workspace=workspace, public_id=public_id
    )
    entry.workspace = workspace  # the caller's: no query when a service reads its time zone
    return entry


def time_entry_list_for_export(
    *, workspace: Workspace, filters: TimeEntryFilters
) -> QuerySet[TimeEntry]:
    """Oldest first, for a file; iterate it with `.iterator(chunk_size=...)`."""
    return _with_relations(_filtered(workspace, filters)).order_by("started_at", "pk")


@dataclass(frozen=True)
class WeekDay:
    date: dt.date
    total_seconds: int
    billable_seconds: int
    entries: list[TimeEntry]


@dataclass(frozen=True)
class Week:
    start: dt.date
    days: list[WeekDay]
    total_seconds: int
    billable_seconds: int

    @property
    def previous(self) -> dt.date:
        return self.start - dt.timedelta(days=7)

    @property
    def next(self) -> dt.date:
        return self.start + dt.timedelta(days=7)

    @property
    def iso_label(self) -> str:
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def time_entry_week(*, workspace: Workspace, day: dt.date, user: User | None = None) -> Week:
    """Monday-to-Sunday in the workspace's time zone: daily totals from one aggregate query
    and the week's entries (bounded: at most 7 × 24 h of them per user) from one more, plus
    one for their tags."""
    start = week_start(day)
    filters = TimeEntryFilters(date_from=start, date_to=start + dt.timedelta(days=6))
    base = _filtered(workspace, filters)
    if user is not None:
        base = base.filter(user=user)
    per_day = {
        row["day"]: row
        for row in base.annotate(day=TruncDate("started_at", tzinfo=workspace.tzinfo))
        .values("day")
        .annotate(
            total=Sum("duration_seconds"),
            billable=Sum("duration_seconds", filter=Q(is_billable=True)),
        )
        .order_by()
    }
    entries_by_day: dict[dt.date, list[TimeEntry]] = {}
    for entry in _with_relations(base).order_by("started_at", "pk"):
        local_day = entry.started_at.astimezone(workspace.tzinfo).date()
        entries_by_day.setdefault(local_day, []).append(entry)
    days = []
    for offset in range(7):
        date = start + dt.timedelta(days=offset)
        row: dict[str, Any] = dict(per_day.get(date, {}))
        days.append(
            WeekDay(
                date=date,
                total_seconds=row.get("total") or 0,
                billable_seconds=row.get("billable") or 0,
                entries=entries_by_day.get(date, []),
            )
        )
    return Week(
        start=start,
        days=days,
        total_seconds=sum(d.total_seconds for d in days),
        billable_seconds=sum(d.billable_seconds for d in days),
    )


def timer_get(*, user: User) -> RunningTimer | None:
    """The user's running timer. The session authentication backend already joined it to
    the user (`running_timer__project__client`), so a web page costs no query; an API call
    (token authentication does not join it) costs one, remembered on the user."""
    descriptor = User.running_timer  # type: ignore[attr-defined]
    if not descriptor.is_cached(user):
        timer = RunningTimer.objects.select_related("project__client").filter(user=user).first()
        descriptor.related.set_cached_value(user, timer)
        return timer
    try:
        return user.running_timer  # type: ignore[attr-defined,no-any-return]
    except RunningTimer.DoesNotExist:
        return None


def _summary_from_totals(workspace: Workspace, filters: TimeEntryFilters) -> dict[str, Any] | None:
    """The same sums from the derived totals the services keep (decisions 0004 and 0005),
    when the filters map onto them exactly: whole local days for the whole workspace
    (TimeEntryDay), or a client or project over whole local months (TimeEntryMonth). At
    1,000,000 entries the unfiltered list otherwise summed every entry on every page view.
    None when the raw entries must be read (billable or unbilled filters, part months)."""
    if filters.unbilled or filters.billable is not None:
        return None
    totals: QuerySet[Any]
    if not (filters.client_id or filters.project_id):
        totals = TimeEntryDay.objects.filter(workspace=workspace)
        if filters.date_from:
            totals = totals.filter(day__gte=filters.date_from)
        if filters.date_to:
            totals = totals.filter(day__lte=filters.date_to)
    else:
        starts_a_month = filters.date_from is None or filters.date_from.day == 1
        ends_a_month = filters.date_to is None or (filters.date_to + dt.timedelta(days=1)).day == 1
        if not (starts_a_month and ends_a_month):
            return None
        totals = TimeEntryMonth.objects.filter(workspace=workspace)
        if filters.client_id:
            totals = totals.filter(project__client__public_id=filters.client_id)
        if filters.project_id:
            totals = totals.filter(project__public_id=filters.project_id)
        if filters.date_from:
            totals = totals.filter(month__gte=filters.date_from)
        if filters.date_to:
            totals = totals.filter(month__lte=filters.date_to)
    return totals.aggregate(
        count=Sum("entries"), total=Sum("seconds"), billable=Sum("billable_seconds")
    )


def time_entry_summary(*, workspace: Workspace, filters: TimeEntryFilters) -> dict[str, int]:
    """Number of entries, total and billable seconds of the filtered entries, in one
    aggregate query: the web list takes its page count from here instead of a COUNT(*).
    Read from the derived daily or monthly totals when the filters allow, else from the
    entries."""
    totals = _summary_from_totals(workspace, filters)
    if totals is None:
        totals = _filtered(workspace, filters).aggregate(
            count=Count("pk"),
            total=Sum("duration_seconds"),
            billable=Sum("duration_seconds", filter=Q(is_billable=True)),
        )
    return {
        "count": totals["count"] or 0,
        "total": totals["total"] or 0,
        "billable": totals["billable"] or 0,
    }


@dataclass(frozen=True, slots=True)
class TimeEntryExportRow:
    pk: int
    public_id: UUID
    started_at: dt.datetime
    ended_at: dt.datetime
    duration_seconds: int
    client_name: str
    project_name: str
    description: str
    is_billable: bool
    invoiced_at: dt.datetime | None
    user_email: str
    tags: tuple[str, ...]


_EXPORT_FIELDS = (
    "pk",
    "public_id",
    "started_at",
    "ended_at",
    "duration_seconds",
    "project__client__name",
    "project__name",
    "description",
    "is_billable",
    "invoiced_at",
    "user__email",
)


def time_entry_export_chunk(
    *,
    workspace: Workspace,
    filters: TimeEntryFilters,
    after: tuple[dt.datetime, int] | None,
    limit: int,
) -> list[TimeEntryExportRow]:
    """One chunk of an export, oldest first: the `limit` entries after `after` (the
    started_at and pk of the previous chunk's last row). Two queries: the entries joined with
    project, client and user, then their tag names.

    Plain rows, not model instances: a chunk of 2000 costs about a megabyte instead of ~20,
    and the export runs several times faster. Keyset pagination instead of one long
    `.iterator()`: on SQLite a read left open keeps the connection on an old snapshot, and
    the export's next progress write then fails with "database is locked" (no busy timeout
    helps) once a web request has committed in between."""
    entries = _filtered(workspace, filters)
    if after is not None:
        started_at, pk = after
        # `started_at >= x` lets the (workspace, started_at) index bound the scan.
        entries = entries.filter(started_at__gte=started_at).exclude(
            started_at=started_at, pk__lte=pk
        )
    rows = list(entries.order_by("started_at", "pk").values_list(*_EXPORT_FIELDS)[:limit])
    if not rows:
        return []
    tags: dict[int, list[str]] = {}
    tag_links = (
        TimeEntry.tags.through.objects.filter(timeentry_id__in=[row[0] for row in rows])
        .order_by("tag__name")
        .values_list("timeentry_id", "tag__name")
    )
    for entry_id, name in tag_links:
        tags.setdefault(entry_id, []).append(name)
    return [
        TimeEntryExportRow(
            pk=pk,
            public_id=public_id,
            started_at=started_at,
            ended_at=ended_at,
            duration_seconds=duration_seconds,
            client_name=client_name,
            project_name=project_name,
            description=description,
            is_billable=is_billable,
            invoiced_at=invoiced_at,
            user_email=user_email,
            tags=tuple(tags.get(pk, ())),
        )
        for (
            pk,
            public_id,
            started_at,
            ended_at,
            duration_seconds,
            client_name,
            project_name,
            description,
            is_billable,
            invoiced_at,
            user_email,
        ) in rows
    ]
