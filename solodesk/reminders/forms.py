"""The reminder settings page: one small form per stage (a formset, with one empty row to
add a stage and a box to remove one) and the late-fee rule."""

from __future__ import annotations

from django import forms

from solodesk.reminders.models import PLACEHOLDERS, ReminderSettings

PLACEHOLDER_HELP = "Placeholders: " + ", ".join("{" + name + "}" for name in PLACEHOLDERS) + "."


class StageForm(forms.Form):
    offset_days = forms.IntegerField(
        label="Days from the due date",
        min_value=-60,
        max_value=365,
        help_text="−3 = three days before, 0 = on the due date, 7 = a week after.",
    )
    subject = forms.CharField(max_length=200)
    body = forms.CharField(
        label="Text", widget=forms.Textarea(attrs={"rows": 6}), help_text=PLACEHOLDER_HELP
    )
    is_enabled = forms.BooleanField(label="Send this reminder", required=False, initial=True)


StageFormSet = forms.formset_factory(StageForm, extra=1, can_delete=True, max_num=12)


class LateFeeForm(forms.Form):
    late_fee_type = forms.ChoiceField(
        label="Late fee", choices=ReminderSettings.LateFeeType.choices
    )
    late_fee_value = forms.DecimalField(
        label="Amount or percentage",
        min_value=0,
        max_digits=14,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "step": "0.01"}),
    )
    late_fee_after_days = forms.IntegerField(
        label="Charged from this many days after the due date",
        min_value=0,
        max_value=365,
        help_text="With the first automatic reminder sent that late; once per invoice, as a "
        "separate draft invoice you review and issue.",
    )


class SendNowForm(forms.Form):
    to_email = forms.EmailField(label="Send to", required=False)
