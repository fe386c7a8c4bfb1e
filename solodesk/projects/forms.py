from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from solodesk.accounts.models import Workspace
from solodesk.clients.selectors import client_choices_including
from solodesk.core.choices import BoundedModelChoiceField, chosen_public_id
from solodesk.core.exceptions import ApplicationError
from solodesk.projects.models import Project

# Service error keys (API names) → form fields.
SERVICE_FIELD_NAMES = {"client_id": "client"}


class ProjectForm(forms.ModelForm):
    """The client list is this workspace's active clients (plus the project's own client when
    editing), so a forged client id from another workspace is "not one of the choices"."""

    # A bounded menu (core.choices), the current client first; any active client validates.
    client: forms.ModelChoiceField = BoundedModelChoiceField(
        queryset=None,  # set per workspace in __init__
        to_field_name="public_id",
        empty_label="Choose a client…",
    )

    class Meta:
        model = Project
        fields = [
            "client",
            "name",
            "billing_method",
            "hourly_rate",
            "fixed_fee",
            "budget_hours",
            "budget_amount",
            "time_rounding_mode",
            "time_rounding_minutes",
            "time_rounding_scope",
        ]
        labels = {
            "time_rounding_mode": "Round billed time",
            "time_rounding_minutes": "Rounding step",
            "time_rounding_scope": "Round",
        }
        help_texts = {
            "time_rounding_mode": "Blank: the workspace's rule (Settings).",
        }
        widgets = {
            "hourly_rate": forms.NumberInput(attrs={"min": 0, "step": "0.01"}),
            "fixed_fee": forms.NumberInput(attrs={"min": 0, "step": "0.01"}),
            "budget_hours": forms.NumberInput(attrs={"min": 0, "step": "0.25"}),
            "budget_amount": forms.NumberInput(attrs={"min": 0, "step": "0.01"}),
        }

    def __init__(self, *args, workspace: Workspace, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.client.public_id if self.instance.client_id else None
        current = current or chosen_public_id(self, "client")  # ?client= from a link
        self.fields["client"].queryset = client_choices_including(  # type: ignore[attr-defined]
            workspace=workspace, public_id=current
        )
        # The rounding overrides: the empty choice is "as the workspace does it".
        for name in ("time_rounding_mode", "time_rounding_minutes", "time_rounding_scope"):
            field = self.fields[name]
            field.choices = [("", "Workspace's setting"), *list(field.choices)[1:]]  # type: ignore[attr-defined]

    def add_service_error(self, error: ApplicationError | ValidationError) -> None:
        """Show a service's complaint beside the field it is about."""
        if isinstance(error, ValidationError):
            items = error.message_dict.items() if hasattr(error, "error_dict") else []
            if not items:
                for message in error.messages:
                    self.add_error(None, message)
            for field, messages in items:
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            return
        if not error.errors:
            self.add_error(None, error.message)
        for key, messages in error.errors.items():
            field = SERVICE_FIELD_NAMES.get(key, key)
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
