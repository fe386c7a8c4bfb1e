"""The recurring profile form: the header fields here (on invoicing's document header), the
lines with invoicing's own line formset (same fields, same rules as a draft invoice, except
that a profile billing time may have none)."""

from __future__ import annotations

from typing import Any

from django import forms

from solodesk.accounts.models import Workspace
from solodesk.invoicing.forms import DATE_INPUT, ClientProjectsField, DocumentHeaderForm
from solodesk.projects.selectors import project_choices
from solodesk.recurring.models import DAY_OF_MONTH_CHOICES, RecurringProfile

# The schedule, in the order the form shows it (client first, projects and the shared
# discount and notes after).
SCHEDULE_FIELDS = (
    "name",
    "frequency",
    "day_of_month",
    "start_date",
    "end_date",
    "occurrences",
    "action",
    "bill_time",
)


class RecurringProfileForm(DocumentHeaderForm):
    field_order = ["client", *SCHEDULE_FIELDS, "projects"]
    document_fields = (*SCHEDULE_FIELDS, "discount_type", "discount_value", "notes")

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
    projects = ClientProjectsField(
        help_text="For billing time: leave empty for all the client's projects.",
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Printed on every invoice, followed by the period's dates.",
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any):
        super().__init__(*args, workspace=workspace, **kwargs)
        self.fields["projects"].queryset = project_choices(workspace=workspace)  # type: ignore[attr-defined]
        self.fields["projects"].menu_for_client(self)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date is before the start date.")
        return data

    @classmethod
    def initial_from(cls, document: Any) -> dict[str, Any]:
        initial = super().initial_from(document)
        initial["projects"] = [project.public_id for project in document.projects.all()]
        return initial
