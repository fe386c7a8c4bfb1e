"""Project pages: list (filter by client, search, archived), create, edit, archive."""

from __future__ import annotations

import copy
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.accounts.workspace import workspace_required
from solodesk.clients.selectors import client_choices_including
from solodesk.core.exceptions import ApplicationError
from solodesk.core.web import next_url
from solodesk.projects import selectors, services
from solodesk.projects.forms import ProjectForm
from solodesk.prompts.selectors import prompt_list_for_user
from solodesk.prompts.services import prompt_events_record_shown

PAGE_SIZE = 50


def _uuid_or_none(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except (TypeError, ValueError):
        return None


@workspace_required
def project_list(request: HttpRequest) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), the clients of the filter
    # menu, COUNT, one page of rows joined with their client (the effective rate needs it),
    # and the page's figures (2: hours and last entry, unbilled time).
    workspace = _workspace(request)
    search = request.GET.get("q", "").strip()
    show_archived = request.GET.get("archived") == "1"
    client_id = _uuid_or_none(request.GET.get("client", ""))
    # The menu's clients as plain rows, the selected one marked: building ~300 model
    # instances and comparing their ids in the template cost ~5 ms of CPU at `large`.
    clients = [
        {
            "public_id": public_id,
            "name": name,
            "is_archived": is_archived,
            "selected": str(public_id) == client_id,
        }
        for public_id, name, is_archived in client_choices_including(
            workspace=workspace, public_id=client_id
        ).values_list("public_id", "name", "is_archived")
    ]
    projects = selectors.project_list(
        workspace=workspace,
        include_archived=show_archived,
        client_public_id=client_id,
        search=search,
    )
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.project_list_figures(
        workspace=workspace, projects=page.object_list
    )
    return render(
        request,
        "projects/project_list.html",
        {
            "nav": "projects",
            "page": page,
            "q": search,
            "show_archived": show_archived,
            "clients": clients,
            "client_id": client_id or "",
        },
    )


@require_http_methods(["GET", "POST"])
@workspace_required
def project_new(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    if request.method == "POST":
        form = ProjectForm(request.POST, workspace=workspace)
        if form.is_valid():
            try:
                project = services.project_create(workspace=workspace, **form.cleaned_data)
            except (ApplicationError, ValidationError) as error:
                form.add_service_error(error)
            else:
                messages.success(request, f"Project “{project.name}” created.")
                return redirect(next_url(request, reverse("projects:list")))
    else:
        form = ProjectForm(
            workspace=workspace, initial={"client": _uuid_or_none(request.GET.get("client", ""))}
        )
    return render(
        request,
        "projects/project_form.html",
        {"nav": "projects", "form": form, "project": None},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@workspace_required
def project_edit(request: HttpRequest, public_id) -> HttpResponse:
    workspace = _workspace(request)
    project = selectors.project_get(workspace=workspace, public_id=public_id)
    if request.method == "POST":
        # The form validates a copy; the write goes through the service.
        form = ProjectForm(request.POST, instance=copy.copy(project), workspace=workspace)
        if form.is_valid():
            try:
                project = services.project_update(project=project, **form.cleaned_data)
            except (ApplicationError, ValidationError) as error:
                form.add_service_error(error)
            else:
                messages.success(request, f"Project “{project.name}” saved.")
                return redirect(next_url(request, reverse("projects:list")))
    else:
        form = ProjectForm(instance=project, workspace=workspace)
    # The budget prompts about this project (one GROUP BY over the budgeted projects; with
    # a prompt: + the user's prompt states, + one INSERT of "shown").
    prompts = prompt_list_for_user(
        workspace=workspace,
        user=request.user,  # type: ignore[arg-type]
        placement="project_detail",
        subject=str(project.public_id),
    )
    if prompts:
        prompt_events_record_shown(workspace=workspace, user=request.user, prompts=prompts)  # type: ignore[arg-type]
    return render(
        request,
        "projects/project_form.html",
        {"nav": "projects", "form": form, "project": project, "prompts": prompts},
        status=400 if form.errors else 200,
    )


@require_POST
@workspace_required
def project_archive(request: HttpRequest, public_id) -> HttpResponse:
    project = selectors.project_get(workspace=_workspace(request), public_id=public_id)
    archived = request.POST.get("archived", "1") != "0"
    services.project_archive(project=project, archived=archived)
    if archived:
        messages.success(request, f"Project “{project.name}” archived.")
    else:
        messages.success(request, f"Project “{project.name}” is active again.")
    return redirect(next_url(request, reverse("projects:list")))
