"""Where one page's time goes, in process, on a database you already have (a development
tool, not one of `make bench`'s measurements).

How to run it (from the project root), on a database seeded with `solodesk seed`:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_large SECRET_KEY=x \\
        .venv/bin/python bench/page_profile.py / --explain 3
    ... bench/page_profile.py /invoices/ --requests 50 --no-cprofile

Logged in as `--email` (the seed's owner by default) with Django's test client, the page
is requested `--warmup` times, then `--requests` times with every query timed by an
execute wrapper: wall and CPU (`time.thread_time`, this process only: PostgreSQL's own
work is not in it) p50, the number of queries and the slowest ones. Then, with
`--explain N`, EXPLAIN (ANALYZE, BUFFERS) of the N slowest queries of one more request
(PostgreSQL), and a cProfile of 10 requests, sorted by cumulative time. Nothing is written
(`--token` makes one API token for the user, to request API paths as a client would); the
database is only read (a page that records something, such as the dashboard's prompt
"shown" events, records it as for any visit).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import time
from typing import Any

from common import django_setup

EMAIL = "owner@seed.example"


class QueryTimes:
    """An execute wrapper that keeps (seconds, sql, params) of every query."""

    def __init__(self) -> None:
        self.items: list[tuple[float, str, Any]] = []

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.items.append((time.perf_counter() - started, sql, params))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", default="/", help="the page, e.g. / or /invoices/")
    parser.add_argument("--email", default=EMAIL, help="the user to log in as")
    parser.add_argument(
        "--token",
        action="store_true",
        help="send an API token of the user instead of a session (makes one token row)",
    )
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--slowest", type=int, default=8, help="queries listed per request")
    parser.add_argument("--explain", type=int, default=0, metavar="N")
    parser.add_argument("--no-cprofile", action="store_true")
    parser.add_argument(
        "--sort", default="cumulative", help="the cProfile's order: cumulative, tottime, ..."
    )
    args = parser.parse_args()

    django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    user = get_user_model().objects.get(email=args.email)
    if args.token:  # as an API client (bench/http_load.py's "token" endpoints)
        from solodesk.accounts.models import Membership
        from solodesk.accounts.services import api_token_create

        workspace = Membership.objects.get(user=user).workspace
        _, token = api_token_create(workspace=workspace, user=user, name="page_profile")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    else:
        client = Client()
        client.force_login(user)

    def get() -> None:
        response = client.get(args.path)
        if response.status_code != 200:
            raise SystemExit(f"GET {args.path}: {response.status_code}")

    for _ in range(args.warmup):
        get()
    # As a web worker does once ready (config/wsgi.py): the startup objects out of the
    # garbage collector's full collections, which would otherwise land in a request.
    gc.collect()
    gc.freeze()
    walls, cpus, queries = [], [], QueryTimes()
    for _ in range(args.requests):
        queries.items = []
        wall, cpu = time.perf_counter(), time.thread_time()
        with connection.execute_wrapper(queries):
            get()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.thread_time() - cpu) * 1000)
    last = sorted(queries.items, key=lambda item: -item[0])
    print(
        f"GET {args.path}: wall p50 {statistics.median(walls):.1f} ms, CPU p50 "
        f"{statistics.median(cpus):.1f} ms, {len(queries.items)} queries, SQL "
        f"{sum(seconds for seconds, _, _ in queries.items) * 1000:.1f} ms (last request)"
    )
    for seconds, sql, _ in last[: args.slowest]:
        print(f"  {seconds * 1000:7.2f} ms  {' '.join(sql.split())[:140]}")

    if args.explain and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for seconds, sql, params in last[: args.explain]:
                print(f"\n=== {seconds * 1000:.2f} ms\n{' '.join(sql.split())[:400]}")
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                for (line,) in cursor.fetchall():
                    print(line)

    if not args.no_cprofile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(10):
            get()
        profile.disable()
        print("\ncProfile of 10 requests:")
        pstats.Stats(profile).sort_stats(args.sort).print_stats(40)


if __name__ == "__main__":
    main()
