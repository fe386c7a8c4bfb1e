"""A model query built and compiled by the ORM once per process, then run with new values.

Every page loads the same few rows the same way (the session's user with their running
timer, project and client; the user's membership with its workspace). Building and
compiling those querysets cost ~1–1.5 ms of CPU each per request, the database ~0.1 ms.
`PreparedQuery` keeps what the ORM produced the first time — the SQL, the position of each
value in its parameters, the backend's converters and the way rows become model instances
with their `select_related` objects — and reuses it: the same SQL, the same instances, at
the cost of one cursor call.

Only for querysets whose SQL does not depend on the values (equality filters on columns,
a fixed ORDER BY and LIMIT): the values are swapped into the parameters by position. The
module's tests compare every use with the ORM's own result on both databases.

`PreparedRows` does the same for `values_list` rows (and capped COUNTs) of a list whose SQL
changes only with which filters are present: its caller keeps one per combination
(the API's time-entry list: timetracking.selectors), and the page's LIMIT and OFFSET become
parameters too. Its tests compare each combination with the ORM's rows and order.

`statement_cursor()` is the cursor of statements run on every request (`PreparedQuery`'s,
the time totals' upserts, the dashboard's and the prompts' hand-written aggregates). On
PostgreSQL they are prepared once per connection: parameters bound server-side, the
statement prepared after a few uses (psycopg's `prepare_threshold`,
settings.DATABASE_PREPARED_STATEMENTS). Planning the API token's four-table join cost
PostgreSQL ~0.7 ms of CPU for 0.06 ms of execution; PostgreSQL's CPU per API create went
from 3.2–3.5 ms to 1.4–1.8 ms (bench/peer_timetagger.py). Django's own cursors keep
client-side binding and are never prepared. On SQLite the cursor converts each text's
placeholders once, not on every call.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

M = TypeVar("M", bound=Model)

# Values no real row has (negative primary keys): found again in the compiled parameters.
_SENTINEL_BASE = -7_345_092_011
_UUID_SENTINEL_BASE = 0x5E47_0000_0000_0000_0000_0000_0000_0000

ValueType = type[int] | type[str] | type[UUID]


@dataclass
class _Compiled:
    sql: str
    params: list[Any]
    slots: dict[str, int]  # value name → index in params
    compiler: Any
    converters: dict[int, Any]
    model: type[Model]
    start: int
    end: int
    init_list: list[str]
    populators: list[Any]


class PreparedQuery(Generic[M]):
    """`PreparedQuery(lambda user_id: Membership.objects.filter(user_id=user_id)...[:1],
    "user_id")` then `.all(user_id=7)` → the model instances, as the queryset would return
    them. The builder's arguments are plain equality filters: integers (ids) by default,
    or strings or UUIDs when given as `PreparedQuery(build, digest=str)`,
    `PreparedQuery(build, public_id=UUID)`. `rewrite`, if given, changes the compiled SQL
    once, for what the ORM cannot say (`FOR SHARE OF`: timetracking.services)."""

    def __init__(
        self,
        build: Callable[..., QuerySet[M]],
        *names: str,
        rewrite: Callable[[str], str] | None = None,
        **typed: ValueType,
    ) -> None:
        self._build = build
        self._rewrite = rewrite
        self._types: dict[str, ValueType] = {
            **dict.fromkeys(names, int),
            **typed,
        }
        self._names = tuple(self._types)
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _sentinels(self) -> dict[str, int | str | UUID]:
        sentinels: dict[str, int | str | UUID] = {}
        for index, (name, kind) in enumerate(self._types.items()):
            if kind is int:
                sentinels[name] = _SENTINEL_BASE - index
            elif kind is UUID:
                sentinels[name] = UUID(int=_UUID_SENTINEL_BASE + index)
            else:
                sentinels[name] = f"\x00prepared:{name}"
        return sentinels

    def _compile(self, alias: str) -> _Compiled:
        sentinels = self._sentinels()
        queryset = self._build(**sentinels)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        params = list(params)
        slots: dict[str, int] = {}
        for name, sentinel in sentinels.items():
            # A UUID is a parameter as the backend stores it: itself, or 32 hex digits.
            forms = (sentinel, sentinel.hex) if isinstance(sentinel, UUID) else (sentinel,)
            positions = [i for i, value in enumerate(params) if value in forms]
            if len(positions) != 1:
                raise ValueError(f"{name!r} must appear once in the query's parameters")
            slots[name] = positions[0]
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        return _Compiled(
            sql=self._rewrite(sql) if self._rewrite else sql,
            params=params,
            slots=slots,
            compiler=compiler,
            converters=compiler.get_converters([column for column, _, _ in select]),
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=[column[0].target.attname for column in select[start:end]],
            # (django-stubs describe Django 6's signature, with a fetch mode.)
            populators=get_related_populators(klass_info, select, alias),  # type: ignore[call-arg]
        )

    def all(self, **values: int | str | UUID) -> list[M]:
        alias = router.db_for_read(self._model_hint())
        compiled = self._compiled.get(alias)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(alias) or self._compile(alias)
                self._compiled[alias] = compiled
        params = list(compiled.params)
        native_uuid = connections[alias].features.has_native_uuid_field
        for name, index in compiled.slots.items():
            params[index] = _parameter(self._types[name], values[name], native_uuid)
        with statement_cursor(alias) as cursor:
            cursor.execute(compiled.sql, params)
            rows: Any = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        objects: list[M] = []
        for row in rows:
            obj = compiled.model.from_db(
                alias, compiled.init_list, row[compiled.start : compiled.end]
            )
            for populator in compiled.populators:
                populator.populate(row, obj)
            objects.append(obj)  # type: ignore[arg-type]
        return objects

    def first(self, **values: int | str | UUID) -> M | None:
        found = self.all(**values)
        return found[0] if found else None

    def _model_hint(self) -> type[Model]:
        model = getattr(self, "_model", None)
        if model is None:
            model = self._build(**self._sentinels()).model
            self._model = model
        return model


_CURSOR_CLASSES: dict[str, Any] = {}


def statement_cursor(alias: str = DEFAULT_DB_ALIAS) -> Any:
    """A cursor (Django's wrapper: execute wrappers, query logging) for a statement run on
    every request, with a fixed text (or one of a few).

    On PostgreSQL its parameters are bound server-side, so psycopg prepares a statement
    once it has run `prepare_threshold` times on the connection (the OPTIONS the settings
    give when DATABASE_PREPARED_STATEMENTS is on) and then only binds and executes it: no
    parsing, and a generic plan instead of one planned per call. Only SQL whose parameters
    PostgreSQL can type from their columns belongs here (Django's own queries keep
    client-side binding: #34255). With prepared statements off (a pooler in transaction
    mode before PgBouncer 1.21), the connection's own cursor.

    On SQLite, whose module already keeps compiled statements per connection, the cursor
    remembers each text's conversion from %s to ? placeholders: Django's regular
    expression ran over the whole text on every call, 6–7 % of a web process's CPU for an
    API create (the token's and the project's joins are 2,000 characters each)."""
    connection = connections[alias]
    if connection.vendor == "postgresql":
        if not settings.DATABASE_PREPARED_STATEMENTS:
            return connection.cursor()
        if "postgresql" not in _CURSOR_CLASSES:
            from django.db.backends.postgresql.base import ServerBindingCursor

            _CURSOR_CLASSES["postgresql"] = ServerBindingCursor
    elif connection.vendor == "sqlite":
        if "sqlite" not in _CURSOR_CLASSES:
            from django.db.backends.sqlite3.base import SQLiteCursorWrapper

            class ConvertedOnceCursor(SQLiteCursorWrapper):
                def convert_query(self, query: str, *, param_names: Any = None) -> str:
                    if param_names is None:
                        return _qmark(query)
                    return str(super().convert_query(query, param_names=param_names))

            _CURSOR_CLASSES["sqlite"] = ConvertedOnceCursor
    else:
        return connection.cursor()
    # As BaseDatabaseWrapper._cursor, with another cursor class.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        if connection.vendor == "sqlite":
            cursor = connection.connection.cursor(factory=_CURSOR_CLASSES["sqlite"])
        else:
            cursor = _CURSOR_CLASSES["postgresql"](connection.connection)
    if not connection.queries_logged:
        return connection.make_cursor(cursor)
    if connection.vendor == "postgresql":
        return _ServerBoundDebugWrapper(cursor, connection)
    return connection.make_debug_cursor(cursor)


class _ServerBoundDebugWrapper(CursorDebugWrapper):
    """Logs a statement of a server-side binding cursor with its values, as Django does
    when a whole connection binds server-side: `last_executed_query` reads the text a
    client-side cursor sent, which this cursor does not have (it logged None)."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(_composed(self.db, sql, params), params):
            return CursorWrapper.execute(self, sql, params)


def _composed(connection: Any, sql: Any, params: Any) -> str:
    if not params:
        return str(sql)
    from psycopg import errors

    try:
        return str(connection.ops.compose_sql(sql, params))
    except errors.DataError:
        return str(sql)


@functools.lru_cache(maxsize=256)
def _qmark(query: str) -> str:
    """Django's conversion of a SQL text from %s to SQLite's ? placeholders."""
    from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

    return FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


def _parameter(kind: ValueType, value: int | str | UUID, native_uuid: bool) -> Any:
    if kind is UUID:
        uuid = value if isinstance(value, UUID) else UUID(str(value))
        return uuid if native_uuid else uuid.hex  # as Django's UUIDField stores it
    return kind(value)  # type: ignore[arg-type]


# --- Rows of a query compiled once per shape ----------------------------------------------
# Values in no real query: a LIMIT and an OFFSET (found in the SQL's text, where Django
# writes them), and times (found in the parameters, as the backend adapts them).
SLICE_LIMIT_SENTINEL = 800_000_001
SLICE_OFFSET_SENTINEL = 900_000_001
_DATETIME_SENTINEL = dt.datetime(1901, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
_LITERALS = {"limit": f"LIMIT {SLICE_LIMIT_SENTINEL}", "offset": f"OFFSET {SLICE_OFFSET_SENTINEL}"}
_PLACEHOLDER = re.compile(r"%%|%s")

RowValueType = type[int] | type[UUID] | type[dt.datetime]


def row_sentinels(**types: RowValueType) -> dict[str, Any]:
    """A sentinel for each value of `PreparedRows.compile`'s queryset, by type."""
    sentinels: dict[str, Any] = {}
    for index, (name, kind) in enumerate(types.items()):
        if kind is UUID:
            sentinels[name] = UUID(int=_UUID_SENTINEL_BASE + index)
        elif kind is dt.datetime:
            sentinels[name] = _DATETIME_SENTINEL + dt.timedelta(microseconds=index + 1)
        else:
            sentinels[name] = _SENTINEL_BASE - index
    return sentinels


@dataclass(frozen=True)
class PreparedRows:
    """A `values_list` queryset (or its capped COUNT) compiled once, run with new values:
    for a list whose SQL changes only with which filters are present (the API's time-entry
    list keeps one per combination). Its rows are the queryset's: the backend's converters
    applied, the columns in `values_list`'s order. The values are equality or range
    filters (ints, UUIDs, aware datetimes, built with `row_sentinels`) and, by name,
    `limit` and `offset`: the queryset is sliced with `SLICE_OFFSET_SENTINEL` and
    `SLICE_LIMIT_SENTINEL`, and they become parameters of the SQL."""

    alias: str
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[str, int, RowValueType], ...]  # value name, index in params, type
    compiler: Any
    converters: dict[int, Any]

    @classmethod
    def compile(
        cls,
        queryset: QuerySet[Any],
        *,
        alias: str,
        sentinels: dict[str, Any],
        count: bool = False,
    ) -> PreparedRows:
        connection = connections[alias]
        compiler = queryset.query.get_compiler(using=alias)
        sql, compiled_params = compiler.as_sql()
        params: list[Any] = list(compiled_params)
        slots: list[tuple[str, int, RowValueType]] = []
        for name, sentinel in sentinels.items():
            kind = type(sentinel)
            form = _adapt(kind, sentinel, connection)
            positions = [i for i, value in enumerate(params) if value == form]
            if len(positions) != 1:
                raise ValueError(f"{name!r} must appear once in the query's parameters")
            slots.append((name, positions[0], kind))
        for name, literal in _LITERALS.items():
            at = sql.find(literal)
            if at < 0:
                continue
            if sql.find(literal, at + 1) >= 0:
                raise ValueError(f"the {name} sentinel must appear once in the SQL")
            index = _PLACEHOLDER.findall(sql[:at]).count("%s")
            sql = f"{sql[:at]}{literal.split()[0]} %s{sql[at + len(literal) :]}"
            params.insert(index, None)
            slots = [(n, i + (i >= index), k) for n, i, k in slots]
            slots.append((name, index, int))
        if _PLACEHOLDER.findall(sql).count("%s") != len(params):
            raise ValueError("the SQL's placeholders do not match its parameters")
        if count:
            sql = f"SELECT COUNT(*) FROM ({sql}) subquery"  # noqa: S608 (the ORM's SQL)
            converters: dict[int, Any] = {}
        else:
            # As `SQLCompiler.results_iter` (Django 5.2 selects values_list's columns in
            # its order: nothing to reorder).
            selected = compiler.select[: compiler.col_count]
            converters = compiler.get_converters([column for column, _, _ in selected])
        return cls(
            alias=alias,
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            compiler=compiler,
            converters=converters,
        )

    def _execute(self, cursor: Any, values: dict[str, Any]) -> None:
        params = list(self.params)
        connection = connections[self.alias]
        for name, index, kind in self.slots:
            params[index] = _adapt(kind, values[name], connection)
        cursor.execute(self.sql, params)

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        with statement_cursor(self.alias) as cursor:
            self._execute(cursor, values)
            rows: Any = cursor.fetchall()
        if self.converters:
            return [tuple(row) for row in self.compiler.apply_converters(rows, self.converters)]
        return rows  # type: ignore[no-any-return]

    def count(self, **values: Any) -> int:
        with statement_cursor(self.alias) as cursor:
            self._execute(cursor, values)
            return int(cursor.fetchone()[0])


def _adapt(kind: RowValueType, value: Any, connection: Any) -> Any:
    """A value as the ORM passes it to the backend (UUIDField, DateTimeField)."""
    if kind is UUID:
        uuid = value if isinstance(value, UUID) else UUID(str(value))
        return uuid if connection.features.has_native_uuid_field else uuid.hex
    if kind is dt.datetime:
        return connection.ops.adapt_datetimefield_value(value)
    return int(value)
