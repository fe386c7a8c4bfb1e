"""Latency and throughput of the main pages and endpoints through a real gunicorn on
PostgreSQL + Redis, at `--scale` (issue 6, benchmarks 1, 2 and 5, and its memory target).

How to run it (from the project root; PostgreSQL and Redis must answer, `make bench`
starts them):

    .venv/bin/python bench/http_load.py                    # large: the lead's run
    .venv/bin/python bench/http_load.py --scale small --requests 50     # a quick try

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/postgres (a throwaway database
`solodesk_bench_<random>` is made on that server and dropped at the end), CELERY_BROKER_URL
to redis://127.0.0.1:6379/5 and CACHE_URL to redis://127.0.0.1:6379/6 (the README's
PostgreSQL + Redis deployment).

1. Migrate; seed one workspace with `solodesk.seed.seed_workspace(scale=...)`; VACUUM
   ANALYZE (a database in use has its statistics). An API token for the owner, and eight
   members with a token each (the timer runs: one user per client, each its own timer).
2. In-process (Django's test client, CaptureQueriesContext): the queries of one request of
   each endpoint. The same on a second throwaway database seeded at `small` (a child
   process); the counts must be equal. EXPLAIN (ANALYZE, BUFFERS) of the three slowest
   SELECTs seen goes to bench/results/http_load-explain.txt.
3. Start gunicorn exactly as `solodesk web` does (production settings, WEB_CONCURRENCY=2
   processes × 4 threads) and one Celery worker as `solodesk run` does (`nice -n 10`,
   concurrency 2). For each endpoint and each `--concurrency`, a load generator in a
   separate process (bench/loadgen.py: closed loop, N clients back to back, warm-up
   excluded): p50/p95/p99, mean, requests per second, errors.
   Right after each GET's 1-client run, the same GET `--in-process` times in this
   process (Django's test client): wall and CPU p50 at that moment, to read the HTTP
   figure against the machine's speed then.
4. Busy workers: dashboard at 1 client idle, then while the worker renders up to
   `--pdfs` invoice PDFs (queued through the app's own PDF job, `invoice_pdf_request`);
   the send-invoice request (POST /api/v1/invoices/{id}/send) vs rendering the PDF
   synchronously in-process (`invoice_pdf_render`).
5. Memory: VmRSS (/proc/<pid>/status) of every gunicorn and Celery process, every 0.5 s
   through the whole run; the maximum per process.

Results: bench/results/http_load-postgresql.json (BENCH_RESULTS_DIR to write elsewhere).
Every process started here is stopped at the end, on error and on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import (
    RESULTS,
    ROOT,
    database_version,
    django_setup,
    load_average,
    machine_info,
    percentile,
    stop_process,
    throwaway_database,
    write_result,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/5"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/6"
SEED_EMAIL = "owner@seed.example"
SEED_PASSWORD = "seed passphrase 1234"  # noqa: S105 (a throwaway database's user)
MEMBERS = 8  # one per client of the timer runs at concurrency 8

# issue 6's targets at `large`, 1 client (the report compares against them)
TARGETS = {
    "dashboard_p50_ms": 30,
    "dashboard_p99_ms": 100,
    "time_entry_api_list_p50_ms": 15,
    "invoice_list_p50_ms": 25,
    "yearly_report_ms": 300,
    "busy_p99_ratio": 1.5,
    "rss_mb": 250,
}


# --- seeding -----------------------------------------------------------------------------------


def seed_workspace(scale: str) -> dict[str, Any]:
    """Seed the configured database at `scale` with H1's seed (solodesk.seed); until it
    exists, a small stand-in from bench/dashboard_latency.py. Returns who to log in as, the
    counts and the seconds it took."""
    seed: Any
    try:
        from solodesk.seed import seed_workspace as seed
    except ImportError:
        seed = None
    if seed is not None:
        result = seed(scale=scale, email=SEED_EMAIL, password=SEED_PASSWORD)
        return {
            "source": "solodesk.seed",
            "email": SEED_EMAIL,
            "password": SEED_PASSWORD,
            "counts": dict(result.counts),
            "seconds": round(result.seconds, 1),
            "phases": {k: round(v, 1) for k, v in getattr(result, "phases", {}).items()},
        }
    import dashboard_latency

    sizes = {"small": (2_000, 100), "medium": (100_000, 6_000), "large": (1_000_000, 60_000)}
    entries, invoices = sizes[scale]
    started = time.perf_counter()
    dashboard_latency.seed(entries, invoices)
    return {
        "source": "bench/dashboard_latency.py seed (stand-in: solodesk.seed missing)",
        "email": dashboard_latency.EMAIL,
        "password": dashboard_latency.PASSWORD,
        "counts": {"time_entries": entries, "invoices": invoices},
        "seconds": round(time.perf_counter() - started, 1),
    }


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def fixture(seeded: dict[str, Any]) -> dict[str, Any]:
    """What the requests need: tokens, a project, an issued invoice, a month, a year."""
    from django.utils import timezone

    from solodesk.accounts.models import Membership, User
    from solodesk.accounts.services import api_token_create
    from solodesk.invoicing.models import Invoice
    from solodesk.projects.models import Project

    owner = User.objects.get(email=seeded["email"])
    workspace = Membership.objects.select_related("workspace").get(user=owner).workspace
    _, token = api_token_create(workspace=workspace, user=owner, name="http_load")
    member_tokens = []
    for k in range(MEMBERS):
        member = User.objects.create_user(email=f"load{k}@bench.example", password=None)
        Membership.objects.create(workspace=workspace, user=member, role="member")
        member_tokens.append(api_token_create(workspace=workspace, user=member, name="load")[1])
    project = Project.objects.filter(workspace=workspace, is_archived=False).order_by("pk").first()
    assert project is not None, "the seed made no active project"
    invoice = (
        Invoice.objects.filter(
            workspace=workspace, kind="invoice", status__in=["issued", "partially_paid"]
        )
        .exclude(client__email="")
        .order_by("-issue_date", "-pk")
        .first()
    )
    assert invoice is not None, "the seed made no issued invoice with a client e-mail"
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    return {
        **seeded,
        "workspace_id": workspace.pk,
        "token": token,
        "member_tokens": member_tokens,
        "project_id": str(project.public_id),
        "invoice_id": str(invoice.public_id),
        "month": [last_month_end.replace(day=1).isoformat(), last_month_end.isoformat()],
        "year": today.year,
    }


# --- the endpoints -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    label: str
    auth: str  # "session" (the owner, logged in), "token" (the owner's) or "members"
    kind: str  # "get", "create_entry" or "timer"
    path: str = ""


def reports_path() -> str | None:
    """The yearly report's URL when H3's app is installed, else None ("not built")."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("reports:yearly")
    except NoReverseMatch:
        return None


