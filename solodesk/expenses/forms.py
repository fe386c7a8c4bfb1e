"""Forms for an expense and for the filters of the expense list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from uuid import UUID

from django import forms

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.clients.selectors import client_choices_including
from solodesk.core.choices import AnyIdChoiceField, DateRangeFilterForm
from solodesk.core.exceptions import ApplicationError
from solodesk.core.money import CURRENCY_CHOICES
from solodesk.expenses.models import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, Expense
from solodesk.expenses.selectors import ExpenseFilters, month_range
from solodesk.projects.models import Project
from solodesk.projects.selectors import project_choices_including

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class ExpenseForm(forms.Form):
    """Validates the input; the view saves through `expense_create` / `expense_update`."""

    # The services name relations as the API does.
    service_field_names = {"client_id": "client", "project_id": "project"}

    date = forms.DateField(widget=DATE_INPUT)
    amount = forms.DecimalField(
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"min": "0.01", "step": "0.01", "inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(
        choices=[("", "The client's, else the workspace's"), *CURRENCY_CHOICES],
        required=False,
    )
    category = forms.ChoiceField(choices=Expense.Category.choices, initial=Expense.Category.OTHER)
    description = forms.CharField(max_length=500, required=False)
    client = forms.ModelChoiceField(
        queryset=Client.objects.none(),  # this workspace's clients, set in __init__
        to_field_name="public_id",
        required=False,
        empty_label="No client",
    )
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(),  # this workspace's projects, set in __init__
        to_field_name="public_id",
        required=False,
        empty_label="No project",
        help_text="Its client is taken when no client is chosen.",
    )
    is_billable = forms.BooleanField(label="Billable to the client", required=False)

    def __init__(
        self, *args: Any, workspace: Workspace, expense: Expense | None = None, **kwargs: Any
    ) -> None:
        if expense is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "date": expense.date,
                "amount": expense.amount,
                "currency": expense.currency,
                "category": expense.category,
                "description": expense.description,
                "client": expense.client,
                "project": expense.project,
                "is_billable": expense.is_billable,
            }
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = client_choices_including(  # type: ignore[attr-defined]
            workspace=workspace,
            public_id=expense.client.public_id if expense and expense.client else None,
        )
        self.fields["project"].queryset = project_choices_including(  # type: ignore[attr-defined]
            workspace=workspace,
            public_id=expense.project.public_id if expense and expense.project else None,
        )
        if expense is not None:
            # A stored expense has a currency: editing it chooses another, never "none".
            self.fields["currency"].required = True
            self.fields["currency"].choices = CURRENCY_CHOICES  # type: ignore[attr-defined]

    def add_service_error(self, error: ApplicationError) -> None:
        """Show a service's complaint beside the field it is about."""
        if not error.errors:
            self.add_error(None, error.message)
        for key, messages in error.errors.items():
            field = self.service_field_names.get(key, key)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)


BILLABLE_FILTER_CHOICES = [("", "Billable or not"), ("yes", "Billable"), ("no", "Not billable")]


class MonthField(forms.CharField):
    """An `<input type="month">`: "2026-11" → the first day of that month."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"})

    def to_python(self, value: Any) -> dt.date | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return dt.date.fromisoformat(f"{text}-01")
        except ValueError:
            raise forms.ValidationError("Write a month like 2026-11.") from None

    def prepare_value(self, value: Any) -> Any:
        return value.strftime("%Y-%m") if isinstance(value, dt.date) else value


class ExpenseFilterForm(DateRangeFilterForm):
    """The filters of the expense list. A month, when given, replaces from and to."""

    month = MonthField(required=False)
    date_from = forms.DateField(label="From", required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label="To", required=False, widget=DATE_INPUT)
    # Bounded menus (the view's, the chosen ones among them); any id filters.
    client = AnyIdChoiceField(empty_label="All clients", chosen_label="The chosen client")
    project = AnyIdChoiceField(empty_label="All projects", chosen_label="The chosen project")
    category = forms.ChoiceField(
        choices=[("", "All categories"), *Expense.Category.choices], required=False
    )
    billable = forms.ChoiceField(choices=BILLABLE_FILTER_CHOICES, required=False)

    def __init__(
        self, *args: Any, clients: list[Client], projects: list[Project], **kwargs: Any
    ) -> None:
        """`clients` and `projects` (with their client joined) come from
        `core.choices.bounded_menu`, the chosen ones first."""
        super().__init__(*args, **kwargs)
        client_field: AnyIdChoiceField = self.fields["client"]  # type: ignore[assignment]
        client_field.set_menu(
            clients, label=lambda client: client.name, chosen=self.data.get("client")
        )
        project_field: AnyIdChoiceField = self.fields["project"]  # type: ignore[assignment]
        project_field.set_menu(
            projects,
            label=lambda project: f"{project.name} · {project.client.name}",
            chosen=self.data.get("project"),
        )

    def to_filters(self) -> ExpenseFilters:
        data = self.valid_data()
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if data.get("month"):
            date_from, date_to = month_range(data["month"])
        return ExpenseFilters(
            date_from=date_from,
            date_to=date_to,
            client_id=UUID(data["client"]) if data.get("client") else None,
            project_id=UUID(data["project"]) if data.get("project") else None,
            category=data.get("category") or "",
            billable={"yes": True, "no": False}.get(data.get("billable") or ""),
        )
