from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from solodesk.clients.models import Client
from solodesk.core.exceptions import ApplicationError

CLIENT_FORM_FIELDS = [
    "name",
    "email",
    "address",
    "tax_id",
    "currency",
    "payment_terms_days",
    "default_hourly_rate",
    "reminders_enabled",
]


class ClientForm(forms.ModelForm):
    """Validates the input; the view saves through `client_create` / `client_update`."""

    class Meta:
        model = Client
        fields = CLIENT_FORM_FIELDS
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "payment_terms_days": forms.NumberInput(attrs={"min": 0}),
            "default_hourly_rate": forms.NumberInput(attrs={"min": 0, "step": "0.01"}),
        }

    def add_service_error(self, error: ApplicationError | ValidationError) -> None:
        """Show a service's complaint beside the field it is about."""
        if isinstance(error, ValidationError):
            if hasattr(error, "error_dict"):
                for field, messages in error.message_dict.items():
                    for message in messages:
                        self.add_error(field if field in self.fields else None, message)
            else:
                for message in error.messages:
                    self.add_error(None, message)
            return
        if not error.errors:
            self.add_error(None, error.message)
        for field, messages in error.errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
