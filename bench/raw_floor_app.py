"""The floor: `GET /api/v1/time-entries` as a minimal WSGI app on psycopg, without Django.

It answers the same JSON as Solodesk's time-entry list endpoint (solodesk/timetracking/
api.py: `{"items": [...], "count": N, "count_is_capped": false}`, each item as `TimeEntryOut`, newest first, tags by
name, times in UTC with "+00:00") for the query parameters the benchmark sends
(`date_from`, `date_to`, `limit`, `offset`; dates are whole days in the workspace's time
zone, both ends included), after checking the `Authorization: Bearer` token against the
same table and conditions as the API (`api_token_authenticate`: the SHA-256 digest, not
revoked, active user, still a member of the workspace) in one query. Everything else is
a 404; a bad token a 401.

Three queries per request: the token (with the workspace's time zone), one page of
entries joined with project, client and user, their tag names aggregated in a subquery,
each row's JSON object written by PostgreSQL (as the API's own list), and a COUNT that stops 1,000 rows past the offset, as the API's (none on a page shorter
than `limit`: its length gives the count). One persistent connection per thread, with psycopg's defaults (server-side
binding, statements prepared after 5 executions): the best plain Python can do.

Run by bench/raw_floor.py under gunicorn with the same settings as `solodesk web`:

    DATABASE_URL=postgres://... gunicorn --pythonpath bench raw_floor_app:application ...
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
import zoneinfo
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

import psycopg

DATABASE_URL = os.environ["DATABASE_URL"]
PER_PAGE = 50  # NINJA_PAGINATION_PER_PAGE
MAX_LIMIT = 200  # NINJA_PAGINATION_MAX_LIMIT

AUTH_SQL = """
SELECT t.workspace_id, w.time_zone
FROM accounts_apitoken t
JOIN accounts_user u ON u.id = t.user_id
JOIN accounts_workspace w ON w.id = t.workspace_id
JOIN accounts_membership m ON m.workspace_id = t.workspace_id AND m.user_id = t.user_id
WHERE t.digest = %s AND t.revoked_at IS NULL AND u.is_active
LIMIT 1
"""

COUNT_SQL = """
SELECT count(*) FROM (
    SELECT 1 FROM timetracking_timeentry
    WHERE workspace_id = %s AND started_at >= %s AND started_at < %s
    LIMIT %s
) AS counted
"""
COUNT_CAP = 1000  # core.api.CappedLimitOffsetPagination.count_cap

# Each row as the API's list writes it since decision 0010: the entry's stored JSON
# (`timetracking_timeentry.own_json`: its own fields and sorted tag names, written when
# the entry is), the invoiced flag, and the project's, client's and user's members, which
# Python joins; so the floor is the floor of that approach.
PAGE_SQL = """
SELECT e.own_json, e.invoiced_at IS NOT NULL,
    ',"project_id":"' || p.public_id::text
    || '","project_name":' || to_json(p.name)::text
    || ',"client_id":"' || c.public_id::text
    || '","client_name":' || to_json(c.name)::text
    || ',"user_email":' || to_json(u.email)::text || '}'
FROM timetracking_timeentry e
JOIN projects_project p ON p.id = e.project_id
JOIN clients_client c ON c.id = p.client_id
JOIN accounts_user u ON u.id = e.user_id
WHERE e.workspace_id = %s AND e.started_at >= %s AND e.started_at < %s
ORDER BY e.started_at DESC, e.id DESC
LIMIT %s OFFSET %s
"""

_local = threading.local()


def _connection() -> psycopg.Connection[Any]:
    connection = getattr(_local, "connection", None)
    if connection is None or connection.closed:
        connection = _local.connection = psycopg.connect(DATABASE_URL, autocommit=True)
    return connection  # type: ignore[no-any-return]


def _respond(
    start_response: Callable[..., Any], status: str, body: Any, *extra: tuple[str, str]
) -> Iterable[bytes]:
    """`body` as JSON; bytes are sent as they are (the page, already JSON)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(data))),
            *extra,
        ],
    )
    return [data]


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["REQUEST_METHOD"] != "GET" or environ["PATH_INFO"] != "/api/v1/time-entries":
        return _respond(start_response, "404 Not Found", {"message": "Not found."})
    scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    connection = _connection()
    row = None
    if scheme.lower() == "bearer" and token:
        digest = hashlib.sha256(token.encode()).hexdigest()
        row = connection.execute(AUTH_SQL, (digest,)).fetchone()
    if row is None:
        return _respond(
            start_response,
            "401 Unauthorized",
            {"message": "Missing or invalid API token."},
            ("WWW-Authenticate", "Bearer"),
        )
    workspace_id, time_zone = row
    query = {key: values[-1] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
    try:
        date_from = dt.date.fromisoformat(query["date_from"])
        date_to = dt.date.fromisoformat(query["date_to"])
        limit = min(int(query.get("limit", PER_PAGE)), MAX_LIMIT)
        offset = int(query.get("offset", 0))
    except (KeyError, ValueError):
        # The floor serves the benchmark's request only: a month, one page.
        return _respond(start_response, "422 Unprocessable Entity", {"message": "Invalid input."})
    zone = zoneinfo.ZoneInfo(time_zone)
    start = dt.datetime.combine(date_from, dt.time.min, zone)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, zone)
    rows = connection.execute(PAGE_SQL, (workspace_id, start, end, limit, offset)).fetchall()
    if len(rows) < limit and (rows or offset == 0):
        count, capped = offset + len(rows), False
    else:
        stop = offset + COUNT_CAP + 1
        counted = connection.execute(COUNT_SQL, (workspace_id, start, end, stop)).fetchone()[0]  # type: ignore[index]
        count, capped = (stop - 1, True) if counted >= stop else (counted, False)
    items = ",".join(
        [
            f'{own[:-1]},"invoiced":{"true" if invoiced else "false"}{rest}'
            for own, invoiced, rest in rows
        ]
    )
    body = (
        f'{{"items":[{items}],"count":{count},"count_is_capped":{"true" if capped else "false"}}}'
    )
    return _respond(start_response, "200 OK", body.encode())
