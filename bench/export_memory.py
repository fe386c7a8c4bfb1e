"""Peak memory and duration of the time-entry CSV export at N entries.

How to run it (from the project root; nothing else is needed):

    .venv/bin/python bench/export_memory.py                      # SQLite, 100 000 entries
    .venv/bin/python bench/export_memory.py --entries 20000      # a smaller run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/export_memory.py                  # PostgreSQL

The database is made for the run and dropped after it (see bench/common.py).

The entries are seeded with bulk_create (with tags, so the per-chunk tag prefetch is part of
the measurement). The export then runs in-process, exactly as a worker runs it
(`job_claim` + `time_entries_export_run`), in a fresh Python process so that the peak RSS
is the export's own: the resident high-water mark (VmHWM, reset just before the export) minus
the resident size before it, with `ru_maxrss` before/after alongside; then once more with
tracemalloc for the Python heap peak (tracemalloc slows Python down, so that run is not
timed). The figures are printed and written as
JSON to bench/results/export_memory-<sqlite|postgresql>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import common


def _maxrss_mb() -> float:
    # Linux reports kilobytes (macOS bytes; this benchmark is meant for Linux).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _proc_status_mb(field: str) -> float | None:
    """VmRSS (resident now) or VmHWM (resident high-water mark) from /proc, in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Linux: writing 5 to clear_refs sets VmHWM back to the current RSS, so the peak that
    follows is the export's own and not Django's start-up (ru_maxrss cannot be reset)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --- The measured run (a child process) ---------------------------------------------------


def measure(job_id: int, *, trace: bool) -> dict[str, object]:
    common.django_setup()
    import gc
    import tracemalloc

    from django.db import connection

    from solodesk.core.services import job_claim
    from solodesk.timetracking.export import time_entries_export_run

    queries = common.QueryCounter()
    connection.ensure_connection()
    gc.collect()
    before = _maxrss_mb()
    hwm_reset = _reset_peak_rss()
    rss_before = _proc_status_mb("VmRSS")
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with connection.execute_wrapper(queries):
        job = job_claim(job_id=job_id)
        assert job is not None, f"job {job_id} cannot be claimed"
        job = time_entries_export_run(job=job)
    duration = time.perf_counter() - started
    rss_peak = _proc_status_mb("VmHWM")
    result: dict[str, object] = {
        "duration_s": round(duration, 3),
        "maxrss_before_mb": round(before, 1),
        "maxrss_after_mb": round(_maxrss_mb(), 1),
        "maxrss_delta_mb": round(_maxrss_mb() - before, 1),
        "rss_before_mb": round(rss_before, 1) if rss_before is not None else None,
        "rss_peak_mb": round(rss_peak, 1) if hwm_reset and rss_peak is not None else None,
        "peak_rss_delta_mb": (
            round(rss_peak - rss_before, 1)
            if hwm_reset and rss_peak is not None and rss_before is not None
            else round(_maxrss_mb() - before, 1)
        ),
        "queries": queries.count,
        "status": job.status,
        "file_bytes": job.result_file.size,
    }
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["tracemalloc_peak_mb"] = round(peak / 1024 / 1024, 2)
    with job.result_file.open("rb") as file:
        result["csv_rows"] = sum(1 for _ in file) - 1
    return result


# --- Seeding and orchestration (the parent process) ---------------------------------------


