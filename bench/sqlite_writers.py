"""SQLite writers: Django's stock backend against ours (`solodesk.core.sqlite`, a process's
write transactions queued on a lock of the process), as gunicorn runs them: P processes of
T threads, each thread writing K transactions to the same file.

How to run it (from the project root; nothing else should be running):

    .venv/bin/python bench/sqlite_writers.py                      # 2 × 4 threads, 5 rounds
    .venv/bin/python bench/sqlite_writers.py --processes 1 --threads 8

It ignores `DATABASE_URL`: the file is made in a temporary folder and removed after.

Each transaction is shaped like an API create: Python work outside the transaction (the
request around it: `--outside-ms` of CPU), then BEGIN IMMEDIATE, an INSERT of a row,
Python work inside (`--inside-ms`: building the statements), an upsert of a totals row
that every writer shares, and COMMIT. The database is a throwaway file in WAL mode with
the settings `solodesk run` uses (synchronous=NORMAL, a 20 s busy timeout). The two
backends alternate, round after round, so both see the machine at the same minutes.

Measured per run, from the moment every thread has its connection to the last COMMIT:
transactions per second, CPU per transaction (all the writer processes, user + system),
and the latency of the transaction itself, from `atomic()`
entered to COMMIT done (p50, p99, max). Written to bench/results/sqlite_writers.json.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import common

BACKENDS = {"django": "django.db.backends.sqlite3", "solodesk": "solodesk.core.sqlite"}


def _database_settings(path: Path, engine: str) -> dict[str, Any]:
    """The settings `solodesk run` gives the embedded database, on `path`, with `engine`."""
    os.environ["DATABASE_URL"] = "sqlite:///unused.sqlite3"  # whatever make bench exports
    os.environ.setdefault("SECRET_KEY", "bench")
    from solodesk.config.settings import base

    embedded = base.DATABASES["default"]
    assert embedded["ENGINE"] == BACKENDS["solodesk"], "the settings' database is not SQLite"
    return {**embedded, "NAME": str(path), "ENGINE": engine, "CONN_MAX_AGE": None}


def _spin(seconds: float) -> None:
    """Python work holding the GIL, as a request's own code does."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def _writer_process(spec: dict[str, Any], ready: Any, go: Any, results: Any) -> None:
    import django
    from django.conf import settings

    settings.configure(DATABASES={"default": spec["database"]}, USE_TZ=True)
    django.setup()
    from django.db import connection, transaction

    latencies: list[float] = []
    errors: list[str] = []
    guard = threading.Lock()
    connected = threading.Barrier(spec["threads"] + 1)
    start = threading.Event()

    def thread(index: int) -> None:
        mine: list[float] = []
        try:
            connection.ensure_connection()
            connected.wait()
            start.wait()
            for n in range(spec["transactions"]):
                _spin(spec["outside_s"])
                began = time.perf_counter()
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        "INSERT INTO entry (writer, n, note) VALUES (%s, %s, %s)",
                        [f"{os.getpid()}-{index}", n, "x" * 200],
                    )
                    _spin(spec["inside_s"])
                    cursor.execute(
                        "INSERT INTO total (k, n) VALUES (1, 1)"
                        " ON CONFLICT (k) DO UPDATE SET n = n + 1"
                    )
                mine.append(time.perf_counter() - began)
        except Exception as error:  # reported below, not hidden
            with guard:
                errors.append(repr(error))
        finally:
            connection.close()
            with guard:
                latencies.extend(mine)

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(spec["threads"])]
    for t in threads:
        t.start()
    connected.wait()  # every thread has its connection: start-up is over
    ready.put(os.getpid())
    go.wait()
    before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.time()
    start.set()
    for t in threads:
        t.join()
    ended = time.time()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    results.put(
        {"latencies": latencies, "errors": errors, "cpu_s": cpu_s, "began": began, "ended": ended}
    )


