"""Background job pages: a progress bar any page can poll, and the finished file.

A job belongs to the user who started it: `job_get` scopes to the workspace and the owner,
so another member of the workspace, like a stranger, gets a 404.
"""

from __future__ import annotations

from uuid import UUID

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from solodesk.accounts.workspace import workspace_required
from solodesk.core.models import Job
from solodesk.core.selectors import job_get


def _job(request: HttpRequest, public_id: UUID) -> Job:
    return job_get(
        workspace=request.workspace,  # type: ignore[attr-defined]
        owner=request.user,  # type: ignore[arg-type]
        public_id=public_id,
    )


@workspace_required
@require_GET
def job_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return render(request, "core/job_detail.html", {"job": _job(request, public_id)})


@workspace_required
@require_GET
def job_progress(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The partial htmx polls every second until the job has finished."""
    return render(request, "core/_job_progress.html", {"job": _job(request, public_id)})


# FileResponse is a streaming response, not the HttpResponse the decorator's hint names.
@workspace_required  # type: ignore[arg-type]
@require_GET
def job_download(request: HttpRequest, public_id: UUID) -> FileResponse:
    job = _job(request, public_id)
    if job.status != Job.Status.SUCCEEDED or not job.result_file:
        raise Http404("This job has no result to download.")
    try:
        file = job.result_file.open("rb")
    except FileNotFoundError as error:
        raise Http404("The result file is no longer available.") from error
    return FileResponse(
        file,
        as_attachment=True,
        filename=job.result_name,
        content_type=job.result_content_type or None,
    )