def endpoints(fx: dict[str, Any]) -> list[Endpoint]:
    date_from, date_to = fx["month"]
    report = reports_path()
    listed = [
        Endpoint("dashboard", "dashboard GET /", "session", "get", "/"),
        Endpoint(
            "week_view", "time-entry week view GET /time/week/", "session", "get", "/time/week/"
        ),
        Endpoint(
            "time_entry_api_list",
            "time-entry API list, 50 of one month",
            "token",
            "get",
            f"/api/v1/time-entries?date_from={date_from}&date_to={date_to}&limit=50",
        ),
        Endpoint("invoice_list", "invoice list GET /invoices/", "session", "get", "/invoices/"),
        Endpoint(
            "invoice_detail",
            "invoice detail GET /invoices/{id}/",
            "session",
            "get",
            f"/invoices/{fx['invoice_id']}/",
        ),
    ]
    if report is not None:
        listed.append(
            Endpoint(
                "yearly_report",
                "yearly report GET /reports/?year=",
                "session",
                "get",
                f"{report}?year={fx['year']}",
            )
        )
    listed += [
        Endpoint(
            "time_entry_create",
            "create a time entry POST /api/v1/time-entries",
            "token",
            "create_entry",
            "/api/v1/time-entries",
        ),
        Endpoint(
            "timer_start_stop",
            "timer start / stop (alternating) POST /api/v1/timer/start|stop",
            "members",
            "timer",
        ),
    ]
    return listed


