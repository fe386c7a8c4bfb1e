"""Client pages: list, create, edit, archive. Reads through selectors, writes through
services; another workspace's client is a 404."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.accounts.workspace import workspace_required
from solodesk.clients import selectors, services
from solodesk.clients.forms import ClientForm
from solodesk.core.exceptions import ApplicationError
from solodesk.core.web import next_url

PAGE_SIZE = 50


@workspace_required
def client_list(request: HttpRequest) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), COUNT, one page of rows
    # with their active-project count annotated, and the page's figures (2: latest entry,
    # hours this year and receivables per currency in one UNION ALL; unbilled time).
    workspace = _workspace(request)
    search = request.GET.get("q", "").strip()
    show_archived = request.GET.get("archived") == "1"
    clients = selectors.client_list(
        workspace=workspace, include_archived=show_archived, search=search
    )
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.client_list_figures(workspace=workspace, clients=page.object_list)
    return render(
        request,
        "clients/client_list.html",
        {"nav": "clients", "page": page, "q": search, "show_archived": show_archived},
    )


@require_http_methods(["GET", "POST"])
@workspace_required
def client_new(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    if request.method == "POST":
        form = ClientForm(request.POST)
        if form.is_valid():
            try:
                client = services.client_create(workspace=workspace, **form.cleaned_data)
            except (ApplicationError, ValidationError) as error:
                form.add_service_error(error)
            else:
                messages.success(request, f"Client “{client.name}” created.")
                return redirect(next_url(request, reverse("clients:list")))
    else:
        form = ClientForm(
            initial={
                "currency": workspace.default_currency,
                "payment_terms_days": workspace.payment_terms_days,
            }
        )
    return render(
        request,
        "clients/client_form.html",
        {"nav": "clients", "form": form, "client": None},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@workspace_required
def client_edit(request: HttpRequest, public_id) -> HttpResponse:
    client = selectors.client_get(workspace=_workspace(request), public_id=public_id)
    if request.method == "POST":
        # The form validates a copy: a rejected value never shows up as the client's name
        # on the re-rendered page, and the write itself goes through the service.
        form = ClientForm(request.POST, instance=copy.copy(client))
        if form.is_valid():
            try:
                client = services.client_update(client=client, **form.cleaned_data)
            except (ApplicationError, ValidationError) as error:
                form.add_service_error(error)
            else:
                messages.success(request, f"Client “{client.name}” saved.")
                return redirect(next_url(request, reverse("clients:list")))
    else:
        form = ClientForm(instance=client)
    return render(
        request,
        "clients/client_form.html",
        {"nav": "clients", "form": form, "client": client},
        status=400 if form.errors else 200,
    )


@require_POST
@workspace_required
def client_archive(request: HttpRequest, public_id) -> HttpResponse:
    client = selectors.client_get(workspace=_workspace(request), public_id=public_id)
    archived = request.POST.get("archived", "1") != "0"
    services.client_archive(client=client, archived=archived)
    if archived:
        messages.success(request, f"Client “{client.name}” archived.")
    else:
        messages.success(request, f"Client “{client.name}” is active again.")
    return redirect(next_url(request, reverse("clients:list")))
