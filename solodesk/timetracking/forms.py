"""Forms for time entries, the timer and the entry filters.

Times typed into a form are wall-clock times in the workspace's time zone, whatever the
server's or the browser's: `WorkspaceDateTimeField` reads and shows them there."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from solodesk.accounts.models import Workspace
from solodesk.core.choices import AnyIdChoiceField, BoundedModelChoiceField, DateRangeFilterForm
from solodesk.core.exceptions import ApplicationError
from solodesk.projects.models import Project
from solodesk.projects.selectors import project_choices_including
from solodesk.timetracking.models import TimeEntry
from solodesk.timetracking.selectors import TimeEntryFilters
from solodesk.timetracking.services import span_from_date_and_duration

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"

_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")
_UNITS = re.compile(
    r"^(?:(?P<hours>\d+(?:[.,]\d+)?)\s*h(?:ours?|rs?)?)?\s*"
    r"(?:(?P<minutes>\d+(?:[.,]\d+)?)\s*m(?:in(?:utes?|s)?)?)?$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^\d+(?:[.,]\d+)?$")


def parse_duration(text: str) -> dt.timedelta:
    """ "1:30", "1.5", "1,5", "90m", "2h", "1h 30m" → a timedelta. A bare number is hours."""
    value = text.strip().lower()
    seconds: Decimal | None = None
    try:
        if match := _CLOCK.match(value):
            h, m, s = match.groups()
            seconds = Decimal(int(h) * 3600 + int(m) * 60 + int(s or 0))
        elif _NUMBER.match(value):
            seconds = Decimal(value.replace(",", ".")) * 3600
        elif (match := _UNITS.match(value)) and (match["hours"] or match["minutes"]):
            hours = Decimal((match["hours"] or "0").replace(",", "."))
            minutes = Decimal((match["minutes"] or "0").replace(",", "."))
            seconds = hours * 3600 + minutes * 60
    except InvalidOperation:
        seconds = None
    if seconds is None:
        raise ValidationError(
            "Write a duration like 1:30, 1.5, 90m or 2h.", code="invalid_duration"
        )
    return dt.timedelta(seconds=int(seconds.to_integral_value()))


class DurationField(forms.CharField):
    def to_python(self, value: Any) -> dt.timedelta | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        return parse_duration(text)


class WorkspaceDateTimeField(forms.DateTimeField):
    """A `datetime-local` input read and shown in a given time zone (the workspace's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
        )
        super().__init__(*args, **kwargs)
        self.tzinfo: dt.tzinfo = dt.UTC

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            return value.astimezone(self.tzinfo).replace(tzinfo=None)
        return value

    def to_python(self, value: Any) -> dt.datetime | None:
        # DateTimeField makes a naive input aware in the *current* time zone (and rejects
        # times that do not exist there, on DST changes): make that the workspace's.
        with timezone.override(self.tzinfo):
            return super().to_python(value)


def _set_time_zone(form: forms.Form, tzinfo: dt.tzinfo) -> None:
    for field in form.fields.values():
        if isinstance(field, WorkspaceDateTimeField):
            field.tzinfo = tzinfo


class ServiceErrorsMixin:
    """Puts an ApplicationError's field messages beside the form's own fields."""

    service_field_names: dict[str, str] = {}

    def add_service_error(self, error: ApplicationError) -> None:
        form: forms.Form = self  # type: ignore[assignment]
        if not error.errors:
            form.add_error(None, error.message)
        for key, messages in error.errors.items():
            field = self.service_field_names.get(key, key)
            for message in messages:
                form.add_error(field if field in form.fields else None, message)


def _project_field() -> forms.ModelChoiceField:
    # A bounded menu (at most CHOICES_LIMIT projects, the current one first); any of the
    # workspace's bookable projects is accepted.
    return BoundedModelChoiceField(
        queryset=Project.objects.none(),  # this workspace's projects, set in __init__
        to_field_name="public_id",
        empty_label="Choose a project…",
    )


BILLABLE_CHOICES = [("", "As the project"), ("yes", "Billable"), ("no", "Not billable")]