def run_once(folder: Path, backend: str, args: argparse.Namespace, round_: int) -> dict[str, Any]:
    import sqlite3

    path = folder / f"{backend}-{round_}.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE entry (id INTEGER PRIMARY KEY, writer TEXT, n INTEGER, note TEXT)")
        db.execute("CREATE TABLE total (k INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    spec = {
        "database": _database_settings(path, BACKENDS[backend]),
        "threads": args.threads,
        "transactions": args.transactions,
        "outside_s": args.outside_ms / 1000,
        "inside_s": args.inside_ms / 1000,
    }
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Queue(), context.Event(), context.Queue()
    processes = [
        context.Process(target=_writer_process, args=(spec, ready, go, results))
        for _ in range(args.processes)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=120)
    go.set()  # all processes start writing at once
    reports = [results.get(timeout=600) for _ in processes]
    wall = max(r["ended"] for r in reports) - min(r["began"] for r in reports)
    for process in processes:
        process.join()
    latencies = [s for report in reports for s in report["latencies"]]
    errors = [e for report in reports for e in report["errors"]]
    with sqlite3.connect(path) as db:
        stored = db.execute("SELECT COUNT(*) FROM entry").fetchone()[0]
        total = db.execute("SELECT COALESCE(SUM(n), 0) FROM total").fetchone()[0]
    expected = args.processes * args.threads * args.transactions
    if errors or stored != expected or total != expected:
        raise SystemExit(f"{backend}: {stored}/{total} of {expected} written; {errors[:3]}")
    return {
        "backend": backend,
        "round": round_,
        "transactions": expected,
        "per_s": round(expected / wall, 1),
        "cpu_ms_per_transaction": round(sum(r["cpu_s"] for r in reports) * 1000 / expected, 3),
        **common.stats_ms([s * 1000 for s in latencies], percentiles=(99,), digits=2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--transactions", type=int, default=500, help="per thread")
    parser.add_argument("--outside-ms", type=float, default=2.0)
    parser.add_argument("--inside-ms", type=float, default=0.5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sqlite-writers-") as tmp:
        for round_ in range(1, args.rounds + 1):
            order = ("django", "solodesk") if round_ % 2 else ("solodesk", "django")
            for backend in order:
                run = run_once(Path(tmp), backend, args, round_)
                runs.append(run)
                print(
                    f"round {round_} {backend:8}: {run['per_s']:7.1f} transactions/s, "
                    f"CPU {run['cpu_ms_per_transaction']:.3f} ms each, transaction p50 "
                    f"{run['p50_ms']:.2f} / p99 {run['p99_ms']:.2f} / max {run['max_ms']:.1f} ms",
                    flush=True,
                )
    summary = {}
    for backend in BACKENDS:
        mine = [r for r in runs if r["backend"] == backend]
        summary[backend] = {
            key: round(statistics.median(r[key] for r in mine), 3)
            for key in ("per_s", "cpu_ms_per_transaction", "p50_ms", "p99_ms", "max_ms")
        }
    summary["ratio_per_s"] = round(summary["solodesk"]["per_s"] / summary["django"]["per_s"], 3)
    for backend in BACKENDS:
        s = summary[backend]
        print(
            f"median {backend:8}: {s['per_s']:7.1f} transactions/s, CPU "
            f"{s['cpu_ms_per_transaction']:.3f} ms, p50 {s['p50_ms']:.2f}, p99 {s['p99_ms']:.2f} ms"
        )
    print(f"ours / Django's: {summary['ratio_per_s']:.3f}× the transactions per second")
    common.write_result(
        "sqlite_writers",
        {
            "benchmark": "sqlite_writers",
            "description": __doc__.split("\n\n")[0],
            "setup": vars(args),
            "summary": summary,
            "runs": runs,
            "database_version": __import__("sqlite3").sqlite_version,
            **common.machine_info(),
        },
    )


if __name__ == "__main__":
    main()