def seed(entries: int) -> tuple[int, int]:
    """A workspace with 4 clients, 10 projects, 2 users, 5 tags and `entries` entries
    spread over the last years; about half of them carry one or two tags."""
    from django.db import transaction
    from django.utils import timezone

    from solodesk.accounts.models import Membership, User, Workspace
    from solodesk.clients.models import Client
    from solodesk.projects.models import Project
    from solodesk.timetracking.models import Tag, TimeEntry

    rng = random.Random(42)
    with transaction.atomic():
        workspace = Workspace.objects.create(name="Bench Studio", time_zone="Europe/Berlin")
        users = [
            User.objects.create_user(email=f"bench{i}@example.com", password=None) for i in (1, 2)
        ]
        for user in users:
            Membership.objects.create(workspace=workspace, user=user, role="owner")
        clients = [
            Client.objects.create(workspace=workspace, name=f"Client {i}", currency="EUR")
            for i in range(4)
        ]
        projects = [
            Project.objects.create(workspace=workspace, client=clients[i % 4], name=f"Project {i}")
            for i in range(10)
        ]
        tags = [Tag.objects.create(workspace=workspace, name=name) for name in "abcde"]
    start = timezone.now() - dt.timedelta(hours=entries)
    batch: list[TimeEntry] = []
    through = TimeEntry.tags.through
    for index in range(entries):
        began = start + dt.timedelta(hours=index)
        seconds = rng.choice([900, 1800, 3600, 5400])
        batch.append(
            TimeEntry(
                workspace=workspace,
                user=users[index % 2],
                project=projects[index % 10],
                started_at=began,
                ended_at=began + dt.timedelta(seconds=seconds),
                duration_seconds=seconds,
                description=f"Work item {index} — analysis, implementation and review",
                is_billable=index % 7 != 0,
            )
        )
        if len(batch) == 5000 or index == entries - 1:
            created = TimeEntry.objects.bulk_create(batch)
            links = [
                through(timeentry_id=entry.pk, tag_id=tag.pk)
                for entry in created
                if rng.random() < 0.5
                for tag in rng.sample(tags, rng.randint(1, 2))
            ]
            through.objects.bulk_create(links)
            batch = []
    return workspace.pk, users[0].pk


def new_job(workspace_id: int, owner_id: int) -> int:
    from solodesk.core.models import Job

    job = Job.objects.create(
        workspace_id=workspace_id,
        owner_id=owner_id,
        kind=Job.Kind.TIME_ENTRIES_EXPORT,
        task_name="solodesk.timetracking.tasks.time_entries_export_task",
        params={},
    )
    return job.pk


def _child(job_id: int, *, trace: bool) -> dict[str, object]:
    command = [sys.executable, __file__, "--measure", str(job_id)]
    if trace:
        command.append("--tracemalloc")
    output = subprocess.run(
        command, check=True, capture_output=True, text=True, env=os.environ, timeout=3600
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run(entries: int) -> dict[str, object]:
    with common.throwaway_database() as bench:
        common.django_setup(migrate=True)
        from django.db import connection

        seeding = time.perf_counter()
        workspace_id, owner_id = seed(entries)
        seed_seconds = time.perf_counter() - seeding
        db_version = common.database_version()
        plain = _child(new_job(workspace_id, owner_id), trace=False)
        traced = _child(new_job(workspace_id, owner_id), trace=True)
        connection.close()
    assert plain["csv_rows"] == entries, plain
    from solodesk.timetracking.export import EXPORT_CHUNK_SIZE

    return {
        "benchmark": "time entries CSV export (time_entries_export_run, in-process)",
        "database": bench.vendor,
        "database_version": db_version,
        "entries": entries,
        "chunk_size": EXPORT_CHUNK_SIZE,
        "seed_s": round(seed_seconds, 1),
        "duration_s": plain["duration_s"],
        "rows_per_s": round(entries / plain["duration_s"]),
        "peak_rss_delta_mb": plain["peak_rss_delta_mb"],
        "rss_before_mb": plain["rss_before_mb"],
        "rss_peak_mb": plain["rss_peak_mb"],
        "maxrss_before_mb": plain["maxrss_before_mb"],
        "maxrss_after_mb": plain["maxrss_after_mb"],
        "maxrss_delta_mb": plain["maxrss_delta_mb"],
        "tracemalloc_peak_mb": traced["tracemalloc_peak_mb"],
        "queries": plain["queries"],
        "file_bytes": plain["file_bytes"],
        **common.machine_info(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, trace=args.tracemalloc)))
        return
    result = run(args.entries)
    common.write_result(f"export_memory-{result['database']}", result)


if __name__ == "__main__":
    main()
