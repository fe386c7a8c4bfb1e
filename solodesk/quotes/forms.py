"""Forms for quotes: the draft's header (the lines re-use the invoice line formset), sending,
converting, and the client's accept/decline forms in the portal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.clients.selectors import client_choices_including
from solodesk.invoicing.forms import (
    DATE_INPUT,
    BaseLineFormSet,
    add_service_error,
    line_formset,
)
from solodesk.quotes.models import Quote

__all__ = [
    "AcceptForm",
    "BaseLineFormSet",
    "ConvertForm",
    "DeclineForm",
    "QuoteForm",
    "SendForm",
    "add_service_error",
    "line_formset",
    "quote_line_initial",
]


class QuoteForm(forms.Form):
    """The draft's header. `client` only when creating: a draft keeps its client."""

    client = forms.ModelChoiceField(queryset=Client.objects.none(), to_field_name="public_id")
    issue_date = forms.DateField(
        required=False, widget=DATE_INPUT, help_text="Leave empty to use the day you send it."
    )
    valid_until = forms.DateField(
        required=False, widget=DATE_INPUT, help_text="Leave empty for 30 days from today."
    )
    discount_type = forms.ChoiceField(
        choices=Quote.DiscountType.choices, initial=Quote.DiscountType.NONE
    )
    discount_value = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        initial=Decimal("0"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "step": "0.01"}),
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, workspace: Workspace, with_client: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if with_client:
            self.fields["client"].queryset = client_choices_including(  # type: ignore[attr-defined]
                workspace=workspace, public_id=self.initial.get("client") or None
            )
        else:
            del self.fields["client"]

    def clean_discount_value(self) -> Decimal:
        return self.cleaned_data.get("discount_value") or Decimal("0")

    def service_fields(self) -> dict[str, Any]:
        fields = {
            name: self.cleaned_data[name]
            for name in ("issue_date", "discount_type", "discount_value", "notes")
        }
        if self.cleaned_data.get("valid_until"):
            fields["valid_until"] = self.cleaned_data["valid_until"]
        return fields


def quote_line_initial(quote: Quote) -> list[dict[str, Any]]:
    return [
        {
            "line_id": line.public_id,
            "description": line.description,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "tax_rate": line.tax_rate,
        }
        for line in quote.lines.all()
    ]


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
