"""Forms of the prompts app: snoozing, and stopping a long-running timer at a chosen time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from solodesk.accounts.models import Workspace


class SnoozeForm(forms.Form):
    days = forms.IntegerField(required=False, min_value=1, max_value=365)
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("days") and not data.get("until"):
            data["days"] = 7  # the button's default: a week
        return data


class TimerStopForm(forms.Form):
    """When work really ended, as a day and a time in the workspace's time zone."""

    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def ended_at(self) -> dt.datetime:
        return dt.datetime.combine(
            self.cleaned_data["date"], self.cleaned_data["time"], self.workspace.tzinfo
        )