def request_factory(endpoint_kind: str, path: str, fx: dict[str, Any]) -> Callable[..., Any]:
    """What each request of a run sends (used by the load-generator process)."""
    if endpoint_kind == "get":
        return lambda i: ("GET", path, None)
    if endpoint_kind == "create_entry":
        first = dt.date.fromisoformat(fx["month"][0])

        def create(i: int) -> tuple[str, str, Any]:
            # A new entry each time, spread over a month's days and times.
            return (
                "POST",
                path,
                {
                    "project_id": fx["project_id"],
                    "date": (first + dt.timedelta(days=i % 28)).isoformat(),
                    "start_time": f"{7 + i % 12:02d}:{i // 12 % 60:02d}",
                    "duration_seconds": 900 + 60 * (i % 60),
                    "description": f"Load test entry {i}",
                },
            )

        return create
    if endpoint_kind == "timer":
        sent: dict[int, int] = {}

        def timer(i: int, client: int) -> tuple[str, str, Any]:
            # Each client is its own user (its own token): start, stop, start, stop...
            n = sent[client] = sent.get(client, -1) + 1
            if n % 2 == 0:
                return "POST", "/api/v1/timer/start", {"project_id": fx["project_id"]}
            return "POST", "/api/v1/timer/stop", {}

        return timer
    raise ValueError(endpoint_kind)


# --- in-process: query counts and plans ----------------------------------------------------------


def count_queries(fx: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Queries (and their time) of one request of each endpoint, after one warm request;
    returns the counts and every SELECT captured (for EXPLAIN)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from solodesk.accounts.models import User
    from solodesk.timetracking.models import RunningTimer

    session = Client()
    session.force_login(User.objects.get(email=fx["email"]))
    bearer = Client(HTTP_AUTHORIZATION=f"Bearer {fx['token']}")
    member = Client(HTTP_AUTHORIZATION=f"Bearer {fx['member_tokens'][0]}")
    RunningTimer.objects.filter(user__email="load0@bench.example").delete()
    counts: dict[str, Any] = {}
    selects: list[dict[str, Any]] = []

    def measure(name: str, call: Callable[[], Any]) -> None:
        call()  # warm (the first dashboard view records the prompts as shown, ...)
        with CaptureQueriesContext(connection) as captured:
            response = call()
        counts[name] = {
            "queries": len(captured.captured_queries),
            "query_ms": round(sum(float(q["time"]) for q in captured.captured_queries) * 1000, 1),
            "status": response.status_code,
        }
        selects.extend(
            {"endpoint": name, "sql": q["sql"], "ms": float(q["time"]) * 1000}
            for q in captured.captured_queries
            if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        )

    for endpoint in endpoints(fx):
        if endpoint.kind == "get":
            client = session if endpoint.auth == "session" else bearer

            def get(client: Any = client, path: str = endpoint.path) -> Any:
                return client.get(path)

            measure(endpoint.name, get)
        elif endpoint.kind == "create_entry":
            make = request_factory("create_entry", endpoint.path, fx)
            numbers = iter(range(10**6))

            def create(path: str = endpoint.path, make: Any = make, numbers: Any = numbers) -> Any:
                return bearer.post(path, make(next(numbers))[2], content_type="application/json")

            measure(endpoint.name, create)
        else:
            start = {"project_id": fx["project_id"]}
            # warm: start + stop; then the counted start, and the counted stop
            member.post("/api/v1/timer/start", start, content_type="application/json")
            member.post("/api/v1/timer/stop", {}, content_type="application/json")
            with CaptureQueriesContext(connection) as started:
                a = member.post("/api/v1/timer/start", start, content_type="application/json")
            with CaptureQueriesContext(connection) as stopped:
                b = member.post("/api/v1/timer/stop", {}, content_type="application/json")
            counts["timer_start"] = {"queries": len(started), "status": a.status_code}
            counts["timer_stop"] = {"queries": len(stopped), "status": b.status_code}
    if reports_path() is None:
        counts["yearly_report"] = {"queries": None, "status": "not built"}
    return counts, selects


def in_process(fx: dict[str, Any], endpoint: Endpoint, requests: int) -> dict[str, Any]:
    """The same GET in this process with Django's test client, right after its 1-client
    HTTP run: wall and CPU (this thread's) p50, so the HTTP figure can be read against
    what the view itself cost at that moment on this machine (its speed varies from minute
    to minute) and the difference is what gunicorn, the network and the client add. The
    unused objects are frozen first, as a web worker's are (config/wsgi.py)."""
    import gc

    from django.test import Client

    from solodesk.accounts.models import User

    if endpoint.auth == "session":
        client = Client()
        client.force_login(User.objects.get(email=fx["email"]))
    else:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {fx['token']}")
    for _ in range(3):
        client.get(endpoint.path)
    gc.collect()
    gc.freeze()
    walls, cpus = [], []
    before = load_average()
    try:
        for _ in range(requests):
            wall, cpu = time.perf_counter(), time.thread_time()
            response = client.get(endpoint.path)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.thread_time() - cpu) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"in process GET {endpoint.path}: {response.status_code}")
    finally:
        gc.unfreeze()
    return {
        "requests": requests,
        "wall_p50_ms": round(statistics.median(walls), 2),
        "cpu_p50_ms": round(statistics.median(cpus), 2),
        "load_average_before": before,
    }


