"""Latency of the dashboard (GET /) at 100,000 time entries and 5,000 invoices, served by a
real gunicorn, measured by an HTTP client in another process.

How to run it (from the project root):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/dashboard_latency.py                    # PostgreSQL
    .venv/bin/python bench/dashboard_latency.py                        # SQLite
    .venv/bin/python bench/dashboard_latency.py --entries 20000 --invoices 1000 --requests 100

With a PostgreSQL DATABASE_URL the script creates a throwaway database
`solodesk_bench_<random>` on that server (the database in the URL is only used to connect)
and drops it at the end; SQLite runs in a file under a temporary folder.

1. Seed (bulk_create): one workspace (Europe/Berlin) with its owner and a member, 20 clients
   (EUR and USD), 60 projects (hourly, fixed fee, non-billable), `--entries` time entries
   spread over the last four years (those older than 60 days invoiced), `--invoices`
   invoices over the same years (drafts, issued, partially paid, paid, void, some credit
   notes) with their payments, a running timer and a fresh scheduler heartbeat; then
   ANALYZE, as a database in use would have its statistics.
2. In-process, with Django's test client: the number of queries of one dashboard request
   and the duration of each; on PostgreSQL, EXPLAIN (ANALYZE, BUFFERS) of the three slowest,
   written to bench/results/dashboard_latency-postgresql-explain.txt.
3. Start gunicorn exactly as `solodesk web` does (production settings, WEB_CONCURRENCY=2
   processes × 4 threads), log in through the login form in a separate Python process
   with httpx (session cookie), warm up, then time `--requests` sequential GETs of / from
   that one client: p50, p95, p99, mean, min, max; then as many GETs of the timer poll
   (/time/timer/, 2 queries) as a calibration of what any request costs on the machine at
   that moment (other processes share its 2 cores; the load average is recorded too).

The figures are printed and written to bench/results/dashboard_latency-<vendor>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))

from common import gunicorn, postgres_throwaway  # noqa: E402 (bench/ is on sys.path)

EMAIL = "owner@bench.example"
PASSWORD = "a long bench passphrase"  # noqa: S105 (a throwaway database's user)
YEARS = 4


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solodesk.config.settings.production")
    import django

    django.setup()


# --- seeding ---------------------------------------------------------------------------------


def seed(entries: int, invoices: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from solodesk.accounts.models import Membership, User, Workspace
    from solodesk.clients.models import Client
    from solodesk.core.models import Heartbeat
    from solodesk.invoicing.models import Invoice, Payment
    from solodesk.invoicing.services import revenue_months_rebuild
    from solodesk.projects.models import Project
    from solodesk.timetracking.models import RunningTimer, TimeEntry
    from solodesk.timetracking.services import time_entry_days_rebuild, unbilled_time_rebuild

    rng = random.Random(5)
    now = timezone.now()
    with transaction.atomic():
        workspace = Workspace.objects.create(
            name="Bench Studio",
            time_zone="Europe/Berlin",
            address="1 Bench Street",
            tax_id="DE123",
            payment_details="IBAN DE00",
        )
        owner = User.objects.create_user(email=EMAIL, password=PASSWORD)
        member = User.objects.create_user(email="member@bench.example", password=None)
        Membership.objects.create(workspace=workspace, user=owner, role="owner")
        Membership.objects.create(workspace=workspace, user=member, role="member")
        clients = [
            Client.objects.create(
                workspace=workspace,
                name=f"Client {i:02d}",
                email=f"billing{i}@client.example",
                currency="USD" if i % 5 == 0 else "EUR",
                payment_terms_days=30,
                default_hourly_rate=Decimal("80.00") if i % 3 else None,
            )
            for i in range(20)
        ]
        methods = ["hourly"] * 8 + ["fixed", "non_billable"]
        projects = [
            Project.objects.create(
                workspace=workspace,
                client=clients[i % 20],
                name=f"Project {i:02d}",
                billing_method=methods[i % 10],
                hourly_rate=Decimal(90 + i) if i % 4 else None,
                fixed_fee=Decimal("5000.00") if methods[i % 10] == "fixed" else None,
                is_archived=i >= 55,
            )
            for i in range(60)
        ]
        RunningTimer.objects.create(
            workspace=workspace, user=owner, project=projects[1], started_at=now
        )
        Heartbeat.objects.create(name="scheduler", seen_at=now)

    span = dt.timedelta(days=365 * YEARS)
    invoiced_before = now - dt.timedelta(days=60)
    step = span / max(entries, 1)
    batch: list[TimeEntry] = []
    for index in range(entries):
        started = now - span + step * index
        seconds = rng.choice([900, 1800, 2700, 3600, 5400, 7200])
        batch.append(
            TimeEntry(
                workspace=workspace,
                user=owner if index % 5 else member,
                project=projects[rng.randrange(55)],
                started_at=started,
                ended_at=started + dt.timedelta(seconds=seconds),
                duration_seconds=seconds,
                description=f"Work item {index}",
                is_billable=index % 8 != 0,
                invoiced_at=started + dt.timedelta(days=30) if started < invoiced_before else None,
            )
        )
        if len(batch) == 5000:
            TimeEntry.objects.bulk_create(batch)
            batch = []
    TimeEntry.objects.bulk_create(batch)
    # bulk_create bypasses the services: count the daily totals as the migration does.
    time_entry_days_rebuild(workspace=workspace)
    unbilled_time_rebuild(workspace=workspace)

    today = now.date()
    rows: list[Invoice] = []
    payments: list[tuple[int, Decimal, dt.date]] = []
    sequences: dict[tuple[str, int], int] = {}
    for index in range(invoices):
        issue_date = today - dt.timedelta(days=int(365 * YEARS * (invoices - index) / invoices))
        client = clients[index % 20]
        total = Decimal(rng.randrange(10_000, 900_000)) / 100
        roll = rng.random()
        if index >= invoices - 20:
            status = "draft"
        elif roll < 0.03:
            status = "void"
        elif issue_date > today - dt.timedelta(days=75) and roll < 0.6:
            status = "issued"
        elif roll < 0.08:
            status = "partially_paid"
        else:
            status = "paid"
        kind = "credit_note" if index % 97 == 0 and status == "paid" else "invoice"
        if kind == "credit_note":
            status = "issued"
        paid = {"paid": total, "partially_paid": (total / 2).quantize(Decimal("0.01"))}.get(
            status, Decimal("0.00")
        )
        number = year = sequence = None
        if status != "draft":
            year = issue_date.year
            sequence = sequences[kind, year] = sequences.get((kind, year), 0) + 1
            prefix = "CN-" if kind == "credit_note" else ""
            number = f"{prefix}{year}-{sequence:04d}"
        rows.append(
            Invoice(
                workspace=workspace,
                client=client,
                kind=kind,
                status=status,
                number=number,
                number_year=year,
                number_sequence=sequence,
                currency=client.currency,
                issue_date=None if status == "draft" else issue_date,
                due_date=None if status == "draft" else issue_date + dt.timedelta(days=30),
                subtotal=total,
                total=total,
                amount_paid=paid,
                issued_at=None if status == "draft" else now,
                paid_on=issue_date + dt.timedelta(days=20) if status == "paid" else None,
            )
        )
    created = Invoice.objects.bulk_create(rows, batch_size=1000)
    Payment.objects.bulk_create(
        [
            Payment(
                invoice=invoice,
                amount=invoice.amount_paid,
                date=min(invoice.issue_date + dt.timedelta(days=20), today),
                recorded_by=owner,
            )
            for invoice in created
            if invoice.amount_paid > 0
        ],
        batch_size=1000,
    )
    del payments
    # Likewise the monthly revenue totals (decision 0006) the dashboard reads.
    revenue_months_rebuild(workspace=workspace)


def analyze(vendor: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # As autovacuum would have done on a database in use: statistics for the planner and
        # (PostgreSQL) the visibility map for index-only scans.
        cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")


# --- in-process: queries and plans ------------------------------------------------------------


def profile_queries(vendor: str) -> dict[str, object]:
    from django.db import connection
    from django.test import Client

    from solodesk.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email=EMAIL))
    client.get("/")  # warm: the first view records the prompts as shown
    captured: list[dict[str, object]] = []

    def capture(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            captured.append(
                {
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "sql": sql,
                    "params": params,
                }
            )

    with connection.execute_wrapper(capture):
        started = time.perf_counter()
        response = client.get("/")
        in_process_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.status_code
    slowest = sorted(captured, key=lambda q: q["ms"], reverse=True)  # type: ignore[arg-type, return-value]
    explain_path = None
    if vendor == "postgresql":
        lines = []
        with connection.cursor() as cursor:
            for query in slowest[:3]:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + str(query["sql"]), query["params"])
                plan = "\n".join(row[0] for row in cursor.fetchall())
                lines.append(f"-- {query['ms']} ms\n{query['sql']}\n\n{plan}\n")
        explain_path = RESULTS / "dashboard_latency-postgresql-explain.txt"
        RESULTS.mkdir(parents=True, exist_ok=True)
        explain_path.write_text("\n".join(lines))
    return {
        "queries": len(captured),
        "query_ms_total": round(sum(q["ms"] for q in captured), 2),  # type: ignore[misc]
        "in_process_request_ms": round(in_process_ms, 1),
        "slowest_queries": [{"ms": q["ms"], "sql": str(q["sql"])[:160]} for q in slowest[:5]],
        "explain": str(explain_path.relative_to(ROOT)) if explain_path else None,
    }


# --- the HTTP client (a separate process) -----------------------------------------------------


def client_main(base_url: str, requests: int, warmup: int) -> None:
    import httpx

    with httpx.Client(base_url=base_url, timeout=30.0) as http:
        login = http.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)
        assert token, "no CSRF token on the login page"
        response = http.post(
            "/accounts/login/",
            data={"login": EMAIL, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": base_url + "/accounts/login/"},
        )
        assert response.status_code == 302, (response.status_code, response.text[:500])
        for _ in range(warmup):
            assert http.get("/").status_code == 200
        timings = []
        size = 0
        for _ in range(requests):
            started = time.perf_counter()
            response = http.get("/")
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            size = len(response.content)
        assert "Dashboard" in response.text
        # Calibration on the same server and client: the timer poll, the cheapest page
        # (2 queries), shows what the machine costs per request before any dashboard work.
        baseline = []
        for _ in range(requests):
            started = time.perf_counter()
            response = http.get("/time/timer/")
            baseline.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
    print(json.dumps({"timings_ms": timings, "bytes": size, "baseline_ms": baseline}))


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def measure_http(requests: int, warmup: int, tmp: Path) -> dict[str, object]:
    from solodesk.cli import web_command

    with gunicorn(web_command("127.0.0.1", 0, 2, 4), tmp / "gunicorn.log") as base_url:
        output = subprocess.run(
            [sys.executable, __file__, "--client", base_url, str(requests), str(warmup)],
            check=True,
            capture_output=True,
            text=True,
            timeout=1800,
        ).stdout
    data = json.loads(output.strip().splitlines()[-1])
    timings: list[float] = data["timings_ms"]
    return {
        "requests": len(timings),
        "warmup_requests": warmup,
        "p50_ms": round(_percentile(timings, 50), 1),
        "p95_ms": round(_percentile(timings, 95), 1),
        "p99_ms": round(_percentile(timings, 99), 1),
        "mean_ms": round(statistics.fmean(timings), 1),
        "min_ms": round(min(timings), 1),
        "max_ms": round(max(timings), 1),
        "response_bytes": data["bytes"],
        "timer_poll_p50_ms": round(_percentile(data["baseline_ms"], 50), 1),
        "timer_poll_p95_ms": round(_percentile(data["baseline_ms"], 95), 1),
    }


# --- orchestration ------------------------------------------------------------------------------


def run(args: argparse.Namespace, database_url: str | None) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="solodesk-bench-"))
    drop = None
    if database_url and database_url.startswith(("postgres://", "postgresql://")):
        database_url, drop = postgres_throwaway(database_url)
        vendor = "postgresql"
    elif database_url:
        raise SystemExit("DATABASE_URL must be a PostgreSQL URL, or unset for SQLite")
    else:
        database_url = f"sqlite:///{tmp}/bench.sqlite3"
        vendor = "sqlite"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="solodesk.config.settings.production",
        DATABASE_URL=database_url,
        SOLODESK_VAR_DIR=str(tmp / "var"),
        MEDIA_ROOT=str(tmp / "media"),
        STATIC_ROOT=str(tmp / "static"),
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        WEB_CONCURRENCY="2",
    )
    os.environ.pop("CACHE_URL", None)  # the default: a database table, like `solodesk run`
    try:
        _setup_django()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        seeding = time.perf_counter()
        seed(args.entries, args.invoices)
        analyze(vendor)
        seed_seconds = time.perf_counter() - seeding
        with connection.cursor() as cursor:
            cursor.execute(
                "select sqlite_version()" if vendor == "sqlite" else "show server_version"
            )
            db_version = cursor.fetchone()[0]
        profile = profile_queries(vendor)
        connection.close()
        load_before = os.getloadavg()
        http = measure_http(args.requests, args.warmup, tmp)
        load_after = os.getloadavg()
    finally:
        if drop:
            from django.db import connections

            connections.close_all()
            drop()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "benchmark": "dashboard GET / through gunicorn (2 processes × 4 threads), 1 client",
        "database": vendor,
        "database_version": db_version,
        "time_entries": args.entries,
        "invoices": args.invoices,
        "seed_s": round(seed_seconds, 1),
        **http,
        **profile,
        "target_p50_ms": 30,
        # Other work on the machine while measuring (1-minute load average, 2 cores).
        "load_average_before": round(load_before[0], 2),
        "load_average_after": round(load_after[0], 2),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--client", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        base_url, requests, warmup = args.client
        client_main(base_url, int(requests), int(warmup))
        return
    result = run(args, os.environ.get("DATABASE_URL"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"dashboard_latency-{result['database']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
