"""Close to the floor: the time-entry API list (a page of 50, filtered to one month) from
Solodesk vs the same JSON from a minimal raw-psycopg WSGI app (bench/raw_floor_app.py).

How to run it (from the project root; PostgreSQL only):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/raw_floor.py --scale small
    DATABASE_URL=... .venv/bin/python bench/raw_floor.py --scale medium --requests 2000

1. A throwaway database (bench/common.py) is migrated, seeded with
   `solodesk.seed.seed_workspace(scale=...)` and VACUUM ANALYZEd; the owner gets an API token
   (through `api_token_create`, as Settings → API tokens does).
2. In this process, without HTTP, both WSGI applications are called alternately with the
   request of step 4 (`--cpu-requests` times each): the p50 of the CPU time per request
   of the calling thread, a ratio that other load on the machine hardly moves.
3. Two servers, each gunicorn with the settings of `solodesk web` (production settings,
   2 processes × 4 threads, gthread, access log on): Solodesk's WSGI application, and
   `raw_floor_app:application` (same command line, only the application differs).
4. The same request, `GET /api/v1/time-entries?date_from=<first>&date_to=<last>&limit=50`
   for the last complete month, with the same Bearer token, is sent to both: the two JSON
   bodies must be equal (parsed), and both must answer 401 to a wrong token.
5. bench/loadgen.py, in its own process, loads each server in turn at concurrency 1 and 8
   (`--requests` measured after `--warmup`): p50/p95/p99 and requests per second.
   Ratios: Solodesk p50 / raw p50 and raw rps / Solodesk rps (target ≤ 3).

Results: bench/results/raw_floor-postgresql.json (or BENCH_RESULTS_DIR).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from common import (
    database_version,
    django_setup,
    gunicorn,
    load_average,
    machine_info,
    throwaway_database,
    write_result,
)

BENCH = Path(__file__).resolve().parent
EMAIL = "owner@seed.example"
PASSWORD = "seed passphrase 1234"  # noqa: S105 (a throwaway database's user)
TARGET_RATIO = 3


# --- set-up ----------------------------------------------------------------------------------


def seed(scale: str) -> dict[str, Any]:
    from solodesk.seed import seed_workspace

    result = seed_workspace(scale=scale, email=EMAIL, password=PASSWORD)
    return {"seed_counts": dict(result.counts), "seed_s": round(result.seconds, 1)}


def api_token() -> str:
    from solodesk.accounts.models import Membership
    from solodesk.accounts.services import api_token_create

    membership = Membership.objects.select_related("workspace", "user").get(user__email=EMAIL)
    _token, raw = api_token_create(
        workspace=membership.workspace, user=membership.user, name="raw floor bench"
    )
    return raw


def month_path() -> str:
    """The list request: the last complete month (in the workspace's time zone) that has
    entries, a page of 50."""
    from django.db.models import Max

    from solodesk.accounts.models import Membership
    from solodesk.timetracking.models import TimeEntry

    workspace = Membership.objects.select_related("workspace").get(user__email=EMAIL).workspace
    latest = TimeEntry.objects.filter(workspace=workspace).aggregate(last=Max("started_at"))
    last_day = latest["last"].astimezone(workspace.tzinfo).date()
    first_of_month = last_day.replace(day=1)
    last = first_of_month - dt.timedelta(days=1)
    first = last.replace(day=1)
    query = {"date_from": first.isoformat(), "date_to": last.isoformat(), "limit": 50}
    return "/api/v1/time-entries?" + urlencode(query)


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# --- servers ---------------------------------------------------------------------------------


def commands() -> dict[str, list[str]]:
    """Solodesk as `solodesk web` runs it, and the raw app with the same command line."""
    from solodesk.cli import web_command

    ours = web_command("127.0.0.1", 0, 2, 4)
    application = ours.index("solodesk.config.wsgi:application")
    raw = [*ours[:application], "--pythonpath", str(BENCH), "raw_floor_app:application"]
    raw += ours[application + 1 :]
    return {"solodesk": ours, "raw": raw}


# --- checks and load -------------------------------------------------------------------------


def same_json(urls: dict[str, str], path: str, token: str) -> dict[str, Any]:
    """Both servers answer the request with equal JSON, and 401 to a wrong token."""
    import httpx

    bodies = {}
    for name, base_url in urls.items():
        response = httpx.get(
            base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert response.status_code == 200, (name, response.status_code, response.text[:500])
        bodies[name] = response.json()
        wrong = httpx.get(base_url + path, headers={"Authorization": "Bearer sd_wrong"}, timeout=30)
        assert wrong.status_code == 401, (name, wrong.status_code)
    if bodies["solodesk"] != bodies["raw"]:
        ours, raw = bodies["solodesk"], bodies["raw"]
        for index, (a, b) in enumerate(zip(ours["items"], raw["items"], strict=False)):
            if a != b:
                diff = {
                    k: (a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)
                }
                raise AssertionError(f"item {index} differs: {diff}")
        raise AssertionError(
            f"bodies differ: count {ours['count']} vs {raw['count']}, "
            f"items {len(ours['items'])} vs {len(raw['items'])}"
        )
    body = bodies["solodesk"]
    assert len(body["items"]) == min(50, body["count"]) and body["items"], body["count"]
    return {
        "count": body["count"],
        "count_is_capped": body["count_is_capped"],
        "items": len(body["items"]),
    }


def cpu_per_request(path: str, token: str, requests: int) -> dict[str, Any]:
    """In this process, without HTTP: both WSGI applications called directly with the same
    request, alternately, `requests` times each; the p50 of the CPU time of the calling
    thread (the database's work is in another process and not counted). CPU time hardly
    changes with other load on the machine, unlike the wall-clock times under HTTP, so this
    ratio is the steadier one on a busy machine."""
    import io
    import statistics

    import raw_floor_app
    from django.core.handlers.wsgi import WSGIHandler

    route, _, query = path.partition("?")
    apps = {"solodesk": WSGIHandler(), "raw": raw_floor_app.application}

    def call(app: Any) -> bytes:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": route,
            "QUERY_STRING": query,
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_HOST": "127.0.0.1",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
        }
        statuses: list[str] = []
        body = b"".join(app(environ, lambda status, headers, *_: statuses.append(status)))
        assert statuses[0].startswith("200"), (statuses, body[:300])
        return body

    assert json.loads(call(apps["solodesk"])) == json.loads(call(apps["raw"]))
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for index in range(requests + 20):
        for name, app in apps.items():
            started = time.thread_time()
            call(app)
            if index >= 20:  # the first 20 warm up
                samples[name].append((time.thread_time() - started) * 1000)
    ours = statistics.median(samples["solodesk"])
    raw = statistics.median(samples["raw"])
    return {
        "requests": requests,
        "solodesk_cpu_ms_p50": round(ours, 2),
        "raw_cpu_ms_p50": round(raw, 2),
        "cpu_ratio": round(ours / raw, 2),
    }


def load(
    base_url: str, path: str, token: str, *, concurrency: int, requests: int, warmup: int
) -> dict[str, Any]:
    """One bench/loadgen.py run in its own process; its JSON result."""
    output = subprocess.run(
        [
            sys.executable,
            str(BENCH / "loadgen.py"),
            "--base-url",
            base_url,
            "--path",
            path,
            "--header",
            f"Authorization: Bearer {token}",
            "--concurrency",
            str(concurrency),
            "--requests",
            str(requests),
            "--warmup",
            str(warmup),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=3600,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    assert result["errors"] == 0, result
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    with throwaway_database(
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver", DEBUG="false", WEB_CONCURRENCY="2"
    ) as throwaway:
        if throwaway.vendor != "postgresql":
            raise SystemExit("raw_floor needs PostgreSQL: set DATABASE_URL=postgres://...")
        django_setup(migrate=True)
        from django.core.management import call_command
        from django.db import connection

        call_command("createcachetable", verbosity=0)
        seeded = seed(args.scale)
        analyze()
        token = api_token()
        path = month_path()
        version = database_version()
        cpu = cpu_per_request(path, token, args.cpu_requests)
        connection.close()
        load_before = load_average()
        runs: dict[str, dict[str, Any]] = {}
        with (
            gunicorn(commands()["solodesk"], throwaway.tmp / "solodesk.log") as ours,
            gunicorn(commands()["raw"], throwaway.tmp / "raw.log") as raw,
        ):
            urls = {"solodesk": ours, "raw": raw}
            body = same_json(urls, path, token)
            for concurrency in args.concurrency:
                for name, base_url in urls.items():
                    runs[f"{name}_c{concurrency}"] = load(
                        base_url,
                        path,
                        token,
                        concurrency=concurrency,
                        requests=args.requests,
                        warmup=args.warmup,
                    )
        load_after = load_average()
    by_concurrency = {}
    for concurrency in args.concurrency:
        ours_run, raw_run = runs[f"solodesk_c{concurrency}"], runs[f"raw_c{concurrency}"]
        p50_ratio = ours_run["p50_ms"] / raw_run["p50_ms"]
        rps_ratio = raw_run["rps"] / ours_run["rps"]
        by_concurrency[f"c{concurrency}"] = {
            "solodesk_p50_ms": ours_run["p50_ms"],
            "raw_p50_ms": raw_run["p50_ms"],
            "p50_ratio": round(p50_ratio, 2),
            "solodesk_rps": ours_run["rps"],
            "raw_rps": raw_run["rps"],
            "rps_ratio": round(rps_ratio, 2),
            "meets_target": p50_ratio <= TARGET_RATIO and rps_ratio <= TARGET_RATIO,
            "solodesk": ours_run,
            "raw": raw_run,
        }
    return {
        "benchmark": "GET time-entry API list (page of 50, one month): Solodesk vs a raw "
        "psycopg WSGI app, both gunicorn 2 processes × 4 threads (gthread), bench/loadgen.py",
        "database": throwaway.vendor,
        "database_version": version,
        "scale": args.scale,
        **seeded,
        "path": path,
        "month_entries": body["count"],  # a lower bound when the count is capped
        "month_entries_count_is_capped": body["count_is_capped"],
        "page_items": body["items"],
        "requests_per_run": args.requests,
        "warmup_per_run": args.warmup,
        "target_ratio": TARGET_RATIO,
        "results": by_concurrency,
        "in_process_cpu": cpu,
        "load_average_before": load_before,
        "load_average_after": load_after,
        **machine_info(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--cpu-requests", type=int, default=300)
    args = parser.parse_args()
    result = run(args)
    write_result(f"raw_floor-{result['database']}", result)


if __name__ == "__main__":
    main()
