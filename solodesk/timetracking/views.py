"""Time pages (entry list, week, entry form) and the timer endpoints.

Pages run in the workspace's time zone, so every time shown or typed is the workspace's
wall-clock time. Timer POSTs answer an htmx request with the header timer partial (plus the
messages, swapped out of band) and any other request with a redirect back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from solodesk.accounts.models import User
from solodesk.accounts.workspace import request_user as _user
from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.accounts.workspace import workspace_page
from solodesk.core.choices import bounded_menu
from solodesk.core.exceptions import ApplicationError
from solodesk.core.web import CountedPaginator, safe_url
from solodesk.projects.selectors import project_list
from solodesk.timetracking import selectors, services
from solodesk.timetracking.forms import (
    TimeEntryFilterForm,
    TimeEntryForm,
    TimerStartForm,
    TimerStopForm,
)
from solodesk.timetracking.models import RunningTimer, TimeEntry
from solodesk.timetracking.templatetags.timefmt import duration

PAGE_SIZE = 50


def _week_url(day: dt.date | None = None) -> str:
    url = reverse("timetracking:week")
    return f"{url}?date={day.isoformat()}" if day else url


def _local_date(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


# --- Entry list and export --------------------------------------------------------------


# The filter menus list at most this many projects (3,000 at the `large` seed scale made
# every entry-list page render 3,000 <option>s); a filter on another one still works.
FILTER_PROJECTS_LIMIT = 200


def _filter_form(request: HttpRequest, data: Any) -> TimeEntryFilterForm:
    # The workspace's projects, archived ones too (old time is still filtered by them),
    # each joined with its client, at most FILTER_PROJECTS_LIMIT: one query builds both
    # menus, the chosen project and the chosen client's projects first, so a filter on
    # one beyond the limit still shows its name.
    chosen = data or {}
    projects = bounded_menu(
        project_list(workspace=_workspace(request), include_archived=True),
        first={"public_id": chosen.get("project"), "client__public_id": chosen.get("client")},
        limit=FILTER_PROJECTS_LIMIT,
    )
    return TimeEntryFilterForm(data, projects=projects)


@require_GET
@workspace_page
def entry_list(request: HttpRequest) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), the projects (+ clients) of
    # the filter menus, the summary (count, total, billable), one page of entries (+ project,
    # client, user) and the tags of that page.
    workspace = _workspace(request)
    form = _filter_form(request, request.GET or None)
    filters = form.to_filters()
    summary = selectors.time_entry_summary(workspace=workspace, filters=filters)
    entries = selectors.time_entry_list(workspace=workspace, filters=filters)
    page = CountedPaginator(entries, PAGE_SIZE, count=summary["count"]).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "timetracking/entry_list.html",
        {
            "nav": "entries",
            "form": form,
            "page": page,
            "summary": summary,
            "export_params": form.as_query(),
        },
    )


@require_POST
@workspace_page
def export(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request, request.POST)
    if not form.is_valid():
        messages.error(request, "Check the filters: the export was not started.")
        return redirect("timetracking:entry_list")
    job = services.time_entries_export_start(
        workspace=_workspace(request),
        user=_user(request),
        filters_params=form.to_filters().as_params(),
    )
    return redirect(reverse("core:job_detail", args=[job.public_id]))


# --- Week ---------------------------------------------------------------------------------


def _parse_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@require_GET
@workspace_page
def week(request: HttpRequest) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), the daily totals, the
    # week's entries (+ project, client, user), their tags, and the projects of the
    # start-timer menu.
    workspace = _workspace(request)
    today = timezone.localdate()
    day = _parse_date(request.GET.get("date")) or today
    the_week = selectors.time_entry_week(workspace=workspace, day=day, user=_user(request))
    return render(
        request,
        "timetracking/week.html",
        {
            "nav": "week",
            "week": the_week,
            "today": today,
            "is_this_week": the_week.start == selectors.week_start(today),
            "start_form": TimerStartForm(workspace=workspace),
            "stop_form": TimerStopForm(workspace=workspace),
        },
    )


# --- Entries -----------------------------------------------------------------------------


def _save_entry(request: HttpRequest, form: TimeEntryForm, entry: TimeEntry | None) -> TimeEntry:
    data = form.cleaned_data
    project = data["project"]
    fields = {
        "project": project,
        "started_at": data["started_at"],
        "ended_at": data["ended_at"],
        "description": data["description"],
        "tags": data["tags"],
    }
    if entry is None:
        return services.time_entry_create(
            workspace=_workspace(request),
            user=_user(request),
            is_billable=data["billable"],
            **fields,
        )
    billable = data["billable"]
    return services.time_entry_update(
        entry=entry,
        is_billable=project.is_billable if billable is None else billable,
        **fields,
    )


def _entry_form_page(request: HttpRequest, entry: TimeEntry | None) -> HttpResponse:
    workspace = _workspace(request)
    if request.method == "POST":
        form = TimeEntryForm(request.POST, workspace=workspace, entry=entry)
        if form.is_valid():
            try:
                saved = _save_entry(request, form, entry)
            except ApplicationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    f"Saved {duration(saved.duration_seconds)} on {saved.project.name}.",
                )
                default = _week_url(_local_date(saved.started_at))
                return redirect(safe_url(request, request.POST.get("next")) or default)
    elif entry is not None:
        form = TimeEntryForm(workspace=workspace, entry=entry)
    else:
        day = _parse_date(request.GET.get("date")) or timezone.localdate()
        form = TimeEntryForm(
            workspace=workspace,
            initial={"date": day, "project": request.GET.get("project") or None},
        )
    return render(
        request,
        "timetracking/entry_form.html",
        {
            "nav": "entries",
            "form": form,
            "entry": entry,
            "next": safe_url(request, request.POST.get("next") or request.GET.get("next")),
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@workspace_page
def entry_new(request: HttpRequest) -> HttpResponse:
    return _entry_form_page(request, None)


@require_http_methods(["GET", "POST"])
@workspace_page
def entry_edit(request: HttpRequest, public_id) -> HttpResponse:
    entry = selectors.time_entry_get(workspace=_workspace(request), public_id=public_id)
    return _entry_form_page(request, entry)


@require_http_methods(["GET", "POST"])
@workspace_page
def entry_delete(request: HttpRequest, public_id) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    entry = selectors.time_entry_get(workspace=_workspace(request), public_id=public_id)
    if request.method == "POST":
        day = _local_date(entry.started_at)
        try:
            services.time_entry_delete(entry=entry)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("timetracking:entry_edit", public_id=entry.public_id)
        messages.success(request, "Entry deleted.")
        return redirect(safe_url(request, request.POST.get("next")) or _week_url(day))
    return render(
        request,
        "timetracking/entry_confirm_delete.html",
        {"nav": "entries", "entry": entry},
    )


# --- Timer ---------------------------------------------------------------------------------


def _remember_timer(user: User, timer: RunningTimer | None) -> None:
    """Keep the request's user in step with what the service just did: the header timer is
    rendered from `user.running_timer`, which the auth backend loaded before the change."""
    User.running_timer.related.set_cached_value(user, timer)  # type: ignore[attr-defined]


def _timer_response(
    request: HttpRequest, *, changed: bool, fallback: str | None = None
) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        response = render(request, "timetracking/_timer_response.html")
        if changed:
            # For pages that show time (the week) and want to refresh when the timer moves.
            response["HX-Trigger"] = "timer-changed"
        return response
    target = (
        safe_url(request, request.POST.get("next"))
        or fallback
        or safe_url(request, request.headers.get("Referer"))
        or _week_url()
    )
    return redirect(target)


@require_GET
@never_cache
@login_required
def timer_poll(request: HttpRequest) -> HttpResponse:
    # Queries: session, user joined with the running timer (+ project, client). The
    # workspace is never loaded here: the timer row is all the partial needs.
    return render(request, "timetracking/_timer.html")


@require_POST
@workspace_page
def timer_start(request: HttpRequest) -> HttpResponse:
    form = TimerStartForm(request.POST, workspace=_workspace(request))
    if not form.is_valid():
        for field_errors in form.errors.values():
            for message in field_errors:
                messages.error(request, str(message))
        return _timer_response(request, changed=False)
    try:
        timer, stopped = services.timer_start(
            workspace=_workspace(request),
            user=_user(request),
            project=form.cleaned_data["project"],
            description=form.cleaned_data["description"],
            switch=form.cleaned_data["switch"],
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return _timer_response(request, changed=False)
    _remember_timer(_user(request), timer)
    text = f"Timer started on {timer.project.name}."
    if stopped is not None:
        saved = f"Saved {duration(stopped.duration_seconds)} on {stopped.project.name}."
        text = f"{saved} {text}"
    messages.success(request, text)
    return _timer_response(request, changed=True)


@require_POST
@workspace_page
def timer_stop(request: HttpRequest) -> HttpResponse:
    form = TimerStopForm(request.POST, workspace=_workspace(request))
    if not form.is_valid():
        messages.error(request, "Write the time you stopped as a date and a time.")
        return _timer_response(request, changed=False)
    try:
        entry = services.timer_stop(user=_user(request), ended_at=form.cleaned_data["ended_at"])
    except ApplicationError as error:
        messages.error(request, error.message)
        # A timer left running too long is stopped at a chosen time: the week page asks.
        fallback = _week_url() + "#stop-timer" if "ended_at" in error.errors else None
        return _timer_response(request, changed=False, fallback=fallback)
    _remember_timer(_user(request), None)
    messages.success(request, f"Saved {duration(entry.duration_seconds)} on {entry.project.name}.")
    return _timer_response(request, changed=True)


@require_POST
@workspace_page
def timer_discard(request: HttpRequest) -> HttpResponse:
    try:
        services.timer_discard(user=_user(request))
    except ApplicationError as error:
        messages.error(request, error.message)
        return _timer_response(request, changed=False)
    _remember_timer(_user(request), None)
    messages.success(request, "Timer discarded.")
    return _timer_response(request, changed=True)