def explain_heaviest(
    selects: list[dict[str, Any]], path: Path, top: int = 3
) -> list[dict[str, Any]]:
    """The `top` heaviest distinct SELECTs of the requests: on PostgreSQL each is timed by
    the server (EXPLAIN ANALYZE's execution time, the best of two, not the noisy client-side
    time of one run), and the heaviest get EXPLAIN (ANALYZE, BUFFERS) written to `path`."""
    from django.db import DatabaseError, connection

    seen: dict[str, dict[str, Any]] = {}
    for query in sorted(selects, key=lambda q: q["ms"], reverse=True):
        seen.setdefault(query["sql"], query)
    if connection.vendor != "postgresql":
        heaviest = list(seen.values())[:top]
        return [{"endpoint": q["endpoint"], "ms": round(q["ms"], 2)} for q in heaviest]
    timed = []
    with connection.cursor() as cursor:
        for query in seen.values():
            runs = []
            for _ in range(2):
                try:
                    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
                except DatabaseError:
                    break  # not re-runnable as captured (e.g. interpolated bytes)
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                runs.append(float(plan[0]["Execution Time"]))
            if runs:
                timed.append({**query, "server_ms": min(runs)})
        heaviest = sorted(timed, key=lambda q: q["server_ms"], reverse=True)[:top]
        blocks = []
        for query in heaviest:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            blocks.append(
                f"-- {query['endpoint']}: {query['server_ms']:.2f} ms on the server\n"
                f"{query['sql']}\n\n{plan}\n"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(blocks))
    return [
        {"endpoint": q["endpoint"], "ms": round(q["server_ms"], 2), "sql": q["sql"][:200]}
        for q in heaviest
    ]


