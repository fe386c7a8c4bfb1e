"""Forms for drafting invoices (by hand with a formset of lines, or from tracked time),
recording payments, voiding and crediting. They validate input; the views save through the
invoicing services and show a service's complaint beside the field it is about."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import HttpRequest

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.clients.selectors import client_choices_including
from solodesk.core.choices import (
    CHOICES_LIMIT,
    BoundedChoiceIterator,
    BoundedModelChoiceField,
    chosen_public_id,
)
from solodesk.invoicing.models import Invoice, InvoiceLine, Payment
from solodesk.invoicing.services import DRAFT_FIELDS
from solodesk.projects.models import Project
from solodesk.projects.selectors import project_choices

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# What a line of any document holds, as the line form, its initial rows and the services name it.
LINE_FIELDS = ("description", "quantity", "unit", "unit_price", "tax_rate")
GROUPING_CHOICES = [
    ("project", "One line per project"),
    ("project_day", "One line per project and day"),
    ("entry", "One line per time entry"),
]


class DocumentHeaderForm(forms.Form):
    """What the headers of a draft invoice, a quote and a recurring profile share: the
    client (only when creating: a document keeps its client), the discount and the notes.
    A subclass adds its own fields and lists them in `field_order` (they come first)."""

    # A bounded menu (core.choices), the chosen client first; any active client validates.
    client = BoundedModelChoiceField(queryset=Client.objects.none(), to_field_name="public_id")
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
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, workspace: Workspace, with_client: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if with_client:
            self.fields["client"].queryset = client_choices_including(  # type: ignore[attr-defined]
                workspace=workspace, public_id=chosen_public_id(self, "client")
            )
        else:
            del self.fields["client"]

    # The document's own fields the form edits, as its model and services name them.
    document_fields: tuple[str, ...] = ("discount_type", "discount_value", "notes")

    @classmethod
    def initial_from(cls, document: Any) -> dict[str, Any]:
        """The form's initial values for editing `document`."""
        return {name: getattr(document, name) for name in cls.document_fields}

    def clean_discount_value(self) -> Decimal:
        return self.cleaned_data.get("discount_value") or Decimal("0")

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.document_fields}


HeaderForm = TypeVar("HeaderForm", bound=DocumentHeaderForm)


class InvoiceForm(DocumentHeaderForm):
    """The draft's header. `client` only when creating: a draft keeps its client."""

    field_order = ["client", "issue_date", "due_date"]
    document_fields = DRAFT_FIELDS

    issue_date = forms.DateField(
        required=False, widget=DATE_INPUT, help_text="Leave empty to use the day you issue it."
    )
    due_date = forms.DateField(
        required=False, widget=DATE_INPUT, help_text="Leave empty for the client's payment terms."
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["discount_value"].help_text = "A percentage or an amount, as chosen above."

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
    # A recurring profile that bills time may have no lines (its service says so when there
    # is nothing to bill at all); every other document needs one.
    lines_required = True

    def clean(self) -> None:
        super().clean()
        if any(self.errors) or not self.lines_required:
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
            line = {key: data[key] for key in LINE_FIELDS}
            if data.get("line_id"):
                line["public_id"] = data["line_id"]
            lines.append(line)
        return lines


LineFormSet = forms.formset_factory(
    LineForm, formset=BaseLineFormSet, extra=3, can_delete=True, max_num=200, validate_max=True
)


def line_formset(
    data: Any = None, *, initial: list[dict[str, Any]] | None = None, lines_required: bool = True
) -> BaseLineFormSet:
    """The lines of a draft invoice, a quote or a recurring profile (prefix "lines")."""
    formset: BaseLineFormSet = LineFormSet(  # type: ignore[assignment]
        data, prefix="lines", initial=initial
    )
    formset.lines_required = lines_required
    return formset


def line_initial(document: Any, *, with_ids: bool = True) -> list[dict[str, Any]]:
    """The formset's rows for a document's `lines` (an invoice's, a quote's or a recurring
    profile's). `with_ids`: each row carries its line's id, so that saving keeps the line."""
    rows = []
    for line in document.lines.all():
        row: dict[str, Any] = {"line_id": line.public_id} if with_ids else {}
        rows.append(row | {name: getattr(line, name) for name in LINE_FIELDS})
    return rows


def document_forms(
    request: HttpRequest,
    form_class: type[HeaderForm],
    document: Any,
    *,
    workspace: Workspace,
    lines_required: bool = True,
    line_ids: bool = True,
) -> tuple[HeaderForm, BaseLineFormSet]:
    """The header form and the line formset of the page that creates a document (`document`
    None: the client preselected from `?client=`) or edits one, bound on a POST."""
    if request.method == "POST":
        return (
            form_class(request.POST, workspace=workspace, with_client=document is None),
            line_formset(request.POST, lines_required=lines_required),
        )
    if document is None:
        return (
            form_class(workspace=workspace, initial={"client": request.GET.get("client")}),
            line_formset(lines_required=lines_required),
        )
    return (
        form_class(
            workspace=workspace, with_client=False, initial=form_class.initial_from(document)
        ),
        line_formset(
            initial=line_initial(document, with_ids=line_ids), lines_required=lines_required
        ),
    )


class ClientProjectsField(forms.ModelMultipleChoiceField):
    """Projects to bill time from, by public id, each shown as "Client · Project"; the form
    sets the queryset to the workspace's `project_choices`. Empty means all of them.

    The menu is bounded (core.choices: at most CHOICES_LIMIT options; 3,000 projects at the
    `large` seed scale) and, once the form knows its client, lists that client's projects
    only (`menu_for_client`); any of the workspace's projects still validates."""

    iterator = BoundedChoiceIterator
    choices_limit = CHOICES_LIMIT
    menu_filter: dict[str, Any] | None = None

    def menu_for_client(self, form: forms.BaseForm) -> None:
        client = chosen_public_id(form, "client", posted=True)
        self.menu_filter = {"client__public_id": client} if client else None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=Project.objects.none(), to_field_name="public_id", required=False, **kwargs
        )

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.client.name} · {obj.name}"


class FromTimeForm(forms.Form):
    client = BoundedModelChoiceField(queryset=Client.objects.none(), to_field_name="public_id")
    date_from = forms.DateField(required=False, widget=DATE_INPUT, label="From")
    date_to = forms.DateField(required=False, widget=DATE_INPUT, label="To")
    projects = ClientProjectsField(
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
        self.fields["client"].queryset = client_choices_including(  # type: ignore[attr-defined]
            workspace=workspace, public_id=chosen_public_id(self, "client")
        )
        self.fields["projects"].queryset = project_choices(workspace=workspace)  # type: ignore[attr-defined]
        self.fields["projects"].menu_for_client(self)  # type: ignore[attr-defined]

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
