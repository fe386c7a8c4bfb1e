from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from solodesk.core.exceptions import ApplicationError
from solodesk.webhooks.models import EVENT_TYPES


class WebhookEndpointForm(forms.Form):
    """Validates the input; the view saves through the webhooks services (which also
    check the URL's scheme and the event names: the API gets the same rules)."""

    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text="Where Solodesk POSTs the events: an http:// or https:// address.",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/solodesk-hooks"}),
    )
    description = forms.CharField(max_length=200, required=False)
    events = forms.MultipleChoiceField(
        choices=[(name, f"{name} — {label}") for name, label in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )

    def add_service_error(self, error: ApplicationError | ValidationError) -> None:
        """Show a service's complaint beside the field it is about."""
        if isinstance(error, ValidationError):
            for message in error.messages:
                self.add_error(None, message)
            return
        if not error.errors:
            self.add_error(None, error.message)
        for field, messages in error.errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