def small_counts_in_child(database_url: str) -> dict[str, Any]:
    """Query counts on a second throwaway database seeded at `small` (its own process:
    Django is configured for one database per process)."""
    # Its jobs (webhooks, ...) must not reach the broker the benchmark's worker reads.
    env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": "memory://"}
    for name in ("DJANGO_SETTINGS_MODULE", "SOLODESK_VAR_DIR", "MEDIA_ROOT", "STATIC_ROOT"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, __file__, "--count-only", "small"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        print(f"http_load: counting at small failed:\n{done.stderr[-3000:]}", file=sys.stderr)
        return {}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# --- processes -----------------------------------------------------------------------------------


@contextmanager
def servers(tmp: Path, worker_concurrency: int) -> Iterator[tuple[str, dict[str, int]]]:
    """gunicorn as `solodesk web` and a worker as `solodesk run` starts them; yields the
    base URL and the two process ids. Both are stopped (their process groups) at the end."""
    from solodesk.cli import background_worker_command, web_command

    started: list[subprocess.Popen[bytes]] = []
    web_log, worker_log = tmp / "gunicorn.log", tmp / "worker.log"
    try:
        with web_log.open("wb") as log:
            web = subprocess.Popen(
                web_command("127.0.0.1", 0, 2, 4),
                env=os.environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        started.append(web)
        with worker_log.open("wb") as log:
            worker = subprocess.Popen(
                background_worker_command(worker_concurrency),
                env=os.environ,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        started.append(worker)
        deadline = time.monotonic() + 60
        port = None
        while port is None:
            if web.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n" + web_log.read_text()[-3000:])
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", web_log.read_text())
            port = int(found.group(1)) if found else None
            time.sleep(0.2)
        while "ready." not in worker_log.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the worker did not start:\n" + worker_log.read_text()[-3000:])
            time.sleep(0.2)
        time.sleep(1.0)  # let both gunicorn processes boot
        yield f"http://127.0.0.1:{port}", {"web": web.pid, "worker": worker.pid}
    finally:
        for process in reversed(started):
            stop_process(process)


class MemorySampler(threading.Thread):
    """VmRSS of the given processes and all their descendants every `interval` seconds;
    keeps the maximum per process."""

    def __init__(self, roots: dict[str, int], interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.roots, self.interval = roots, interval
        self.max_kb: dict[int, int] = {}
        self.labels: dict[int, str] = {}
        self.samples = 0
        self.done = threading.Event()

    @staticmethod
    def _children() -> dict[int, list[int]]:
        children: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
        return children

    @staticmethod
    def _rss_kb(pid: int) -> int | None:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    def sample(self) -> None:
        children = self._children()
        for role, root in self.roots.items():
            stack, depth = [(root, 0)], {}
            while stack:
                pid, level = stack.pop()
                depth[pid] = level
                stack.extend((child, level + 1) for child in children.get(pid, []))
            for pid, level in depth.items():
                rss = self._rss_kb(pid)
                if rss is None:
                    continue
                if pid not in self.labels:
                    kind = {"web": ("gunicorn master", "gunicorn worker")}.get(
                        role, ("celery worker (main)", "celery worker (child)")
                    )
                    self.labels[pid] = kind[0] if level == 0 else kind[1]
                self.max_kb[pid] = max(self.max_kb.get(pid, 0), rss)
        self.samples += 1

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.sample()

    def report(self) -> dict[str, Any]:
        processes: list[dict[str, Any]] = [
            {"pid": pid, "process": self.labels[pid], "max_rss_mb": round(kb / 1024, 1)}
            for pid, kb in sorted(self.max_kb.items())
        ]
        peak = max((round(kb / 1024, 1) for kb in self.max_kb.values()), default=None)
        return {
            "interval_s": self.interval,
            "samples": self.samples,
            "processes": processes,
            "max_rss_mb": peak,
            "target_mb": TARGETS["rss_mb"],
            "met": peak is not None and peak < TARGETS["rss_mb"],
        }


# --- the load-generator process --------------------------------------------------------------------


def client_main(spec: dict[str, Any]) -> None:
    """Child process: one loadgen run of one endpoint (request bodies built per request)."""
    from loadgen import run_load

    fx = spec["fixture"]
    kwargs: dict[str, Any] = {}
    if spec["auth"] == "session":
        kwargs["login"] = (fx["email"], fx["password"])
    elif spec["auth"] == "token":
        kwargs["headers"] = {"Authorization": f"Bearer {fx['token']}"}
    else:
        kwargs["client_headers"] = [
            {"Authorization": f"Bearer {token}"} for token in fx["member_tokens"]
        ]
    result = asyncio.run(
        run_load(
            spec["base_url"],
            request=request_factory(spec["kind"], spec["path"], fx),
            concurrency=spec["concurrency"],
            requests=spec.get("requests"),
            duration=spec.get("duration"),
            warmup=spec["warmup"],
            raw=spec.get("raw", False),
            **kwargs,
        )
    )
    print(json.dumps(result))


def load(
    base_url: str,
    endpoint: Endpoint,
    fx: dict[str, Any],
    *,
    concurrency: int,
    requests: int | None = None,
    duration: float | None = None,
    warmup: int = 0,
    raw: bool = False,
) -> dict[str, Any]:
    """Run one loadgen in a separate process; its JSON result."""
    spec = {
        "base_url": base_url,
        "fixture": fx,
        "auth": endpoint.auth,
        "kind": endpoint.kind,
        "path": endpoint.path,
        "concurrency": concurrency,
        "requests": requests,
        "duration": duration,
        "warmup": warmup,
        "raw": raw,
    }
    output = subprocess.run(
        [sys.executable, __file__, "--client", json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
        timeout=3600,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def timer_reset() -> None:
    """No member's timer running: each timer run starts with a start."""
    from solodesk.timetracking.models import RunningTimer

    RunningTimer.objects.filter(user__email__endswith="@bench.example").exclude(
        user__email__startswith="owner"
    ).delete()


# --- busy workers ----------------------------------------------------------------------------------


def busy_workers(base_url: str, fx: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Dashboard at 1 client idle, then while the worker renders PDFs; the send request vs a
    synchronous render."""
    from solodesk.accounts.models import User
    from solodesk.core.models import Job
    from solodesk.invoicing.models import Invoice
    from solodesk.invoicing.pdf import invoice_pdf_render, invoice_pdf_request

    dashboard = Endpoint("dashboard", "dashboard GET /", "session", "get", "/")
    idle = load(base_url, dashboard, fx, concurrency=1, requests=args.requests, warmup=args.warmup)

    owner = User.objects.get(email=fx["email"])
    invoices = list(
        Invoice.objects.filter(workspace_id=fx["workspace_id"])
        .exclude(status="draft")
        .order_by("-pk")[: args.pdfs]
    )
    queued_at = time.perf_counter()
    job_ids = []
    for invoice in invoices:
        job = invoice_pdf_request(invoice=invoice, user=owner)  # commits; sent on commit
        if job is not None:
            job_ids.append(job.pk)
    timings: list[float] = []
    statuses: dict[str, int] = {}
    chunks = 0
    unfinished = Job.objects.filter(pk__in=job_ids, status__in=["queued", "running"])
    deadline = time.monotonic() + args.busy_timeout
    while unfinished.exists() and time.monotonic() < deadline:
        part = load(base_url, dashboard, fx, concurrency=1, duration=args.busy_chunk, raw=True)
        timings += part["timings_ms"]
        for status, n in part["status_counts"].items():
            statuses[status] = statuses.get(status, 0) + n
        chunks += 1
    render_s = time.perf_counter() - queued_at
    done = Job.objects.filter(pk__in=job_ids, status="succeeded").count()
    busy: dict[str, Any] = {"requests": len(timings), "status_counts": statuses}
    if timings:
        busy |= {
            "p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(percentile(timings, 95), 2),
            "p99_ms": round(percentile(timings, 99), 2),
            "mean_ms": round(statistics.fmean(timings), 2),
        }
    ratio = round(busy["p99_ms"] / idle["p99_ms"], 2) if timings and idle.get("p99_ms") else None

    # The send request (queues the e-mail; the worker renders and sends) vs rendering here.
    send_result = load_send(base_url, fx, requests=min(args.requests, 50))
    invoice = Invoice.objects.select_related("workspace", "client", "credited_invoice").get(
        public_id=fx["invoice_id"]
    )
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # a font warning per render
    invoice_pdf_render(invoice=invoice)  # warm: fonts, templates
    renders = []
    for _ in range(5):
        started = time.perf_counter()
        invoice_pdf_render(invoice=invoice)
        renders.append((time.perf_counter() - started) * 1000)
    return {
        "pdfs_queued": len(job_ids),
        "pdfs_rendered": done,
        "render_wall_s": round(render_s, 1),
        "idle_dashboard": idle,
        "busy_dashboard": busy,
        "busy_chunks": chunks,
        "p99_ratio": ratio,
        "target_p99_ratio": TARGETS["busy_p99_ratio"],
        "met": ratio is not None and ratio <= TARGETS["busy_p99_ratio"],
        "send_request": send_result,
        "sync_render_ms": {
            "n": len(renders),
            "p50_ms": round(statistics.median(renders), 1),
            "max_ms": round(max(renders), 1),
        },
        "send_vs_sync_render_p50": round(send_result["p50_ms"] / statistics.median(renders), 3)
        if send_result.get("p50_ms")
        else None,
    }


def load_send(base_url: str, fx: dict[str, Any], *, requests: int) -> dict[str, Any]:
    spec = {
        "base_url": base_url,
        "token": fx["token"],
        "path": f"/api/v1/invoices/{fx['invoice_id']}/send",
        "requests": requests,
    }
    output = subprocess.run(
        [sys.executable, __file__, "--send-client", json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def send_client_main(spec: dict[str, Any]) -> None:
    from loadgen import run_load

    result = asyncio.run(
        run_load(
            spec["base_url"],
            [spec["path"]],
            method="POST",
            body={"to_email": "load@client.example"},
            headers={"Authorization": f"Bearer {spec['token']}"},
            concurrency=1,
            requests=spec["requests"],
            warmup=2,
        )
    )
    print(json.dumps(result))


# --- orchestration ---------------------------------------------------------------------------------


def prepare(scale: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Migrate, seed, analyze; the fixture and the seed's figures."""
    from django.core.management import call_command

    django_setup(migrate=True)
    call_command("createcachetable", verbosity=0)
    seeded = seed_workspace(scale)
    vacuum_analyze()
    fx = fixture(seeded)
    return fx, {k: v for k, v in seeded.items() if k not in ("email", "password")}


def count_only(scale: str) -> None:
    """Child process: a throwaway database at `scale`, its query counts as JSON."""
    with throwaway_database(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL, **_env()) as db:
        os.environ["STATIC_ROOT"] = str(db.tmp / "static")
        (db.tmp / "static").mkdir()
        fx, _ = prepare(scale)
        counts, _ = count_queries(fx)
    print(json.dumps(counts))


def _env() -> dict[str, str]:
    return {
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DEBUG": "false",
        "WEB_CONCURRENCY": "2",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER_URL,
        "CACHE_URL": os.environ.get("CACHE_URL") or DEFAULT_CACHE_URL,
    }


def purge_broker() -> None:
    """Drop messages left in the broker's queues (an interrupted run's PDF jobs)."""
    with suppress(Exception):
        from solodesk.config.celery_app import app

        app.control.purge()


def run(args: argparse.Namespace) -> dict[str, Any]:
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    result: dict[str, Any] = {
        "benchmark": "pages and endpoints through gunicorn (2 processes × 4 threads), "
        "PostgreSQL + Redis, loadgen in a separate process",
        "scale": args.scale,
    }
    with throwaway_database(database_url, **_env()) as db:
        os.environ["STATIC_ROOT"] = str(db.tmp / "static")
        fx, seed_info = prepare(args.scale)
        from django.core.management import call_command
        from django.db import connection

        call_command("collectstatic", interactive=False, verbosity=0)
        purge_broker()
        result |= {
            "database": db.vendor,
            "database_version": database_version(),
            "broker": os.environ["CELERY_BROKER_URL"],
            "cache": os.environ["CACHE_URL"],
            "seed": seed_info,
        }
        print(f"http_load: seeded {args.scale} in {seed_info['seconds']} s", flush=True)

        counts, selects = count_queries(fx)
        explain_path = RESULTS / "http_load-explain.txt"
        result["heaviest_queries"] = explain_heaviest(selects, explain_path)
        if db.vendor == "postgresql":
            result["explain"] = str(
                explain_path.relative_to(ROOT)
                if explain_path.is_relative_to(ROOT)
                else explain_path
            )
        small = counts if args.scale == "small" else small_counts_in_child(database_url)
        result["query_counts"] = {
            name: {
                "small": small.get(name, {}).get("queries"),
                "at_scale": value["queries"],  # at result["scale"]
                "equal": small.get(name, {}).get("queries") == value["queries"],
                "status": value["status"],
            }
            for name, value in counts.items()
        }
        connection.close()

        from solodesk.cli import WORKER_NICENESS

        result["worker_concurrency"] = args.worker_concurrency
        result["worker_niceness"] = WORKER_NICENESS
        result["load_average_before"] = load_average()
        with servers(db.tmp, args.worker_concurrency) as (base_url, pids):
            sampler = MemorySampler(pids)
            sampler.sample()
            sampler.start()
            try:
                runs: dict[str, Any] = {}
                for endpoint in endpoints(fx):
                    runs[endpoint.name] = {"label": endpoint.label, "path": endpoint.path}
                    for concurrency in args.concurrency:
                        if endpoint.kind == "timer":
                            timer_reset()
                        print(f"http_load: {endpoint.name} × {concurrency}", flush=True)
                        measured = runs[endpoint.name][str(concurrency)] = load(
                            base_url,
                            endpoint,
                            fx,
                            concurrency=concurrency,
                            requests=args.requests,
                            warmup=args.warmup,
                        )
                        if concurrency == 1 and endpoint.kind == "get" and args.in_process:
                            measured["in_process"] = in_process(fx, endpoint, args.in_process)
                        if any(s[:1] not in "23" for s in measured["status_counts"]):
                            log = (db.tmp / "gunicorn.log").read_text(errors="replace")
                            errors = [line for line in log.splitlines() if " 200 " not in line]
                            print("\n".join(errors[-40:]), file=sys.stderr, flush=True)
                if reports_path() is None:
                    runs["yearly_report"] = {"label": "yearly report", "status": "not built"}
                result["endpoints"] = runs
                if args.pdfs:
                    print("http_load: busy workers", flush=True)
                    result["busy_workers"] = busy_workers(base_url, fx, args)
            finally:
                sampler.done.set()
                sampler.join(timeout=5)
                result["memory"] = sampler.report()
        purge_broker()
        result["load_average_after"] = load_average()
    result["targets"] = TARGETS
    result |= machine_info()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["small", "medium", "large"], default="large")
    parser.add_argument("--requests", type=int, default=300, help="per endpoint and concurrency")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--concurrency",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 8],
        help="comma-separated client counts (default 1,8)",
    )
    parser.add_argument(
        "--in-process",
        type=int,
        default=100,
        help="after each GET's 1-client run, the same GET this many times in process (0: skip)",
    )
    parser.add_argument("--pdfs", type=int, default=1000, help="PDFs for the busy run (0: skip)")
    parser.add_argument("--busy-chunk", type=float, default=5.0, help=argparse.SUPPRESS)
    parser.add_argument("--busy-timeout", type=float, default=900.0, help=argparse.SUPPRESS)
    from solodesk.cli import RUN_WORKER_CONCURRENCY  # as `solodesk run`

    parser.add_argument("--worker-concurrency", type=int, default=RUN_WORKER_CONCURRENCY)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--send-client", help=argparse.SUPPRESS)
    parser.add_argument("--count-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(json.loads(args.client))
        return
    if args.send_client:
        send_client_main(json.loads(args.send_client))
        return

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # unwinds through the finally blocks: stop, drop, clean

    signal.signal(signal.SIGTERM, terminate)
    if args.count_only:
        count_only(args.count_only)
        return
    result = run(args)
    write_result(f"http_load-{result['database']}", result)


if __name__ == "__main__":
    main()
