"""Reminder pages: the settings (the owner edits, members read), and the invoice page's
"send a reminder now" and automatic-reminders switch. Thin: forms validate, services write,
a stranger's invoice is a 404."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from solodesk.accounts.models import Membership
from solodesk.accounts.workspace import request_user as _user
from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.accounts.workspace import workspace_page
from solodesk.core.exceptions import ApplicationError
from solodesk.core.web import service_error_messages
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.selectors import invoice_list
from solodesk.reminders import selectors, services
from solodesk.reminders.forms import LateFeeForm, SendNowForm, StageFormSet


def _is_owner(request: HttpRequest) -> bool:
    return request.membership.role == Membership.Role.OWNER  # type: ignore[attr-defined,no-any-return]


@require_http_methods(["GET", "POST"])
@workspace_page
def reminder_settings(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    is_owner = _is_owner(request)
    services.reminder_settings_ensure(workspace=workspace)
    row, stages = selectors.reminder_settings_get(workspace=workspace)
    status = 200
    if request.method == "POST":
        if not is_owner:
            raise Http404("Only the workspace owner can change the reminder settings.")
        formset = StageFormSet(request.POST, prefix="stages")
        fee_form = LateFeeForm(request.POST, prefix="fee")
        if formset.is_valid() and fee_form.is_valid():
            kept = [
                f.cleaned_data
                for f in formset.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
            try:
                services.reminder_settings_update(
                    workspace=workspace,
                    stages=kept,
                    late_fee_type=fee_form.cleaned_data["late_fee_type"],
                    late_fee_value=fee_form.cleaned_data["late_fee_value"] or Decimal("0"),
                    late_fee_after_days=fee_form.cleaned_data["late_fee_after_days"],
                )
            except (ApplicationError, ValidationError) as error:
                _show_errors(formset, fee_form, error)
            else:
                messages.success(request, "Reminder settings saved.")
                return redirect("reminders:settings")
        status = 400
    else:
        formset = StageFormSet(
            prefix="stages",
            initial=[
                {
                    "offset_days": s.offset_days,
                    "subject": s.subject,
                    "body": s.body,
                    "is_enabled": s.is_enabled,
                }
                for s in stages
            ],
        )
        fee_form = LateFeeForm(
            prefix="fee",
            initial={
                "late_fee_type": row.late_fee_type,
                "late_fee_value": row.late_fee_value,
                "late_fee_after_days": row.late_fee_after_days,
            },
        )
    return render(
        request,
        "reminders/settings.html",
        {
            "nav": "settings",
            "settings_tab": "reminders",
            "is_owner": is_owner,
            "settings_row": row,
            "stages": stages,
            "formset": formset,
            "fee_form": fee_form,
        },
        status=status,
    )


def _show_errors(
    formset: StageFormSet,  # type: ignore[valid-type]
    fee_form: LateFeeForm,
    error: ApplicationError | ValidationError,
) -> None:
    """Put the service's field errors ("stages.1.subject") beside the right field."""
    if not isinstance(error, ApplicationError) or not error.errors:
        fee_form.add_error(None, str(getattr(error, "message", error)))
        return
    forms_kept = [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]  # type: ignore[attr-defined]
    for key, texts in error.errors.items():
        parts = key.split(".")
        for text in texts:
            if parts[0] == "stages" and len(parts) == 3 and int(parts[1]) < len(forms_kept):
                forms_kept[int(parts[1])].add_error(parts[2], text)
            elif key in fee_form.fields:
                fee_form.add_error(key, text)
            else:
                fee_form.add_error(None, text)


def _invoice(request: HttpRequest, public_id: UUID) -> Invoice:
    return get_object_or_404(
        invoice_list(workspace=_workspace(request), kind=None), public_id=public_id
    )


def _detail_url(invoice: Invoice) -> str:
    return reverse("invoicing:detail", args=[invoice.public_id])


@require_POST
@workspace_page
def invoice_send(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """ "Send a reminder now": queue one and come back to the invoice page."""
    invoice = _invoice(request, public_id)
    form = SendNowForm(request.POST)
    if not form.is_valid():
        for text in form.errors.get("to_email", []):
            messages.error(request, str(text))
        return redirect(_detail_url(invoice))
    try:
        reminder = services.reminder_send_now(
            invoice=invoice, user=_user(request), to_email=form.cleaned_data["to_email"]
        )
    except (ApplicationError, ValidationError) as error:
        service_error_messages(request, error)
        return redirect(_detail_url(invoice))
    messages.success(
        request,
        f"A payment reminder for {invoice.number} is on its way to {reminder.to_email}: "
        "see Activity below.",
    )
    return redirect(_detail_url(invoice) + "#activity")


@require_POST
@workspace_page
def invoice_toggle(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Turn automatic reminders on or off for one invoice."""
    invoice = _invoice(request, public_id)
    enabled = request.POST.get("enabled") == "1"
    services.invoice_reminders_set(invoice=invoice, user=_user(request), enabled=enabled)
    messages.success(
        request,
        f"Automatic payment reminders are {'on' if enabled else 'off'} for this invoice.",
    )
    return redirect(_detail_url(invoice))
