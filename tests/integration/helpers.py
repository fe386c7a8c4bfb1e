"""Small helpers shared by the integration tests."""

from __future__ import annotations

import csv
import io

from solodesk.core.models import Job
from tests.processes import wait_until


def wait_for_job(job: Job, *, timeout: float = 60.0) -> Job:
    """Poll the Job row, as a page would, until a worker has finished it."""

    def finished() -> bool:
        job.refresh_from_db()
        return job.is_finished

    wait_until(finished, timeout=timeout, message=f"job {job.public_id} is still {job.status}")
    return job


def read_csv(job: Job) -> list[list[str]]:
    with job.result_file.open("rb") as result:
        return list(csv.reader(io.StringIO(result.read().decode("utf-8"), newline="")))
