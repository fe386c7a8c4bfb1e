"""CSV export of time entries, run by a worker as a Job."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import tzinfo
from decimal import Decimal

from django.core.files import File

from solodesk.core.models import Job
from solodesk.core.services import job_set_progress, job_succeed
from solodesk.timetracking.selectors import (
    TimeEntryExportRow,
    TimeEntryFilters,
    time_entry_export_chunk,
    time_entry_list_for_export,
)

EXPORT_CHUNK_SIZE = 2000
EXPORT_COLUMNS = [
    "id",
    "date",
    "started_at",
    "ended_at",
    "duration_hours",
    "duration_seconds",
    "client",
    "project",
    "description",
    "billable",
    "invoiced",
    "tags",
    "user",
]


def _row(entry: TimeEntryExportRow, tz: tzinfo) -> list[object]:
    started = entry.started_at.astimezone(tz)
    return [
        entry.public_id,
        started.date().isoformat(),
        started.isoformat(),
        entry.ended_at.astimezone(tz).isoformat(),
        (Decimal(entry.duration_seconds) / 3600).quantize(Decimal("0.01")),
        entry.duration_seconds,
        entry.client_name,
        entry.project_name,
        entry.description,
        "yes" if entry.is_billable else "no",
        "yes" if entry.invoiced_at else "no",
        ";".join(entry.tags),
        entry.user_email,
    ]


def time_entries_export_run(*, job: Job, chunk_size: int = EXPORT_CHUNK_SIZE) -> Job:
    """Write the entries to a temporary file on disk chunk by chunk (one chunk of plain
    rows in memory, whatever the total), report progress after each chunk, then store the
    file as the job's result. Running it again writes the same file again."""
    workspace = job.workspace
    filters = TimeEntryFilters.from_params(job.params)
    total = time_entry_list_for_export(workspace=workspace, filters=filters).count()
    tz = workspace.tzinfo
    with tempfile.TemporaryFile(mode="w+b") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(EXPORT_COLUMNS)
        done = 0
        after = None
        while True:
            chunk = time_entry_export_chunk(
                workspace=workspace, filters=filters, after=after, limit=chunk_size
            )
            writer.writerows(_row(entry, tz) for entry in chunk)
            done += len(chunk)
            if chunk:
                job_set_progress(job=job, progress=min(99, done * 100 // max(total, 1)))
            if len(chunk) < chunk_size:
                break
            after = (chunk[-1].started_at, chunk[-1].pk)
        text.flush()
        text.detach()
        raw.seek(0)
        filename = f"time-entries-{job.created_at:%Y%m%d-%H%M%S}.csv"
        return job_succeed(job=job, file=File(raw), filename=filename, content_type="text/csv")
