"""Webhook pages under /webhooks/: owner only (an endpoint's secret signs what the
workspace sends out, like the workspace settings only the owner changes); a member, like a
stranger, gets a 404. Reads through selectors, writes through services."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from solodesk.accounts.models import Membership
from solodesk.accounts.workspace import request_user as _user
from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.accounts.workspace import workspace_page
from solodesk.core.exceptions import ApplicationError
from solodesk.core.web import service_error_messages
from solodesk.webhooks import selectors, services
from solodesk.webhooks.forms import WebhookEndpointForm
from solodesk.webhooks.models import WebhookEndpoint

PAGE_SIZE = 50


def owner_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @workspace_page
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.membership.role != Membership.Role.OWNER:  # type: ignore[attr-defined]
            raise Http404("Only the workspace owner manages webhooks.")
        return view(request, *args, **kwargs)

    return wrapper


def _endpoint(request: HttpRequest, public_id: UUID) -> WebhookEndpoint:
    return selectors.webhook_endpoint_get(workspace=_workspace(request), public_id=public_id)


def _context(**extra: Any) -> dict[str, Any]:
    return {"nav": "settings", "settings_tab": "webhooks", **extra}


@owner_page
def endpoint_list(request: HttpRequest) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), the endpoints.
    endpoints = list(selectors.webhook_endpoint_list(workspace=_workspace(request)))
    disabled = [endpoint for endpoint in endpoints if not endpoint.is_active]
    return render(
        request,
        "webhooks/endpoint_list.html",
        _context(endpoints=endpoints, disabled=disabled),
    )


@require_http_methods(["GET", "POST"])
@owner_page
def endpoint_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                endpoint = services.webhook_endpoint_create(
                    workspace=_workspace(request), user=_user(request), **form.cleaned_data
                )
            except ApplicationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    "Endpoint added. Copy its signing secret below into your receiver.",
                )
                return redirect("webhooks:detail", endpoint.public_id)
    else:
        form = WebhookEndpointForm()
    return render(
        request,
        "webhooks/endpoint_form.html",
        _context(form=form, endpoint=None),
        status=400 if form.errors else 200,
    )


@owner_page
def endpoint_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), the endpoint, COUNT of
    # its attempts, one page of attempts joined with their delivery and event.
    endpoint = _endpoint(request, public_id)
    attempts = selectors.webhook_attempt_list(endpoint=endpoint)
    page = Paginator(attempts, PAGE_SIZE).get_page(request.GET.get("page"))
    response = render(
        request,
        "webhooks/endpoint_detail.html",
        _context(endpoint=endpoint, page=page, max_attempts=services.MAX_ATTEMPTS),
    )
    # The page carries the signing secret: no browser or proxy keeps a copy.
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
@owner_page
def endpoint_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    if request.method == "POST":
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                services.webhook_endpoint_update(endpoint=endpoint, **form.cleaned_data)
            except ApplicationError as error:
                form.add_service_error(error)
            else:
                messages.success(request, "Endpoint saved.")
                return redirect("webhooks:detail", endpoint.public_id)
    else:
        form = WebhookEndpointForm(
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "events": endpoint.events,
            }
        )
    return render(
        request,
        "webhooks/endpoint_form.html",
        _context(form=form, endpoint=endpoint),
        status=400 if form.errors else 200,
    )


@require_POST
@owner_page
def endpoint_delete(request: HttpRequest, public_id: UUID) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    services.webhook_endpoint_delete(endpoint=endpoint)
    messages.success(request, f"Endpoint {endpoint.url} deleted.")
    return redirect("webhooks:list")


@require_POST
@owner_page
def endpoint_enable(request: HttpRequest, public_id: UUID) -> HttpResponse:
    endpoint = services.webhook_endpoint_enable(endpoint=_endpoint(request, public_id))
    messages.success(request, "Endpoint re-enabled: waiting deliveries are being sent.")
    return redirect("webhooks:detail", endpoint.public_id)


@require_POST
@owner_page
def endpoint_disable(request: HttpRequest, public_id: UUID) -> HttpResponse:
    endpoint = services.webhook_endpoint_disable(
        endpoint=_endpoint(request, public_id), user=_user(request)
    )
    messages.success(request, "Endpoint disabled: nothing is sent to it until you re-enable it.")
    return redirect("webhooks:detail", endpoint.public_id)


@require_POST
@owner_page
def endpoint_secret_regenerate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    endpoint = services.webhook_endpoint_secret_regenerate(endpoint=_endpoint(request, public_id))
    messages.success(
        request, "New signing secret. Update your receiver: the old secret no longer signs."
    )
    return redirect("webhooks:detail", endpoint.public_id)


@require_POST
@owner_page
def endpoint_ping(request: HttpRequest, public_id: UUID) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    try:
        event = services.webhook_endpoint_ping(endpoint=endpoint)
    except ApplicationError as error:
        service_error_messages(request, error)
    else:
        messages.success(
            request, f"Test event {event.public_id} queued: it appears in the log below."
        )
    return redirect("webhooks:detail", endpoint.public_id)
