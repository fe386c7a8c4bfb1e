"""Recurring invoice pages: the list (with each profile's next invoice date), creating and
editing a profile with its lines, the profile page with its runs and activity, pause,
resume, delete and retrying a failed run. Owners and members alike, as for invoices;
another workspace's profile is a 404."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from solodesk.accounts.workspace import request_user as _user
from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.accounts.workspace import workspace_page
from solodesk.core.exceptions import ApplicationError
from solodesk.core.web import form_with_lines_page, service_error_messages
from solodesk.invoicing.forms import document_forms
from solodesk.recurring import selectors, services
from solodesk.recurring.forms import RecurringProfileForm
from solodesk.recurring.models import RecurringProfile

PAGE_SIZE = 50


def _detail_url(profile: RecurringProfile) -> str:
    return reverse("recurring:detail", args=[profile.public_id])


def _target(request: HttpRequest, public_id: UUID) -> RecurringProfile:
    return selectors.recurring_profile_target(workspace=_workspace(request), public_id=public_id)


@require_GET
@workspace_page
def profile_list(request: HttpRequest) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), COUNT, one page of
    # profiles (+ client, run counts).
    profiles = selectors.recurring_profile_list(workspace=_workspace(request))
    page = Paginator(profiles, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "recurring/profile_list.html",
        {"nav": "recurring", "profiles": page.object_list, "page": page},
    )


def _form_page(request: HttpRequest, profile: RecurringProfile | None) -> HttpResponse:
    workspace = _workspace(request)
    # A profile billing time may have no lines; its rows carry no line ids.
    form, formset = document_forms(
        request,
        RecurringProfileForm,
        profile,
        workspace=workspace,
        lines_required=False,
        line_ids=False,
    )

    def save() -> RecurringProfile:
        if profile is None:
            return services.recurring_profile_create(
                workspace=workspace,
                user=_user(request),
                client=form.cleaned_data["client"],
                lines=formset.line_dicts(),
                projects=form.cleaned_data["projects"],
                **form.service_fields(),
            )
        return services.recurring_profile_update(
            profile=profile,
            user=_user(request),
            lines=formset.line_dicts(),
            projects=form.cleaned_data["projects"],
            **form.service_fields(),
        )

    return form_with_lines_page(
        request,
        form=form,
        formset=formset,
        save=save,
        success_url=_detail_url,
        success_message="Profile created." if profile is None else "Profile saved.",
        template="recurring/profile_form.html",
        context={"nav": "recurring", "profile": profile},
    )


@require_http_methods(["GET", "POST"])
@workspace_page
def profile_new(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@require_http_methods(["GET", "POST"])
@workspace_page
def profile_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    profile = selectors.recurring_profile_get(workspace=_workspace(request), public_id=public_id)
    return _form_page(request, profile)


@require_GET
@workspace_page
def profile_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    # Queries: session, user (+ timer), membership (+ workspace), profile (+ client,
    # author), lines, projects, latest runs (+ invoice), latest activity (+ actor, invoice).
    profile = selectors.recurring_profile_get(workspace=_workspace(request), public_id=public_id)
    return render(
        request,
        "recurring/profile_detail.html",
        {
            "nav": "recurring",
            "profile": profile,
            "lines": list(profile.lines.all()),
            "runs": profile.latest_runs,  # type: ignore[attr-defined]
            "activities": profile.latest_activities,  # type: ignore[attr-defined]
            "projects": list(profile.projects.all()),
        },
    )


def _action(request: HttpRequest, public_id: UUID, action: str) -> HttpResponse:
    profile = _target(request, public_id)
    try:
        if action == "pause":
            services.recurring_profile_pause(profile=profile, user=_user(request))
            messages.success(request, "Paused: no invoices until you resume it.")
        else:
            resumed = services.recurring_profile_resume(profile=profile, user=_user(request))
            messages.success(
                request,
                "Resumed. Periods that started while it was paused are not billed."
                if resumed.next_period_start
                else "Resumed; its schedule has ended.",
            )
    except (ApplicationError, ValidationError) as error:
        service_error_messages(request, error)
    return redirect(_detail_url(profile))


@require_POST
@workspace_page
def profile_pause(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _action(request, public_id, "pause")


@require_POST
@workspace_page
def profile_resume(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _action(request, public_id, "resume")


@require_POST
@workspace_page
def profile_delete(request: HttpRequest, public_id: UUID) -> HttpResponse:
    profile = _target(request, public_id)
    services.recurring_profile_delete(profile=profile, user=_user(request))
    messages.success(request, "Profile deleted; the invoices it created are kept.")
    return redirect(reverse("recurring:list"))


@require_POST
@workspace_page
def run_retry(request: HttpRequest, public_id: UUID, run_id: UUID) -> HttpResponse:
    profile = _target(request, public_id)
    run = selectors.recurring_run_get(
        workspace=_workspace(request), profile=profile, public_id=run_id
    )
    try:
        services.recurring_run_retry(run=run, user=_user(request))
    except (ApplicationError, ValidationError) as error:
        service_error_messages(request, error)
    else:
        messages.success(request, "The run is queued again.")
    return redirect(_detail_url(profile))
