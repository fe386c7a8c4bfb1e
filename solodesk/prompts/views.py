"""Prompt pages: the list of next steps, the click-recording redirect, dismiss and snooze
(htmx-friendly), stopping a long-running timer at a chosen time, and the conversion report
(owner only)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from solodesk.accounts.models import Membership
from solodesk.accounts.workspace import request_user as _user
from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.accounts.workspace import workspace_page
from solodesk.core.exceptions import ApplicationError
from solodesk.core.web import service_error_messages
from solodesk.prompts import selectors, services
from solodesk.prompts.forms import SnoozeForm, TimerStopForm
from solodesk.timetracking.models import RunningTimer
from solodesk.timetracking.services import timer_stop as timetracking_timer_stop

# A timer left running is proposed to stop this long after it started (a working day).
DEFAULT_WORKDAY_HOURS = 8


def _internal_url(request: HttpRequest, candidate: str | None) -> str | None:
    """Only a path on this site: never another host, never a scheme-relative URL."""
    if (
        candidate
        and candidate.startswith("/")
        and not candidate.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return None


def _back(request: HttpRequest, text: str) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponse("")  # the card is swapped out
    messages.success(request, text)
    return redirect(
        _internal_url(request, request.POST.get("next")) or _referer_path(request) or "home"
    )


def _referer_path(request: HttpRequest) -> str | None:
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc != request.get_host():
        return None
    return _internal_url(request, referer.path + (f"?{referer.query}" if referer.query else ""))


@require_GET
@workspace_page
def prompt_list(request: HttpRequest) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), then the prompts (see
    # selectors.prompt_list_for_user) and one INSERT of the shown events.
    workspace, user = _workspace(request), _user(request)
    prompts = selectors.prompt_list_for_user(
        workspace=workspace, user=user, limit=None, per_rule=None
    )
    services.prompt_events_record_shown(workspace=workspace, user=user, prompts=prompts)
    return render(request, "prompts/prompt_list.html", {"prompts": prompts, "nav": "prompts"})


@require_http_methods(["GET", "POST"])
@workspace_page
def prompt_go(request: HttpRequest, key: str) -> HttpResponse:
    """Record the click, then go to the call to action: a GET link is redirected (302); a
    POST action (send a reminder) is re-posted to its target with 307, which keeps the
    method and the form (CSRF token included)."""
    if not selectors.prompt_key_is_known(key):
        raise Http404("No such prompt.")
    target = _internal_url(request, request.POST.get("to") or request.GET.get("to"))
    if target is None:
        raise Http404("No such destination.")
    services.prompt_click_record(workspace=_workspace(request), user=_user(request), key=key)
    if request.method == "POST":
        response = HttpResponseRedirect(target)
        response.status_code = 307
        return response
    return redirect(target)


@require_POST
@workspace_page
def prompt_dismiss(request: HttpRequest, key: str) -> HttpResponse:
    workspace, user = _workspace(request), _user(request)
    selectors.prompt_get_raised(workspace=workspace, user=user, key=key)
    services.prompt_dismiss(workspace=workspace, user=user, key=key)
    return _back(request, "Dismissed: you will not see this again.")


@require_POST
@workspace_page
def prompt_snooze(request: HttpRequest, key: str) -> HttpResponse:
    workspace, user = _workspace(request), _user(request)
    selectors.prompt_get_raised(workspace=workspace, user=user, key=key)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, str(text))
        return redirect(_internal_url(request, request.POST.get("next")) or "home")
    try:
        state = services.prompt_snooze(
            workspace=workspace,
            user=user,
            key=key,
            days=None if form.cleaned_data.get("until") else form.cleaned_data["days"],
            until=form.cleaned_data.get("until"),
        )
    except (ApplicationError, ValidationError) as error:
        service_error_messages(request, error)
        return redirect(_internal_url(request, request.POST.get("next")) or "home")
    return _back(request, f"Snoozed until {state.snoozed_until:%-d %b %Y}.")


def _running_timer(request: HttpRequest) -> RunningTimer | None:
    try:
        timer = _user(request).running_timer  # type: ignore[attr-defined]
    except RunningTimer.DoesNotExist:
        return None
    return timer if timer.workspace_id == _workspace(request).pk else None


@require_http_methods(["GET", "POST"])
@workspace_page
def timer_stop(request: HttpRequest) -> HttpResponse:
    """Still working? Stop the running timer at the time work really ended."""
    workspace = _workspace(request)
    timer = _running_timer(request)
    if timer is None:
        messages.info(request, "No timer is running.")
        return redirect("home")
    if request.method == "POST":
        form = TimerStopForm(request.POST, workspace=workspace)
        if form.is_valid():
            try:
                entry = timetracking_timer_stop(user=_user(request), ended_at=form.ended_at())
            except ApplicationError as error:
                field = "time" if "ended_at" in error.errors else None
                form.add_error(field, error.message)
            else:
                hours = entry.duration_seconds // 3600
                minutes = entry.duration_seconds % 3600 // 60
                messages.success(
                    request, f"Timer stopped: saved {hours}:{minutes:02d} on {entry.project.name}."
                )
                return redirect("home")
    else:
        started = timezone.localtime(timer.started_at)
        proposal = min(started + dt.timedelta(hours=DEFAULT_WORKDAY_HOURS), timezone.localtime())
        form = TimerStopForm(
            workspace=workspace, initial={"date": proposal.date(), "time": proposal.time()}
        )
    return render(
        request,
        "prompts/timer_stop.html",
        {"form": form, "timer": timer, "nav": "prompts"},
        status=400 if form.errors else 200,
    )


@require_GET
@workspace_page
def prompt_report(request: HttpRequest) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), event counts per rule and
    # kind, the recent completions with their first shown time.
    if request.membership.role != Membership.Role.OWNER:  # type: ignore[attr-defined]
        raise Http404("Only the workspace owner sees the prompt report.")
    return render(
        request,
        "prompts/report.html",
        {"report": selectors.prompt_report(workspace=_workspace(request)), "nav": "prompts"},
    )
