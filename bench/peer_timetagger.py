"""Solodesk side by side with TimeTagger, an open-source Python time tracker, on the same
machine in the same run: create N time records through each API, one record per request,
then fetch one month (~1,000 records at N = 10,000) completely, repeatedly.

How to run it (from the project root):

    .venv/bin/python bench/peer_timetagger.py                        # SQLite and PostgreSQL
    .venv/bin/python bench/peer_timetagger.py --databases sqlite --records 500   # a trial

PostgreSQL comes from DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres);
the script creates a throwaway database `solodesk_bench_<random>` there and drops it at the
end; SQLite (the embedded default) runs in a file under a temporary folder.

What it does, for each database in turn (each in its own process):

1. TimeTagger 26.1.3 lives in its own virtualenv, var/bench/timetagger-venv (git-ignored;
   made with `python -m venv` and `pip install timetagger==26.1.3` on the first run, reused
   after). It runs as its README says, `python -m timetagger` (uvicorn, one process), on a
   free 127.0.0.1 port with its own data folder, in local-auth mode: bound to 127.0.0.1, a
   client gets a web token from POST /timetagger/api/v2/bootstrap_authentication with
   base64 JSON {"method": "localhost"} and sends it in the `authtoken` header.
2. Solodesk: a throwaway database, migrated; a user, a workspace (time zone UTC), a client,
   a project and an API token; gunicorn started exactly as `solodesk web` does (production
   settings, 2 processes × 4 threads, access log on).
3. A load generator in a separate process (bench/loadgen.py's `run_load`, a closed loop of
   `--concurrency` asyncio httpx clients) creates the same N records on each side, one per
   request: TimeTagger `PUT /api/v2/records` with a one-record list, Solodesk
   `POST /api/v1/time-entries` with project, start, end and description. The records lie in
   working hours (08:00-18:00 UTC) over the last ~10 months (304 days), so one calendar
   month holds ~N/10 and none crosses midnight.
4. Both sides are checked: each stored N records, and the month returns the same number of
   records on both.
5. Month list, at 1 client and at `--concurrency` clients: the unit is "the previous
   calendar month fetched completely". TimeTagger returns it in one request
   (`GET /api/v2/records?timerange=t1-t2`); Solodesk's API paginates (at most 2,000 per page,
   timetracking.api.TIME_ENTRY_PAGE_MAX), so the client follows the pages one after another
   (`?date_from=…&date_to=…&limit=2000&offset=…`: one page for a month of ~1,000 records).
   Reported: months/s and p50 per month, and per HTTP request (requests/s, p50).
6. For information only (not like for like): TimeTagger's PUT takes a list, so the same N
   records are also created in batches of `--batch-size` on a fresh TimeTagger; Solodesk's
   API has no batch create.
7. In-process (Django test client, after the HTTP runs): the queries of one create and of
   one month page, and where the time of a create goes (SQL vs the rest).
8. Where the machine's CPU went in each run, per request (create) or per month (the
   warm-up's months included): the CPU seconds of TimeTagger's process, of gunicorn's
   (master and workers), of PostgreSQL's processes (Solodesk's database on that run) and of
   the load generator, read from /proc before and after (`cpu_ms_per_request`,
   `cpu_ms_per_month`). Both servers share 2 cores with the load generator, which parses
   every response (Solodesk's items have 15 fields, TimeTagger's records 6).

Ratios are Solodesk over TimeTagger for throughput and TimeTagger over Solodesk for p50:
above 1 means Solodesk is faster. The target (issue 6) is a throughput ratio of at least 2 on
both the create and the month-list runs. Results: bench/results/peer_timetagger.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import calendar
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    ROOT,
    QueryCounter,
    database_version,
    django_setup,
    load_average,
    machine_info,
    processes_cpu,
    stats_ms,
    throwaway_database,
    write_result,
)

TIMETAGGER_VERSION = "26.1.3"
TIMETAGGER_VENV = ROOT / "var" / "bench" / "timetagger-venv"
TIMETAGGER_PREFIX = "/timetagger/api/v2"
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
SPAN_DAYS = 304  # ~10 months: one month holds ~records / 10
WORKDAY_START_HOUR = 8
WORKDAY_HOURS = 10
PAGE_LIMIT = 2000  # timetracking.api.TIME_ENTRY_PAGE_MAX
TARGET_RATIO = 2.0
EMAIL = "owner@peer.example"


# --- TimeTagger: its virtualenv and its server ---------------------------------------------


def timetagger_python() -> Path:
    """The virtualenv's interpreter, with timetagger==TIMETAGGER_VERSION installed (made on
    the first run, reused after)."""
    python = TIMETAGGER_VENV / "bin" / "python"
    if python.exists():
        found = subprocess.run(
            [str(python), "-c", "import timetagger; print(timetagger.__version__)"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if found == TIMETAGGER_VERSION:
            return python
        shutil.rmtree(TIMETAGGER_VENV)
    print(f"Creating {TIMETAGGER_VENV.relative_to(ROOT)} (timetagger {TIMETAGGER_VERSION}) ...")
    TIMETAGGER_VENV.parent.mkdir(parents=True, exist_ok=True)
    # The base interpreter, not this virtualenv's: TimeTagger must not see Solodesk's packages.
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(TIMETAGGER_VENV)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"timetagger=={TIMETAGGER_VERSION}",
        ],
        check=True,
    )
    return python


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up:\n" + log.read_text()[-3000:])
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def timetagger_start(python: Path, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m timetagger` on a free loopback port with its data under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "TIMETAGGER_BIND": f"127.0.0.1:{port}",
        "TIMETAGGER_DATADIR": str(folder / "data"),
        "TIMETAGGER_LOG_LEVEL": "warning",
    }
    log = folder / "timetagger.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(python), "-m", "timetagger"],
            env=env,
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    _wait_http(f"{base_url}/timetagger/status", process, log)
    return process, base_url


# --- Solodesk: the fixture and gunicorn ------------------------------------------------------


def solodesk_fixture() -> dict[str, str]:
    """A user, a workspace in UTC, a client, a project and an API token."""
    from django.db import transaction

    from solodesk.accounts.models import Membership, User, Workspace
    from solodesk.accounts.services import api_token_create
    from solodesk.clients.models import Client
    from solodesk.projects.models import Project

    with transaction.atomic():
        workspace = Workspace.objects.create(name="Peer Studio", time_zone="UTC")
        user = User.objects.create_user(email=EMAIL, password=None)
        Membership.objects.create(workspace=workspace, user=user, role="owner")
        client = Client.objects.create(
            workspace=workspace, name="Peer Client", email="billing@peer.example", currency="EUR"
        )
        project = Project.objects.create(workspace=workspace, client=client, name="Peer Project")
        _, raw_token = api_token_create(workspace=workspace, user=user, name="bench")
    return {"token": raw_token, "project_id": str(project.public_id)}


def gunicorn_start(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """gunicorn as `solodesk web` runs it (2 processes × 4 threads)."""
    from solodesk.cli import web_command

    log = folder / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            web_command("127.0.0.1", 0, 2, 4),
            env=os.environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not start:\n" + log.read_text()[-3000:])
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text())
        if found:
            break
        time.sleep(0.2)
    base_url = f"http://127.0.0.1:{found.group(1)}"
    _wait_http(f"{base_url}/api/v1/timer", process, log)
    time.sleep(1.0)  # let the second process boot too
    return process, base_url


# --- the records and the month -----------------------------------------------------------------


def record_spans(records: int, today: dt.date) -> list[tuple[int, int]]:
    """(start, end) as Unix seconds in UTC for each record: SPAN_DAYS days ending
    yesterday, the day's records side by side in working hours."""
    per_day = -(-records // SPAN_DAYS)
    slot = WORKDAY_HOURS * 3600 // per_day
    first_day = today - dt.timedelta(days=SPAN_DAYS)
    spans = []
    previous, position = -1, 0
    for index in range(records):
        offset = index * SPAN_DAYS // records
        position = position + 1 if offset == previous else 0
        previous = offset
        day = first_day + dt.timedelta(days=offset)
        start = calendar.timegm(day.timetuple()) + WORKDAY_START_HOUR * 3600 + position * slot
        spans.append((start, start + max(60, slot * 4 // 5)))
    return spans


def previous_month(today: dt.date) -> tuple[dt.date, dt.date]:
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


# --- the load generator (its own process) ----------------------------------------------------


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()


async def _timetagger_token(base_url: str) -> str:
    import httpx

    body = base64.b64encode(json.dumps({"method": "localhost"}).encode())
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.post(f"{TIMETAGGER_PREFIX}/bootstrap_authentication", content=body)
        response.raise_for_status()
        return str(response.json()["token"])


class Side:
    """How one peer is asked for a month, and how many records it holds."""

    name = ""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self.base_url = base_url
        self.headers = headers

    async def fetch_month(self, http: Any, timings: list[float]) -> int:
        raise NotImplementedError


class TimeTaggerSide(Side):
    name = "timetagger"

    def __init__(self, base_url: str, headers: dict[str, str], month: tuple[int, int]) -> None:
        super().__init__(base_url, headers)
        self.month_path = f"{TIMETAGGER_PREFIX}/records?timerange={month[0]}-{month[1]}"

    async def fetch_month(self, http: Any, timings: list[float]) -> int:
        started = time.perf_counter()
        response = await http.get(self.month_path)
        data = response.json()
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        return len(data["records"])

    async def count_all(self, http: Any) -> int:
        response = await http.get(f"{TIMETAGGER_PREFIX}/records?timerange=0-4102444800")
        response.raise_for_status()
        return len(response.json()["records"])


class SolodeskSide(Side):
    name = "solodesk"

    def __init__(self, base_url: str, headers: dict[str, str], month: tuple[str, str]) -> None:
        super().__init__(base_url, headers)
        self.month_path = (
            f"/api/v1/time-entries?date_from={month[0]}&date_to={month[1]}&limit={PAGE_LIMIT}"
        )

    async def fetch_month(self, http: Any, timings: list[float]) -> int:
        """Follow the pages one after another, as a client that wants the whole month."""
        received = 0
        offset = 0
        while True:
            started = time.perf_counter()
            response = await http.get(f"{self.month_path}&offset={offset}")
            data = response.json()
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            received += len(data["items"])
            offset += PAGE_LIMIT
            # Until a page comes back short, as the API says: past 1,000 rows `count` is
            # only a lower bound (`count_is_capped`).
            if len(data["items"]) < PAGE_LIMIT:
                return received

    async def count_all(self, http: Any) -> int:
        """Every record, counted page by page (the list's `count` stops 1,000 rows past
        the offset: `count_is_capped`)."""
        stored, offset = 0, 0
        while True:
            response = await http.get(f"/api/v1/time-entries?limit={PAGE_LIMIT}&offset={offset}")
            response.raise_for_status()
            items = response.json()["items"]
            stored += len(items)
            offset += PAGE_LIMIT
            if len(items) < PAGE_LIMIT:
                return stored


async def month_load(side: Side, *, concurrency: int, months: int, warmup: int) -> dict[str, Any]:
    """`concurrency` clients, each fetching the month completely again and again, until
    `months` complete months have been measured."""
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=side.base_url, headers=side.headers, timeout=60, limits=limits
    ) as http:
        warm: list[float] = []
        counts: set[int] = set()
        for _ in range(warmup):
            counts.add(await side.fetch_month(http, warm))
        month_ms: list[float] = []
        request_ms: list[float] = []
        remaining = months

        async def client() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                counts.add(await side.fetch_month(http, request_ms))
                month_ms.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    if len(counts) != 1:
        raise RuntimeError(f"{side.name}: the month came back with {sorted(counts)} records")
    month = stats_ms(month_ms, percentiles=(95, 99))
    request = stats_ms(request_ms, percentiles=(95, 99))
    return {
        "concurrency": concurrency,
        "months": len(month_ms),
        "records_per_month": counts.pop(),
        "requests_per_month": round(len(request_ms) / len(month_ms), 2),
        "months_per_s": round(len(month_ms) / wall, 2),
        "month_p50_ms": month["p50_ms"],
        "month_p95_ms": month["p95_ms"],
        "month_p99_ms": month["p99_ms"],
        "month_mean_ms": month["mean_ms"],
        "requests": len(request_ms),
        "requests_per_s": round(len(request_ms) / wall, 1),
        "request_p50_ms": request["p50_ms"],
        "request_p95_ms": request["p95_ms"],
    }


async def client_main(spec: dict[str, Any]) -> dict[str, Any]:
    import httpx
    from loadgen import run_load

    concurrency = spec["concurrency"]
    spans = [tuple(span) for span in spec["spans"]]
    now = int(time.time())
    result: dict[str, Any] = {}

    if spec["mode"] == "batched":
        tt_headers = {"authtoken": await _timetagger_token(spec["timetagger_url"])}
        size = spec["batch_size"]
        batches = -(-len(spans) // size)

        def tt_batch(i: int) -> tuple[str, str, Any]:
            chunk = spans[i * size : (i + 1) * size]
            return (
                "PUT",
                f"{TIMETAGGER_PREFIX}/records",
                [
                    {
                        "key": f"b{i * size + j:09d}",
                        "mt": now,
                        "t1": t1,
                        "t2": t2,
                        "ds": f"Work item {i * size + j} #peer",
                    }
                    for j, (t1, t2) in enumerate(chunk)
                ],
            )

        load = await run_load(
            spec["timetagger_url"],
            request=tt_batch,
            headers=tt_headers,
            concurrency=concurrency,
            requests=batches,
        )
        async with httpx.AsyncClient(
            base_url=spec["timetagger_url"], headers=tt_headers, timeout=120
        ) as http:
            stored = await TimeTaggerSide(spec["timetagger_url"], tt_headers, (0, 0)).count_all(
                http
            )
        wall = load["requests"] / load["rps"] if load["rps"] else 0
        return {
            "batch_size": size,
            **load,
            "records_per_s": round(len(spans) / wall, 1) if wall else None,
            "records_stored": stored,
        }

    tt_headers = {"authtoken": await _timetagger_token(spec["timetagger_url"])}
    sd_headers = {"Authorization": f"Bearer {spec['token']}"}
    project_id = spec["project_id"]

    def tt_create(i: int) -> tuple[str, str, Any]:
        t1, t2 = spans[i]
        record = {"key": f"r{i:09d}", "mt": now, "t1": t1, "t2": t2, "ds": f"Work item {i} #peer"}
        return "PUT", f"{TIMETAGGER_PREFIX}/records", [record]

    def sd_create(i: int) -> tuple[str, str, Any]:
        t1, t2 = spans[i]
        body = {
            "project_id": project_id,
            "started_at": _iso(t1),
            "ended_at": _iso(t2),
            "description": f"Work item {i}",
        }
        return "POST", "/api/v1/time-entries", body

    # Where the machine's CPU goes in each run: the servers' process trees, PostgreSQL's
    # (Solodesk's database, when it is the one), and this load generator.
    processes = {**spec["processes"], "load_generator": os.getpid()}

    def cpu_ms(before: dict[str, float], units: int) -> dict[str, float]:
        after = processes_cpu(processes)
        return {name: round(1000 * (after[name] - before[name]) / units, 3) for name in after}

    # 1. Create: every record once on each side (no warm-up: it would create records too).
    creates: dict[str, Any] = {}
    for name, url, headers, factory in (
        ("timetagger", spec["timetagger_url"], tt_headers, tt_create),
        ("solodesk", spec["solodesk_url"], sd_headers, sd_create),
    ):
        creates[name] = {"load_average_before": load_average()}
        before = processes_cpu(processes)
        creates[name].update(
            await run_load(
                url, request=factory, headers=headers, concurrency=concurrency, requests=len(spans)
            )
        )
        creates[name]["cpu_ms_per_request"] = cpu_ms(before, len(spans))
    result["create"] = creates

    # 2. Both stored every record; the month holds the same records on both sides.
    month_start, month_end = spec["month"]
    start_ts = calendar.timegm(dt.date.fromisoformat(month_start).timetuple())
    end_ts = calendar.timegm(dt.date.fromisoformat(month_end).timetuple()) + 86400 - 1
    timetagger = TimeTaggerSide(spec["timetagger_url"], tt_headers, (start_ts, end_ts))
    solodesk = SolodeskSide(spec["solodesk_url"], sd_headers, (month_start, month_end))
    expected_month = sum(1 for t1, _ in spans if start_ts <= t1 <= end_ts)
    sides: dict[str, dict[str, int]] = {}
    for side in (timetagger, solodesk):
        async with httpx.AsyncClient(
            base_url=side.base_url, headers=side.headers, timeout=120
        ) as http:
            sides[side.name] = {
                "records_stored": await side.count_all(http),
                "month_records": await side.fetch_month(http, []),
            }
    result["check"] = {
        "records_sent": len(spans),
        "month_records_expected": expected_month,
        **sides,
    }

    # 3. The month, fetched completely: at 1 client (latency), then at `concurrency`.
    months: dict[str, Any] = {}
    for clients, count in ((1, spec["month_fetches_single"]), (concurrency, spec["month_fetches"])):
        runs = {}
        for side in (timetagger, solodesk):
            runs[side.name] = {"load_average_before": load_average()}
            before = processes_cpu(processes)
            runs[side.name].update(
                await month_load(
                    side, concurrency=clients, months=count, warmup=spec["month_warmup"]
                )
            )
            # Per month, the warm-up's included (a few months; the same on both sides).
            runs[side.name]["cpu_ms_per_month"] = cpu_ms(before, count + spec["month_warmup"])
        months[f"concurrency_{clients}"] = runs
    result["month_list"] = months
    return result


def run_client(spec: dict[str, Any], folder: Path) -> dict[str, Any]:
    path = folder / f"client-{spec['mode']}.json"
    path.write_text(json.dumps(spec))
    completed = subprocess.run(
        [sys.executable, __file__, "--client", str(path)],
        capture_output=True,
        text=True,
        timeout=7200,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{completed.stderr[-4000:]}")
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


# --- in-process: where the time goes ----------------------------------------------------------

# (label, file suffix, function): cumulative time of these under cProfile, as a share of the
# request. They overlap (the service contains the upsert; SQL compiling is inside the
# selectors): each share says how much would go if that part cost nothing.
BREAKDOWN = {
    "create": [
        (
            "token authentication (api_token_authenticate)",
            "accounts/selectors.py",
            "api_token_authenticate",
        ),
        ("project lookup (project_get)", "projects/selectors.py", "project_get"),
        ("service time_entry_create", "timetracking/services.py", "time_entry_create"),
        (
            "daily (and monthly) totals upserts (time_entry_days_apply)",
            "timetracking/services.py",
            "time_entry_days_apply",
        ),
        (
            "response: the new entry's tags (resolve_tags, a query; gone since the JSON)",
            "timetracking/api.py",
            "resolve_tags",
        ),
        ("response: serialization (ninja)", "ninja/operation.py", "_result_to_response"),
        (
            "response: JSON without the schema (_time_entry_json)",
            "timetracking/api.py",
            "_time_entry_json",
        ),
        ("ORM: compiling SQL (all queries)", "django/db/models/sql/compiler.py", "as_sql"),
        ("database: executing SQL (all queries)", "django/db/backends/utils.py", "_execute"),
    ],
    "month_page": [
        (
            "token authentication (api_token_authenticate)",
            "accounts/selectors.py",
            "api_token_authenticate",
        ),
        ("ORM: model instances from rows (from_db)", "django/db/models/base.py", "from_db"),
        ("ORM: tags prefetch", "django/db/models/query.py", "prefetch_related_objects"),
        (
            "plain-rows page (TimeEntryRows, before the JSON rows)",
            "timetracking/selectors.py",
            "__getitem__",
        ),
        ("JSON page (TimeEntryRows.json_page)", "timetracking/selectors.py", "json_page"),
        (
            "response: JSON bytes (pydantic_core.to_json)",
            "~",
            "<built-in method pydantic_core._pydantic_core.to_json>",
        ),
        ("COUNT for the paginator", "django/db/models/query.py", "count"),
        (
            "response: serialization (ninja schema, resolvers)",
            "ninja/operation.py",
            "_result_to_response",
        ),
        ("ORM: compiling SQL (all queries)", "django/db/models/sql/compiler.py", "as_sql"),
        ("database: executing SQL (all queries)", "django/db/backends/utils.py", "_execute"),
    ],
}


class _TimedQueries(QueryCounter):
    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0
        self.sql: list[str] = []

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return super().__call__(execute, sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.sql.append(" ".join(str(sql).split())[:140])


def in_process_profile(spec: dict[str, Any], samples: int) -> dict[str, Any]:
    """Through Django's test client (no HTTP server): the queries of one create and of one
    month page, their time with SQL apart, where the time goes (cProfile), and the month
    built from plain rows (`values_list` + json.dumps) as the floor of what the ORM can do."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test import Client

    headers = {"HTTP_AUTHORIZATION": f"Bearer {spec['token']}"}
    client = Client()
    month_start, month_end = spec["month"]
    page = f"/api/v1/time-entries?date_from={month_start}&date_to={month_end}&limit={PAGE_LIMIT}"
    base = dt.datetime(2000, 1, 3, 8, tzinfo=dt.UTC)  # far from the measured month
    made = 0

    def call(kind: str, offset: int = 0) -> Any:
        nonlocal made
        if kind == "create":
            begin = base + dt.timedelta(hours=made)
            made += 1
            response = client.post(
                "/api/v1/time-entries",
                data={
                    "project_id": spec["project_id"],
                    "started_at": begin.isoformat(),
                    "ended_at": (begin + dt.timedelta(minutes=30)).isoformat(),
                    "description": f"Profile {made}",
                },
                content_type="application/json",
                **headers,  # type: ignore[arg-type]
            )
            assert response.status_code == 201, response.content[:300]
        else:
            response = client.get(f"{page}&offset={offset}", **headers)  # type: ignore[arg-type]
            assert response.status_code == 200, response.content[:300]
        return response

    result: dict[str, Any] = {}
    for kind in ("create", "month_page"):
        counter = _TimedQueries()
        with connection.execute_wrapper(counter):
            call(kind)  # warms caches; its queries are listed
        timings, sql = [], []
        for _ in range(samples):
            counter = _TimedQueries()
            with connection.execute_wrapper(counter):
                started = time.perf_counter()
                response = call(kind)
                timings.append((time.perf_counter() - started) * 1000)
            sql.append(counter.seconds * 1000)
        profiler = cProfile.Profile()
        profiler.enable()
        started = time.perf_counter()
        for _ in range(samples):
            call(kind)
        total = time.perf_counter() - started
        profiler.disable()
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        shares = {}
        for label, suffix, function in BREAKDOWN[kind]:
            seconds = sum(
                value[3]
                for (filename, _, name), value in stats.items()
                if name == function and filename.endswith(suffix)
            )
            shares[label] = round(100 * seconds / total, 1)
        result[kind] = {
            "queries": counter.count,
            "query_list": counter.sql,
            "samples": samples,
            "response_bytes": len(response.content),
            "total_p50_ms": round(statistics.median(timings), 2),
            "sql_p50_ms": round(statistics.median(sql), 2),
            "python_p50_ms": round(
                statistics.median(t - s for t, s in zip(timings, sql, strict=True)), 2
            ),
            "share_of_request_percent_under_cprofile": shares,
        }

    # The whole month: as shipped (the pages one after another) vs plain rows.
    started = time.perf_counter()
    offset, shipped_records = 0, 0
    while True:
        data = call("month_page", offset).json()
        shipped_records += len(data["items"])
        offset += PAGE_LIMIT
        if len(data["items"]) < PAGE_LIMIT:  # `count` is a lower bound past 1,000
            break
    shipped_ms = (time.perf_counter() - started) * 1000
    floor_ms, floor_records = month_rows_floor(month_start, month_end)
    result["month_whole"] = {
        "records": shipped_records,
        "shipped_pages_ms": round(shipped_ms, 1),
        "plain_rows_one_query_ms": round(floor_ms, 1),
        "plain_rows_records": floor_records,
        "note": (
            "plain rows: the same fields with values_list (one join query), the tags in one "
            "more query, json.dumps; no model instances, no schema, no HTTP"
        ),
    }
    return result


def month_rows_floor(month_start: str, month_end: str) -> tuple[float, int]:
    """The month's entries as JSON from plain rows: what the ORM can do without model
    instances and schema validation."""
    from solodesk.timetracking.models import TimeEntry

    start = dt.datetime.combine(dt.date.fromisoformat(month_start), dt.time.min, dt.UTC)
    end = dt.datetime.combine(dt.date.fromisoformat(month_end), dt.time.min, dt.UTC)
    end += dt.timedelta(days=1)
    # The same columns as the shipped list's rows (timetracking.selectors).
    from solodesk.timetracking.selectors import _ROW_FIELDS as fields

    started = time.perf_counter()
    rows = list(
        TimeEntry.objects.filter(started_at__gte=start, started_at__lt=end)
        .order_by("-started_at", "-pk")
        .values_list(*fields)
    )
    tags: dict[int, list[str]] = {}
    for entry_id, name in TimeEntry.tags.through.objects.filter(
        timeentry_id__in=[row[0] for row in rows]
    ).values_list("timeentry_id", "tag__name"):
        tags.setdefault(entry_id, []).append(name)
    names = [
        "id",
        "project_id",
        "project_name",
        "client_id",
        "client_name",
        "user_email",
        "started_at",
        "ended_at",
        "duration_seconds",
        "description",
        "billable",
        "invoiced",
        "created_at",
        "updated_at",
    ]
    items = []
    for row in rows:
        item = dict(zip(names, row[1:], strict=True))
        item["invoiced"] = item["invoiced"] is not None
        item["tags"] = tags.get(row[0], [])
        items.append(item)
    json.dumps({"items": items, "count": len(items)}, default=str)
    return (time.perf_counter() - started) * 1000, len(items)


# --- one database: both servers, the load, the checks ---------------------------------------


def vendor_run(vendor: str, args: argparse.Namespace) -> dict[str, Any]:
    python = timetagger_python()
    url = (os.environ.get("DATABASE_URL") or DEFAULT_POSTGRES) if vendor == "postgresql" else ""
    os.environ.pop("CACHE_URL", None)  # the default: a database table, as `solodesk run`
    with throwaway_database(
        url,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DEBUG="false",
        WEB_CONCURRENCY="2",
    ) as throwaway:
        os.environ["STATIC_ROOT"] = str(throwaway.tmp / "static")
        (throwaway.tmp / "static").mkdir()  # API only: no collectstatic, no WhiteNoise warning
        django_setup(migrate=True)
        from django.core.management import call_command
        from django.db import connections

        call_command("createcachetable", verbosity=0)
        fixture = solodesk_fixture()
        versions = {"database_version": database_version()}
        connections.close_all()

        today = dt.datetime.now(dt.UTC).date()
        month = previous_month(today)
        spec: dict[str, Any] = {
            "mode": "main",
            "spans": record_spans(args.records, today),
            "month": [month[0].isoformat(), month[1].isoformat()],
            "concurrency": args.concurrency,
            "month_fetches": args.month_fetches,
            "month_fetches_single": args.month_fetches_single,
            "month_warmup": 3,
            **fixture,
        }
        gunicorn, solodesk_url = gunicorn_start(throwaway.tmp)
        timetagger, timetagger_url = timetagger_start(python, throwaway.tmp / "timetagger")
        try:
            spec.update(solodesk_url=solodesk_url, timetagger_url=timetagger_url)
            spec["processes"] = {"solodesk": gunicorn.pid, "timetagger": timetagger.pid}
            if vendor == "postgresql":
                spec["processes"]["postgresql"] = "postgres"
            measured = run_client(spec, throwaway.tmp)
        finally:
            _stop(gunicorn)
            _stop(timetagger)

        # The database itself, not only the API, holds every record.
        from solodesk.timetracking.models import TimeEntry

        measured["check"]["solodesk"]["rows_in_database"] = TimeEntry.objects.count()
        check = measured["check"]
        problems = [
            f"{name} stored {check[name]['records_stored']} of {check['records_sent']}"
            for name in ("timetagger", "solodesk")
            if check[name]["records_stored"] != check["records_sent"]
        ]
        months = {check[name]["month_records"] for name in ("timetagger", "solodesk")}
        if months != {check["month_records_expected"]}:
            problems.append(f"month records differ: {check}")
        check["ok"] = not problems
        if problems:
            raise RuntimeError("; ".join(problems))

        batched = None
        if args.batch_size:
            timetagger, timetagger_url = timetagger_start(
                python, throwaway.tmp / "timetagger-batched"
            )
            try:
                batched = run_client(
                    {
                        **spec,
                        "mode": "batched",
                        "batch_size": args.batch_size,
                        "timetagger_url": timetagger_url,
                    },
                    throwaway.tmp,
                )
            finally:
                _stop(timetagger)
        profile = in_process_profile(spec, args.profile_samples)
        connections.close_all()
    return {
        "database": vendor,
        **versions,
        "records": args.records,
        "month": spec["month"],
        **measured,
        "timetagger_batched_create": batched,
        "solodesk_in_process": profile,
    }


def summarize(runs: dict[str, dict[str, Any]], concurrency: int) -> list[dict[str, Any]]:
    """One row per database and run: requests/s and p50 of each side, and the ratios."""
    rows = []
    for vendor, run in runs.items():
        create = run["create"]
        month = run["month_list"][f"concurrency_{concurrency}"]
        single = run["month_list"]["concurrency_1"]
        candidates = [
            (
                f"create, one record per request, {concurrency} clients",
                create["solodesk"]["rps"],
                create["timetagger"]["rps"],
                create["solodesk"]["p50_ms"],
                create["timetagger"]["p50_ms"],
                "requests/s",
            ),
            (
                f"month fetched completely, {concurrency} clients",
                month["solodesk"]["months_per_s"],
                month["timetagger"]["months_per_s"],
                month["solodesk"]["month_p50_ms"],
                month["timetagger"]["month_p50_ms"],
                "months/s",
            ),
            (
                "month fetched completely, 1 client",
                single["solodesk"]["months_per_s"],
                single["timetagger"]["months_per_s"],
                single["solodesk"]["month_p50_ms"],
                single["timetagger"]["month_p50_ms"],
                "months/s",
            ),
            (
                f"month list, single request, {concurrency} clients",
                month["solodesk"]["requests_per_s"],
                month["timetagger"]["requests_per_s"],
                month["solodesk"]["request_p50_ms"],
                month["timetagger"]["request_p50_ms"],
                "requests/s",
            ),
        ]
        for index, (label, sd_rate, tt_rate, sd_p50, tt_p50, unit) in enumerate(candidates):
            ratio = round(sd_rate / tt_rate, 2) if tt_rate else None
            targeted = index < 2  # the two runs issue 6 sets the target on
            rows.append(
                {
                    "database": vendor,
                    "run": label,
                    "unit": unit,
                    "solodesk_rate": sd_rate,
                    "timetagger_rate": tt_rate,
                    "rate_ratio_solodesk_over_timetagger": ratio,
                    "solodesk_p50_ms": sd_p50,
                    "timetagger_p50_ms": tt_p50,
                    "p50_ratio_timetagger_over_solodesk": round(tt_p50 / sd_p50, 2)
                    if sd_p50
                    else None,
                    "target_rate_ratio": TARGET_RATIO if targeted else None,
                    "target_met": (ratio is not None and ratio >= TARGET_RATIO)
                    if targeted
                    else None,
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--databases", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--month-fetches", type=int, default=120, help="at --concurrency")
    parser.add_argument("--month-fetches-single", type=int, default=30, help="at 1 client")
    parser.add_argument("--batch-size", type=int, default=100, help="0: no batched run")
    parser.add_argument("--profile-samples", type=int, default=30)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--vendor-run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(asyncio.run(client_main(json.loads(Path(args.client).read_text())))))
        return
    if args.vendor_run:
        print(json.dumps(vendor_run(args.vendor_run, args)))
        return

    timetagger_python()  # made once, before the runs
    load_before = load_average()
    runs: dict[str, dict[str, Any]] = {}
    for vendor in args.databases:
        print(f"{vendor}: {args.records} records on each side ...", flush=True)
        command = [sys.executable, __file__, "--vendor-run", vendor]
        for option in (
            "records",
            "concurrency",
            "month_fetches",
            "month_fetches_single",
            "batch_size",
            "profile_samples",
        ):
            command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
        with tempfile.TemporaryFile("w+") as out:
            completed = subprocess.run(command, stdout=out, text=True)
            out.seek(0)
            output = out.read()
        if completed.returncode != 0:
            raise SystemExit(f"{vendor}: the run failed (exit {completed.returncode})")
        runs[vendor] = json.loads(output.strip().splitlines()[-1])
    result = {
        "benchmark": "peer_timetagger",
        "description": (
            "Solodesk vs TimeTagger on the same machine in the same run: create N time "
            "records through each API, one per request, then fetch one calendar month "
            "completely, repeatedly (Solodesk follows its pages of up to 2,000). Ratios above 1 "
            "mean Solodesk is faster; the target is a rate ratio of at least 2 for the create and "
            "the month-list runs. timetagger_batched_create is information only."
        ),
        "setup": {
            "timetagger": (
                f"timetagger {TIMETAGGER_VERSION}, `python -m timetagger` (uvicorn, 1 "
                "process, SQLite per user via itemdb), own virtualenv, local-auth "
                "(localhost) web token"
            ),
            "solodesk": (
                "gunicorn as `solodesk web`: production settings, 2 processes x 4 threads "
                "(gthread), access log on, bearer API token"
            ),
            "load_generator": (
                "bench/loadgen.py run_load (closed loop, asyncio httpx) in a separate process"
            ),
            "records": args.records,
            "concurrency": args.concurrency,
            "span_days": SPAN_DAYS,
            "solodesk_page_limit": PAGE_LIMIT,
            "month_fetches": args.month_fetches,
            "month_fetches_single_client": args.month_fetches_single,
            "timetagger_batch_size": args.batch_size,
        },
        "summary": summarize(runs, args.concurrency),
        "runs": runs,
        "database": " and ".join(runs),
        **machine_info(timetagger=TIMETAGGER_VERSION),
        # Other work on the machine (1-minute load average, 2 cores); each run has its own.
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    write_result("peer_timetagger", result)


if __name__ == "__main__":
    main()
