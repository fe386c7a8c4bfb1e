"""The recurring profile form: the header fields here, the lines with invoicing's own line
formset (same fields, same rules as a draft invoice)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.clients.selectors import client_choices_including
from solodesk.invoicing.forms import DATE_INPUT, BaseLineFormSet, LineForm
from solodesk.invoicing.models import Invoice
from solodesk.projects.models import Project
from solodesk.projects.selectors import project_choices
from solodesk.recurring.models import DAY_OF_MONTH_CHOICES, RecurringProfile

FIELDS = (
    "name",
    "frequency",
    "day_of_month",
    "start_date",
    "end_date",
    "occurrences",
    "action",
    "bill_time",
    "discount_type",
    "discount_value",
    "notes",
)


class RecurringProfileForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.none(), to_field_name="public_id")
    name = forms.CharField(max_length=200, help_text="For you, e.g. “Monthly retainer”.")
    frequency = forms.ChoiceField(
        choices=RecurringProfile.Frequency.choices, initial=RecurringProfile.Frequency.MONTHLY
    )
    day_of_month = forms.TypedChoiceField(
        label="Day of the month",
        choices=DAY_OF_MONTH_CHOICES,
        coerce=int,
        initial=1,
        help_text="Not used for weekly profiles (they repeat on the start date's weekday).",
    )
    start_date = forms.DateField(
        widget=DATE_INPUT,
        help_text="A date in the past creates the invoices of every period since then.",
    )
    end_date = forms.DateField(required=False, widget=DATE_INPUT)
    occurrences = forms.IntegerField(
        label="Number of periods",
        required=False,
        min_value=1,
        max_value=10000,
        help_text="Stop after this many periods (empty: no limit).",
    )
    action = forms.ChoiceField(
        label="Each period",
        choices=RecurringProfile.Action.choices,
        initial=RecurringProfile.Action.DRAFT,
        widget=forms.RadioSelect,
    )
    bill_time = forms.BooleanField(
        label="Also bill the unbilled time of the period that just ended",
        required=False,
    )
    projects = forms.ModelMultipleChoiceField(
        queryset=Project.objects.none(),
        to_field_name="public_id",
        required=False,
        help_text="For billing time: leave empty for all the client's projects.",
        widget=forms.SelectMultiple(attrs={"size": 5}),
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
    )
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Printed on every invoice, followed by the period's dates.",
    )

    def __init__(self, *args: Any, workspace: Workspace, with_client: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if with_client:
            self.fields["client"].queryset = client_choices_including(  # type: ignore[attr-defined]
                workspace=workspace, public_id=self.initial.get("client") or None
            )
        else:
            del self.fields["client"]
        self.fields["projects"].queryset = project_choices(workspace=workspace)  # type: ignore[attr-defined]
        self.fields["projects"].label_from_instance = (  # type: ignore[attr-defined]
            lambda project: f"{project.client.name} · {project.name}"
        )

    def clean_discount_value(self) -> Decimal:
        return self.cleaned_data.get("discount_value") or Decimal("0")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date is before the start date.")
        return data

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in FIELDS}


def profile_initial(profile: RecurringProfile) -> dict[str, Any]:
    initial: dict[str, Any] = {name: getattr(profile, name) for name in FIELDS}
    initial["projects"] = [project.public_id for project in profile.projects.all()]
    return initial


def profile_line_initial(profile: RecurringProfile) -> list[dict[str, Any]]:
    return [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "tax_rate": line.tax_rate,
        }
        for line in profile.lines.all()
    ]


class ProfileLineFormSet(BaseLineFormSet):
    """Invoicing's line rows, except that none is fine when the profile bills time (the
    service says so when there is nothing to bill at all)."""

    def clean(self) -> None:
        forms.BaseFormSet.clean(self)


ProfileLines = forms.formset_factory(
    LineForm, formset=ProfileLineFormSet, extra=3, can_delete=True, max_num=200, validate_max=True
)


def profile_line_formset(
    data: Any = None, *, initial: list[dict[str, Any]] | None = None
) -> ProfileLineFormSet:
    return ProfileLines(data, prefix="lines", initial=initial)  # type: ignore[return-value]
