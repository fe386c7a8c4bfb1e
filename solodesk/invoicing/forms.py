"""Forms for drafting invoices (by hand with a formset of lines, or from tracked time),
recording payments, voiding and crediting. They validate input; the views save through the
invoicing services and show a service's complaint beside the field it is about."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.clients.selectors import client_choices_including
from solodesk.core.exceptions import ApplicationError
from solodesk.invoicing.models import Invoice, InvoiceLine, Payment
from solodesk.projects.models import Project
from solodesk.projects.selectors import project_choices

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
GROUPING_CHOICES = [
    ("project", "One line per project"),
    ("project_day", "One line per project and day"),
    ("entry", "One line per time entry"),
]


def add_service_error(
    form: forms.BaseForm,
    error: ApplicationError | ValidationError,
    formset: forms.BaseFormSet | None = None,
) -> None:
    """Show a service's complaint beside the field it names, else at the top of the form;
    complaints about `lines` go above the formset of lines when there is one."""
    if formset is not None and isinstance(error, ApplicationError) and "lines" in error.errors:
        formset.non_form_errors().extend(error.errors["lines"])
        rest = {field: msgs for field, msgs in error.errors.items() if field != "lines"}
        if not rest:
            return
        error = ApplicationError(error.message, errors=rest)
    items: list[tuple[str | None, list[str]]]
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            items = list(error.message_dict.items())
        else:
            items = [(None, list(error.messages))]
    else:
        items = list(error.errors.items()) or [(None, [error.message])]
    for field, messages in items:
        for message in messages:
            form.add_error(field if field and field in form.fields else None, message)


class InvoiceForm(forms.Form):
    """The draft's header. `client` only when creating: a draft keeps its client."""

    client = forms.ModelChoiceField(queryset=Client.objects.none(), to_field_name="public_id")
    issue_date = forms.DateField(
        required=False, widget=DATE_INPUT, help_text="Leave empty to use the day you issue it."
    )
    due_date = forms.DateField(
        required=False, widget=DATE_INPUT, help_text="Leave empty for the client's payment terms."
    )
    discount_type = forms.ChoiceField(
        choices=Invoice.DiscountType.choices, initial=Invoice.DiscountType.NONE
    )
    discount_value = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        initial=Decimal("0"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "step": "0.01"}),
        help_text="A percentage or an amount, as chosen above.",
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

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        issue_date, due_date = data.get("issue_date"), data.get("due_date")
        if issue_date and due_date and due_date < issue_date:
            self.add_error("due_date", "The due date is before the issue date.")
        if (
            data.get("discount_type") == Invoice.DiscountType.PERCENT
            and (data.get("discount_value") or 0) > 100
        ):
            self.add_error("discount_value", "A percentage cannot be more than 100.")
        return data

    def service_fields(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name]
            for name in ("issue_date", "due_date", "discount_type", "discount_value", "notes")
        }


class LineForm(forms.Form):
    """One line of a draft. A blank extra row is skipped; a filled one must be complete."""

    line_id = forms.UUIDField(required=False, widget=forms.HiddenInput)
    description = forms.CharField(
        max_length=500, widget=forms.TextInput(attrs={"aria-label": "Description"})
    )
    quantity = forms.DecimalField(
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0"),
        widget=forms.NumberInput(
            attrs={"min": 0, "step": "any", "inputmode": "decimal", "aria-label": "Quantity"}
        ),
    )
    unit = forms.ChoiceField(
        choices=InvoiceLine.Unit.choices,
        initial=InvoiceLine.Unit.HOURS,
        widget=forms.Select(attrs={"aria-label": "Unit"}),
    )
    unit_price = forms.DecimalField(
        label="Unit price",
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        widget=forms.NumberInput(
            attrs={"min": 0, "step": "0.01", "inputmode": "decimal", "aria-label": "Unit price"}
        ),
    )
    tax_rate = forms.DecimalField(
        label="Tax %",
        max_digits=5,
        decimal_places=2,
        initial=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        widget=forms.NumberInput(
            attrs={"min": 0, "max": 100, "step": "0.01", "aria-label": "Tax rate"}
        ),
    )


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        if not self.line_dicts():
            raise ValidationError("Add at least one line.")

    def line_dicts(self) -> list[dict[str, Any]]:
        """The kept lines, in order, as the services take them. A line that came from an
        existing one carries its `public_id` so the service can keep it (and its time)."""
        lines = []
        for form in self.forms:
            if not form.has_changed() and not form.cleaned_data.get("line_id"):
                continue
            if form.cleaned_data.get("DELETE"):
                continue
            data = form.cleaned_data
            if not data:
                continue
            line = {
                key: data[key]
                for key in ("description", "quantity", "unit", "unit_price", "tax_rate")
            }
            if data.get("line_id"):
                line["public_id"] = data["line_id"]
            lines.append(line)
        return lines


LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=3, can_delete=True, max_num=200, validate_max=True
)


def line_formset(
    data: Any = None, *, initial: list[dict[str, Any]] | None = None
) -> BaseLineFormSet:
    return LineFormSet(data, prefix="lines", initial=initial)  # type: ignore[return-value]


def line_initial(invoice: Invoice) -> list[dict[str, Any]]:
    return [
        {
            "line_id": line.public_id,
            "description": line.description,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "tax_rate": line.tax_rate,
        }
        for line in invoice.lines.all()
    ]


class FromTimeForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.none(), to_field_name="public_id")
    date_from = forms.DateField(required=False, widget=DATE_INPUT, label="From")
    date_to = forms.DateField(required=False, widget=DATE_INPUT, label="To")
    projects = forms.ModelMultipleChoiceField(
        queryset=Project.objects.none(),
        to_field_name="public_id",
        required=False,
        help_text="Leave empty for all the client's projects.",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    grouping = forms.ChoiceField(
        choices=GROUPING_CHOICES, initial="project", widget=forms.RadioSelect
    )
    fixed_fee_percent = forms.DecimalField(
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        label="Part of fixed fees (%)",
        help_text="For fixed-fee projects: bill this part of the fee (empty: all of it).",
        widget=forms.NumberInput(
            attrs={"min": "0.01", "max": "100", "step": "0.01", "inputmode": "decimal"}
        ),
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = client_choices_including(workspace=workspace)  # type: ignore[attr-defined]
        self.fields["projects"].queryset = project_choices(workspace=workspace)  # type: ignore[attr-defined]
        self.fields["projects"].label_from_instance = (  # type: ignore[attr-defined]
            lambda project: f"{project.client.name} · {project.name}"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_to < date_from:
            self.add_error("date_to", "The end of the period is before its start.")
        client = data.get("client")
        for project in data.get("projects") or []:
            if client is not None and project.client_id != client.pk:
                self.add_error("projects", f"“{project.name}” is not a project of {client.name}.")
        return data


class PaymentForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"min": "0.01", "step": "0.01", "inputmode": "decimal"}),
    )
    date = forms.DateField(widget=DATE_INPUT)
    method = forms.ChoiceField(choices=Payment.Method.choices, initial=Payment.Method.BANK_TRANSFER)
    reference = forms.CharField(max_length=200, required=False)


class VoidForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)


class CreditNoteForm(forms.Form):
    lines = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, help_text="None chosen: every line."
    )
    reason = forms.CharField(max_length=500, required=False)

    def __init__(self, *args: Any, invoice: Invoice, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [  # type: ignore[attr-defined]
            (str(line.public_id), line.description) for line in invoice.lines.all()
        ]


class SendForm(forms.Form):
    """Where to e-mail the invoice: the client's address, or another one typed in."""

    to_email = forms.EmailField(
        label="Send to",
        required=False,
        help_text="The client's e-mail address unless you type another one.",
    )
