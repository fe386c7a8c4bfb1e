"""Settings pages: the workspace profile and the user's API tokens."""

from __future__ import annotations

import copy
from typing import cast
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from solodesk.accounts.forms import ApiTokenForm, WorkspaceForm
from solodesk.accounts.models import Membership, User
from solodesk.accounts.selectors import (
    api_token_get,
    api_token_list,
    time_totals_recount_job_get,
)
from solodesk.accounts.services import (
    api_token_create,
    api_token_revoke,
    time_totals_recount_start,
    workspace_update,
)
from solodesk.accounts.workspace import workspace_required
from solodesk.core.exceptions import ApplicationError

TOKENS_SHOWN = 100


def _add_errors(form, error: ApplicationError | ValidationError) -> None:
    """Show a service's complaint beside the field it is about (or above the form)."""
    if isinstance(error, ValidationError):
        errors = error.message_dict if hasattr(error, "error_dict") else {}
        general = [] if errors else error.messages
    else:
        errors = error.errors
        general = [] if errors else [error.message]
    for field, field_messages in errors.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
    for message in general:
        form.add_error(None, message)


@workspace_required
@require_http_methods(["GET", "POST"])
def workspace_settings(request: HttpRequest) -> HttpResponse:
    workspace = request.workspace  # type: ignore[attr-defined]
    is_owner = request.membership.role == Membership.Role.OWNER  # type: ignore[attr-defined]
    user = cast(User, request.user)  # logged in: @workspace_required
    if request.method == "POST":
        if not is_owner:
            raise Http404("Only the workspace owner can change the workspace.")
        if "recount_time_totals" in request.POST:
            # After a failed recount: the same job again (decision 0007).
            time_totals_recount_start(
                workspace=workspace, user=user, time_zone_before=workspace.time_zone
            )
            messages.success(request, "Recounting the time totals.")
            return redirect("workspace_settings")
        # The form validates a copy: a rejected value never lands on the request's workspace,
        # and the write itself goes through the service.
        form = WorkspaceForm(request.POST, instance=copy.copy(workspace))
        if form.is_valid():
            try:
                workspace_update(workspace=workspace, user=user, **form.cleaned_data)
            except (ApplicationError, ValidationError) as error:
                _add_errors(form, error)
            else:
                messages.success(request, "Workspace settings saved.")
                return redirect("workspace_settings")
        status = 400
    else:
        form = WorkspaceForm(instance=workspace)
        status = 200
    recount_job = time_totals_recount_job_get(workspace=workspace)
    return render(
        request,
        "accounts/workspace_settings.html",
        {
            "form": form,
            "is_owner": is_owner,
            "nav": "settings",
            "settings_tab": "workspace",
            "recount_job": recount_job,
            # The progress partial polls core:job_progress, which shows a job to the user
            # who started it only; anyone else sees the status as of this page.
            "recount_job_is_mine": recount_job is not None and recount_job.owner_id == user.pk,
        },
        status=status,
    )


@workspace_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    workspace = request.workspace  # type: ignore[attr-defined]
    user = cast(User, request.user)  # logged in: @workspace_required
    raw_token = None
    created_token = None
    status = 200
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                created_token, raw_token = api_token_create(
                    workspace=workspace, user=user, name=form.cleaned_data["name"]
                )
            except ApplicationError as error:
                _add_errors(form, error)
                status = 400
            else:
                form = ApiTokenForm()
        else:
            status = 400
    else:
        form = ApiTokenForm()
    # The newest TOKENS_SHOWN (one more is read to tell whether there are others): a page
    # never lists an unbounded number of rows.
    tokens = list(api_token_list(workspace=workspace, user=user)[: TOKENS_SHOWN + 1])
    response = render(
        request,
        "accounts/api_tokens.html",
        {
            "form": form,
            "tokens": tokens[:TOKENS_SHOWN],
            "more_tokens": len(tokens) > TOKENS_SHOWN,
            # The raw token exists only in this response: it is rendered straight from the
            # POST (no redirect, no message in the session) and never stored anywhere.
            "raw_token": raw_token,
            "created_token": created_token,
            "nav": "settings",
            "settings_tab": "tokens",
        },
        status=status,
    )
    if raw_token:
        # Nor may a browser or proxy keep a copy of the page that shows it.
        add_never_cache_headers(response)
    return response


@workspace_required
@require_POST
def api_token_revoke_view(request: HttpRequest, public_id: UUID) -> HttpResponse:
    token = api_token_get(
        workspace=request.workspace,  # type: ignore[attr-defined]
        user=cast(User, request.user),  # logged in: @workspace_required
        public_id=public_id,
    )
    api_token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked. It no longer opens the API.")
    return redirect("api_tokens")
