"""Forms for quotes: the draft's header (on invoicing's document header; the lines re-use
the invoice line formset), sending, converting, and the client's accept/decline forms in
the portal."""

from __future__ import annotations

from typing import Any

from django import forms

from solodesk.invoicing.forms import DATE_INPUT, DocumentHeaderForm
from solodesk.quotes.services import DRAFT_FIELDS

__all__ = [
    "AcceptForm",
    "ConvertForm",
    "DeclineForm",
    "QuoteForm",
    "SendForm",
]


class QuoteForm(DocumentHeaderForm):
    """The draft's header. `client` only when creating: a draft keeps its client."""

    field_order = ["client", "issue_date", "valid_until"]
    document_fields = DRAFT_FIELDS

    issue_date = forms.DateField(
        required=False, widget=DATE_INPUT, help_text="Leave empty to use the day you send it."
    )
    valid_until = forms.DateField(
        required=False, widget=DATE_INPUT, help_text="Leave empty for 30 days from today."
    )

    def service_fields(self) -> dict[str, Any]:
        fields = super().service_fields()
        if not fields["valid_until"]:
            del fields["valid_until"]  # the service's default: 30 days from today
        return fields


class SendForm(forms.Form):
    to_email = forms.EmailField(label="Send to", required=False)


class ConvertForm(forms.Form):
    invoice = forms.BooleanField(required=False, initial=True, label="A draft invoice")
    project = forms.BooleanField(required=False, label="A project budgeted at the subtotal")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("invoice") and not data.get("project"):
            raise forms.ValidationError("Choose an invoice, a project, or both.")
        return data


class AcceptForm(forms.Form):
    name = forms.CharField(
        label="Your name",
        max_length=200,
        required=False,
        help_text="Typed as your signature.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
