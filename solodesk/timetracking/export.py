"""CSV export of time entries, run by a worker as a Job."""

from __future__ import annotations

import csv
import io
import tempfile
from decimal import Decimal

from django.core.files import File

from solodesk.core.models import Job
from solodesk.core.services import job_set_progress, job_succeed
from solodesk.timetracking.selectors import TimeEntryFilters, time_entry_list_for_export

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


def time_entries_export_run(*, job: Job) -> Job:
    """Stream the entries to a temporary file in chunks (never all rows in memory at once),
    reporting progress per chunk, then store the file as the job's result. Running it again
    produces the same file again: the job is idempotent."""
    workspace = job.workspace
    filters = TimeEntryFilters.from_params(job.params)
    entries = time_entry_list_for_export(workspace=workspace, filters=filters)
    total = entries.count()
    tz = workspace.tzinfo
    with tempfile.TemporaryFile(mode="w+b") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(EXPORT_COLUMNS)
        for done, entry in enumerate(entries.iterator(chunk_size=EXPORT_CHUNK_SIZE), start=1):
            started = entry.started_at.astimezone(tz)
            writer.writerow(
                [
                    entry.public_id,
                    started.date().isoformat(),
                    started.isoformat(),
                    entry.ended_at.astimezone(tz).isoformat(),
                    (Decimal(entry.duration_seconds) / 3600).quantize(Decimal("0.01")),
                    entry.duration_seconds,
                    entry.project.client.name,
                    entry.project.name,
                    entry.description,
                    "yes" if entry.is_billable else "no",
                    "yes" if entry.invoiced_at else "no",
                    ";".join(tag.name for tag in entry.tags.all()),
                    entry.user.email,
                ]
            )
            if done % EXPORT_CHUNK_SIZE == 0:
                job_set_progress(job=job, progress=min(99, done * 100 // max(total, 1)))
        text.flush()
        text.detach()
        raw.seek(0)
        filename = f"time-entries-{job.created_at:%Y%m%d-%H%M%S}.csv"
        return job_succeed(job=job, file=File(raw), filename=filename, content_type="text/csv")
