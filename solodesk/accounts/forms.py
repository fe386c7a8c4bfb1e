from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms

from solodesk.accounts.models import TIME_ZONE_CHOICES, ApiToken, User, Workspace
from solodesk.accounts.services import number_format_error, workspace_create
from solodesk.core.l10n import DEFAULT_LOCALE
from solodesk.core.money import CURRENCY_CHOICES


class SignupForm(forms.Form):
    """The workspace half of sign-up; allauth adds e-mail and password and calls `signup`."""

    business_name = forms.CharField(max_length=200)
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    tax_id = forms.CharField(label="Tax id", max_length=50, required=False)
    default_currency = forms.ChoiceField(choices=CURRENCY_CHOICES, initial="EUR")
    time_zone = forms.ChoiceField(choices=TIME_ZONE_CHOICES, initial="UTC")

    def signup(self, request, user) -> None:
        workspace_create(
            owner=user,
            name=self.cleaned_data["business_name"],
            address=self.cleaned_data["address"],
            tax_id=self.cleaned_data["tax_id"],
            default_currency=self.cleaned_data["default_currency"],
            time_zone=self.cleaned_data["time_zone"],
        )


class WorkspaceForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = [
            "name",
            "address",
            "tax_id",
            "default_currency",
            "time_zone",
            "locale",
            "payment_terms_days",
            "payment_details",
            "invoice_number_format",
            "credit_note_number_format",
            "time_rounding_mode",
            "time_rounding_minutes",
            "time_rounding_scope",
        ]
        labels = {
            "locale": "Number and date format",
            "payment_terms_days": "Payment terms (days)",
            "invoice_number_format": "Invoice numbers",
            "credit_note_number_format": "Credit note numbers",
            "time_rounding_mode": "Round billed time",
            "time_rounding_minutes": "Rounding step",
            "time_rounding_scope": "Round",
        }
        help_texts = {
            "payment_terms_days": "Days between an invoice's issue and due dates.",
            "invoice_number_format": (
                "{year} and {seq} (the running number; {seq:04d} gives 0007), "
                "e.g. {year}-{seq:04d} → 2026-0007."
            ),
            "credit_note_number_format": "Same placeholders, e.g. CN-{year}-{seq:04d}.",
            "time_rounding_mode": (
                "How tracked time becomes billed hours on invoices made from time; "
                "the tracked entries never change. Projects can override it."
            ),
            "time_rounding_scope": (
                "Each entry before adding them up, or the total of each invoice line."
            ),
        }
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "payment_details": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Optional: a form posted without it (older pages, scripts) keeps the current one.
        self.fields["locale"].required = False

    def clean_locale(self) -> str:
        return self.cleaned_data.get("locale") or self.instance.locale or DEFAULT_LOCALE

    def _clean_number_format(self, field: str) -> str:
        value = self.cleaned_data[field].strip()
        problem = number_format_error(value)
        if problem:
            raise forms.ValidationError(problem)
        return value

    def clean_invoice_number_format(self) -> str:
        return self._clean_number_format("invoice_number_format")

    def clean_credit_note_number_format(self) -> str:
        return self._clean_number_format("credit_note_number_format")


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name"]


class AdminUserCreationForm(auth_forms.AdminUserCreationForm):
    """Django admin's "add user" form for the e-mail-only user (there is no username)."""

    class Meta:
        model = User
        fields = ("email",)


class AdminUserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