def _billable(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class TimeEntryForm(ServiceErrorsMixin, forms.Form):
    """One form, two ways to say when: a start and an end, or a day and a duration (with an
    optional start time). A duration, when given, wins."""

    project = _project_field()
    description = forms.CharField(max_length=500, required=False)
    started_at = WorkspaceDateTimeField(label="Start", required=False)
    ended_at = WorkspaceDateTimeField(label="End", required=False)
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    duration = DurationField(
        required=False,
        help_text="1:30, 1.5, 90m or 2h",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "1:30"}),
    )
    start_time = forms.TimeField(
        label="Start time",
        required=False,
        help_text="Empty: 09:00.",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    billable = forms.TypedChoiceField(
        choices=BILLABLE_CHOICES, coerce=_billable, empty_value=None, required=False
    )
    tags = forms.CharField(
        required=False, max_length=1000, help_text="Comma separated, e.g. design, meeting."
    )

    def __init__(
        self, *args: Any, workspace: Workspace, entry: TimeEntry | None = None, **kwargs: Any
    ) -> None:
        if entry is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "project": entry.project,
                "description": entry.description,
                "started_at": entry.started_at,
                "ended_at": entry.ended_at,
                "billable": "yes" if entry.is_billable else "no",
                "tags": ", ".join(tag.name for tag in entry.tags.all()),
            }
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.by_duration = False
        current = entry.project.public_id if entry is not None else None
        if current is None:
            # A project chosen elsewhere (?project= from a prompt or a project's page).
            current = _public_id_or_none(self.initial.get("project"))
        self.fields["project"].queryset = project_choices_including(  # type: ignore[attr-defined]
            workspace=workspace, public_id=current
        )
        _set_time_zone(self, workspace.tzinfo)

    @property
    def service_field_names(self) -> dict[str, str]:  # type: ignore[override]
        # Entered as a duration, a span that is too long is the duration's fault.
        end_field = "duration" if self.by_duration else "ended_at"
        return {"project_id": "project", "ended_at": end_field}

    def clean_tags(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("duration") is not None:
            self.by_duration = True
            if not data.get("date"):
                if "date" not in self.errors:
                    self.add_error("date", "Give the day the work was done.")
                return data
            try:
                data["started_at"], data["ended_at"] = span_from_date_and_duration(
                    workspace=self.workspace,
                    date=data["date"],
                    duration=data["duration"],
                    start_time=data.get("start_time"),
                )
            except ApplicationError as error:
                self.add_service_error(error)
            return data
        if {"duration", "started_at", "ended_at"} & set(self.errors):
            return data
        start, end = data.get("started_at"), data.get("ended_at")
        if start is None and end is None:
            raise ValidationError("Give a start and an end, or a day and a duration.")
        if start is None:
            self.add_error("started_at", "Give the start too, or a day and a duration.")
        if end is None:
            self.add_error("ended_at", "Give the end too, or a day and a duration.")
        return data


class TimerStartForm(ServiceErrorsMixin, forms.Form):
    service_field_names = {"project_id": "project"}

    project = _project_field()
    description = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "What are you working on?"}),
    )
    switch = forms.BooleanField(
        required=False, label="Stop the running timer and switch to this one"
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = project_choices_including(  # type: ignore[attr-defined]
            workspace=workspace
        )


def _public_id_or_none(value: object) -> UUID | None:
    if isinstance(value, Project):
        return value.public_id
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


class TimerStopForm(forms.Form):
    ended_at = WorkspaceDateTimeField(label="Stop at", required=False, help_text="Empty: now.")

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_time_zone(self, workspace.tzinfo)


BILLABLE_FILTER_CHOICES = [("", "Billable or not"), ("yes", "Billable"), ("no", "Not billable")]


class TimeEntryFilterForm(DateRangeFilterForm):
    """The filters of the entry list and of its CSV export (same field names)."""

    # Menus built from a bounded list of projects (the view's, the chosen ones first); any
    # id is accepted, since the selectors scope the filter to the workspace (another's id
    # finds nothing).
    client = AnyIdChoiceField(empty_label="All clients", chosen_label="The chosen client")
    project = AnyIdChoiceField(empty_label="All projects", chosen_label="The chosen project")
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    billable = forms.ChoiceField(choices=BILLABLE_FILTER_CHOICES, required=False)
    unbilled = forms.BooleanField(label="Not invoiced yet", required=False)

    def __init__(self, *args: Any, projects: list[Project], **kwargs: Any) -> None:
        """`projects` come with their client joined, from `core.choices.bounded_menu` with
        the chosen project and the chosen client's projects first; the client menu is built
        from them (a client without projects has no time to filter)."""
        super().__init__(*args, **kwargs)
        clients = {project.client.public_id: project.client for project in projects}
        client_field: AnyIdChoiceField = self.fields["client"]  # type: ignore[assignment]
        client_field.set_menu(
            sorted(clients.values(), key=lambda c: (c.name.lower(), c.pk)),
            label=lambda client: client.name,
            chosen=self.data.get("client"),
        )
        project_field: AnyIdChoiceField = self.fields["project"]  # type: ignore[assignment]
        project_field.set_menu(
            projects,
            label=lambda project: f"{project.name} · {project.client.name}",
            chosen=self.data.get("project"),
        )

    def to_filters(self) -> TimeEntryFilters:
        data = self.valid_data()
        return TimeEntryFilters(
            client_id=UUID(data["client"]) if data.get("client") else None,
            project_id=UUID(data["project"]) if data.get("project") else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            billable={"yes": True, "no": False}.get(data.get("billable") or ""),
            unbilled=bool(data.get("unbilled")),
        )

    def as_query(self) -> dict[str, str]:
        """The applied filters as form values, for the export form's hidden inputs."""
        data = self.valid_data()
        values = {
            "client": data.get("client") or "",
            "project": data.get("project") or "",
            "date_from": data["date_from"].isoformat() if data.get("date_from") else "",
            "date_to": data["date_to"].isoformat() if data.get("date_to") else "",
            "billable": data.get("billable") or "",
            "unbilled": "1" if data.get("unbilled") else "",
        }
        return {key: value for key, value in values.items() if value}
