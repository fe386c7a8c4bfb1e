"""`core.prepared.statement_cursor`: on PostgreSQL a statement run on every request is
prepared on the connection after a few runs (and not at all with prepared statements off);
on both databases it returns the rows Django's own cursor returns, and the query log holds
its SQL with its values."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from solodesk.core.prepared import _qmark, statement_cursor
from solodesk.tests.factories import WorkspaceFactory

SQL = "SELECT id, time_zone FROM accounts_workspace WHERE id = %s AND name <> '%%s'"


def _prepared_texts() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _rows(cursor_factory, workspace_id: int) -> list[tuple]:
    with cursor_factory() as cursor:
        cursor.execute(SQL, [workspace_id])
        return [tuple(row) for row in cursor.fetchall()]


def test_the_same_rows_as_djangos_cursor(db):
    workspace = WorkspaceFactory(time_zone="Europe/Berlin")

    for _ in range(7):  # past psycopg's prepare_threshold on PostgreSQL
        assert _rows(statement_cursor, workspace.pk) == _rows(connection.cursor, workspace.pk)
    assert _rows(statement_cursor, workspace.pk) == [(workspace.pk, "Europe/Berlin")]


def test_the_query_log_holds_the_sql_with_its_values(db):
    workspace = WorkspaceFactory()

    with CaptureQueriesContext(connection) as queries:
        _rows(statement_cursor, workspace.pk)
    assert len(queries.captured_queries) == 1
    assert "accounts_workspace" in queries.captured_queries[0]["sql"]
    assert str(workspace.pk) in queries.captured_queries[0]["sql"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements")
def test_postgresql_prepares_the_statement_after_a_few_runs(db):
    workspace = WorkspaceFactory()

    for _ in range(6):
        _rows(statement_cursor, workspace.pk)
    assert any("accounts_workspace" in text for text in _prepared_texts())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements")
@override_settings(DATABASE_PREPARED_STATEMENTS=False)
def test_with_prepared_statements_off_it_is_djangos_cursor(db):
    with statement_cursor() as cursor, connection.cursor() as plain:
        assert type(cursor.cursor) is type(plain.cursor)


def test_sqlite_placeholders_are_djangos():
    from django.db.backends.sqlite3.base import SQLiteCursorWrapper

    expected = SQLiteCursorWrapper.convert_query(None, SQL)  # type: ignore[arg-type]
    assert (
        _qmark(SQL)
        == expected
        == ("SELECT id, time_zone FROM accounts_workspace WHERE id = ? AND name <> '%s'")
    )
