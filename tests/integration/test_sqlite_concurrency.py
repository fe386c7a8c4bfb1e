"""The embedded default holds up under concurrent writes: SQLite in WAL mode with BEGIN
IMMEDIATE and a busy timeout makes writers queue instead of failing, while a worker writes
an export's progress to the same file."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from solodesk.core.models import Job
from solodesk.tests.factories import (
    ClientFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
    WorkspaceFactory,
    make_api_token,
)
from solodesk.timetracking.models import TimeEntry
from solodesk.timetracking.services import time_entries_export_start
from tests.integration.helpers import read_csv, wait_for_job
from tests.processes import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "solodesk.core.sqlite",
        reason="proves the embedded SQLite configuration",
    ),
]

REQUESTS = 200
CLIENT_THREADS = 16
SEEDED_ENTRIES = 10_000
START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)


def _seed_entries(workspace, user, project, count: int) -> None:
    TimeEntry.objects.bulk_create(
        [
            TimeEntry(
                workspace=workspace,
                user=user,
                project=project,
                started_at=START + dt.timedelta(minutes=30 * i),
                ended_at=START + dt.timedelta(minutes=30 * i + 25),
                duration_seconds=25 * 60,
                description=f"Seeded {i}",
            )
            for i in range(count)
        ],
        batch_size=2000,
    )


def test_sqlite_serves_200_concurrent_writes_while_the_worker_exports(
    transactional_db, web_server, celery_worker_process
):
    workspace = WorkspaceFactory(time_zone="UTC")
    user = UserFactory()
    MembershipFactory(workspace=workspace, user=user)
    project = ProjectFactory(client=ClientFactory(workspace=workspace))
    token = make_api_token(user=user, workspace=workspace)
    _seed_entries(workspace, user, project, SEEDED_ENTRIES)
    server = web_server(name="web", workers=2, threads=4)

    with transaction.atomic():
        job = time_entries_export_start(workspace=workspace, user=user, filters_params={})

    def running() -> bool:
        job.refresh_from_db()
        return job.status != Job.Status.QUEUED

    # The burst starts once the worker has claimed the job, so they overlap.
    wait_until(running, timeout=30, message="the worker did not pick up the export")

    def create_entry(index: int) -> tuple[int, str]:
        started = dt.datetime(2027, 1, 4, 8, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=index)
        response = api.post(
            "/api/v1/time-entries",
            json={
                "project_id": str(project.public_id),
                "started_at": started.isoformat(),
                "ended_at": (started + dt.timedelta(seconds=50)).isoformat(),
                "description": f"Concurrent {index}",
                "tags": ["burst", f"t{index % 5}"],
            },
        )
        return response.status_code, response.text

    limits = httpx.Limits(max_connections=CLIENT_THREADS)
    with (
        httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            limits=limits,
        ) as api,
        ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool,
    ):
        burst_started_at = timezone.now()
        results = list(pool.map(create_entry, range(REQUESTS)))

    statuses = sorted({status for status, _ in results})
    failures = [text for status, text in results if status != 201]
    assert statuses == [201], failures[:3]
    wait_for_job(job)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.finished_at > burst_started_at  # the export and the writes overlapped
    # The export saw the seeded entries (and maybe some of the burst, committed before its
    # read began): never a partial row set.
    assert SEEDED_ENTRIES + 1 <= len(read_csv(job)) <= SEEDED_ENTRIES + REQUESTS + 1
    assert TimeEntry.objects.filter(description__startswith="Concurrent ").count() == REQUESTS
    server_log = server.process.log()
    assert server_log.count('"POST /api/v1/time-entries HTTP/1.1" 201') == REQUESTS
    for log in (server_log, celery_worker_process.log()):
        assert "database is locked" not in log
        assert "Traceback" not in log
