"""Tasks per second through the broker with a real worker, and the enqueue latency a
request pays.

How to run it (from the project root):

    .venv/bin/python bench/queue_throughput.py --broker filesystem     # SQLite, N=300
    .venv/bin/python bench/queue_throughput.py --broker redis \\
        --redis-url redis://127.0.0.1:6379/12                          # a Redis db to use
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/queue_throughput.py --broker redis      # PostgreSQL

A throwaway test database is created (`test_<name>`; SQLite: a file in a temporary
folder) and dropped at the end; the filesystem broker lives in the temporary folder; the
Redis database given is purged before and after (do not point it at a shared one).

Measured:
- `enqueue`: N times `time_entries_export_start` in its own transaction, as a request
  does it: INSERT the Job row, COMMIT, then (after commit) `send_task`; split into
  `enqueue_row_and_commit` and `enqueue_publish_after_commit`. `send_task_only`: N bare
  `send_task` calls to a queue no worker reads.
- `throughput`: the N jobs just enqueued wait in the broker; a real worker process
  (`celery worker`, prefork, --concurrency C) is started and timed from its "ready" line
  until every Job row is `succeeded`. Each task is a tiny Job: the conditional-UPDATE
  claim, an export query over an empty workspace, a CSV file written to storage and the
  final UPDATE — the fixed cost every Job pays, without the work itself.
Results are printed and written to
bench/results/queue_throughput-<broker>-<sqlite|postgresql>.json.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path
from unittest import mock

import common

LATENCY_QUEUE = "bench-latency"


def _stats(samples_ms: list[float]) -> dict[str, float]:
    return common.stats_ms(samples_ms, percentiles=(95, 99), digits=3)


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    user = db["USER"] or ""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{user}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def _start_worker(folder: Path, concurrency: int) -> tuple[subprocess.Popen[bytes], Path]:
    from django.conf import settings

    from solodesk.cli import worker_command

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "solodesk.config.settings.production",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "LOG_LEVEL": "WARNING",
        "CELERY_LOG_LEVEL": "INFO",
    }
    log_path = folder / "worker.log"
    command = [
        *worker_command(concurrency=concurrency),
        "--pool",
        "prefork",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    return process, log_path


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.02)


def run(n: int, concurrency: int, folder: Path) -> dict[str, object]:
    from django.db import transaction

    from solodesk.accounts.models import Membership, User, Workspace
    from solodesk.config.celery_app import app
    from solodesk.core import services as core_services
    from solodesk.core.models import Job
    from solodesk.timetracking.services import time_entries_export_start

    app.control.purge()
    workspace = Workspace.objects.create(name="Bench Studio")
    user = User.objects.create_user(email="bench@example.com", password=None)
    Membership.objects.create(workspace=workspace, user=user, role=Membership.Role.OWNER)

    # Warm-up: the first publish opens the broker connection.
    for _ in range(5):
        app.send_task("solodesk.core.tasks.scheduler_heartbeat_task", queue=LATENCY_QUEUE)

    send_only = []
    for _ in range(n):
        started = time.perf_counter()
        app.send_task("solodesk.core.tasks.scheduler_heartbeat_task", queue=LATENCY_QUEUE)
        send_only.append((time.perf_counter() - started) * 1000)
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(LATENCY_QUEUE)

    # The after-commit publish, timed on its own inside the whole.
    publish: list[float] = []
    send_to_broker = core_services._send_to_broker

    def timed_send(*args, **kwargs):
        started = time.perf_counter()
        try:
            return send_to_broker(*args, **kwargs)
        finally:
            publish.append((time.perf_counter() - started) * 1000)

    enqueue = []
    with mock.patch.object(core_services, "_send_to_broker", timed_send):
        for _ in range(n):
            started = time.perf_counter()
            with transaction.atomic():
                time_entries_export_start(workspace=workspace, user=user, filters_params={})
            enqueue.append((time.perf_counter() - started) * 1000)
    row_and_commit = [total - sent for total, sent in zip(enqueue, publish, strict=True)]
    job_ids = list(Job.objects.filter(workspace=workspace).values_list("pk", flat=True))
    assert len(job_ids) == n

    worker, log_path = _start_worker(folder, concurrency)
    try:
        _wait(
            lambda: re.search(r"@\S+ ready\.", log_path.read_text(errors="replace")),
            timeout=60,
            what="the worker did not start",
        )
        started = time.perf_counter()
        _wait(
            lambda: Job.objects.filter(pk__in=job_ids, status=Job.Status.SUCCEEDED).count() == n,
            timeout=max(120, n),
            what="the worker did not finish every job",
        )
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    failed = Job.objects.filter(pk__in=job_ids).exclude(status=Job.Status.SUCCEEDED).count()
    return {
        "enqueue": _stats(enqueue),
        "enqueue_row_and_commit": _stats(row_and_commit),
        "enqueue_publish_after_commit": _stats(publish),
        "send_task_only": _stats(send_only),
        "throughput": {
            "tasks": n,
            "worker_concurrency": concurrency,
            "seconds": round(elapsed, 2),
            "tasks_per_second": round(n / elapsed, 1),
            "failed": failed,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--broker", choices=["redis", "filesystem"], required=True)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("-n", type=int, default=300, help="tasks (300)")
    parser.add_argument("-c", "--concurrency", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="solodesk-bench-queue-") as name:
        folder = Path(name)
        with common.test_database(
            folder,
            CELERY_BROKER_URL=args.redis_url if args.broker == "redis" else "filesystem://",
            CELERY_BROKER_DIR=str(folder / "broker"),
            MEDIA_ROOT=str(folder / "media"),
        ) as vendor:
            from solodesk.config.celery_app import app

            try:
                result = run(args.n, args.concurrency, folder)
            finally:
                app.control.purge()
    import celery
    import kombu

    result = {
        "benchmark": "queue_throughput",
        "broker": args.broker,
        "database": vendor,
        **common.machine_info(at="recorded_at", celery=celery.__version__, kombu=kombu.__version__),
        **result,
    }
    common.write_result(f"queue_throughput-{args.broker}-{vendor}", result)


if __name__ == "__main__":
    main()
