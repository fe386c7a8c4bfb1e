"""Menus that stay bounded: a <select> of a model never renders more than CHOICES_LIMIT
options, whatever the workspace holds (3,000 projects at the `large` seed scale made each
time-entry form and timer start render and send 3,000 <option>s), while validation still
accepts any object of the field's whole queryset: a value chosen elsewhere (a quick start, a
prompt's button, a project's page, a search) is taken as before.

The queryset's order decides which objects make the menu: put the one the form must show
(the current value) first, as `projects.selectors.project_choices_including` does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from django import forms
from django.forms.models import ModelChoiceIterator

CHOICES_LIMIT = 200


class BoundedChoiceIterator(ModelChoiceIterator):
    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self._menu()[: self._limit()]:
            yield self.choice(obj)

    def _limit(self) -> int:
        return int(getattr(self.field, "choices_limit", CHOICES_LIMIT))

    def _menu(self) -> Any:
        """The queryset, narrowed for display by the field's `menu_filter` (e.g. the
        projects of the client the form is about); validation still uses all of it."""
        menu_filter = getattr(self.field, "menu_filter", None)
        return self.queryset.filter(**menu_filter) if menu_filter else self.queryset

    def __len__(self) -> int:
        shown = min(self._menu().count(), self._limit())
        return shown + (1 if self.field.empty_label is not None else 0)


class BoundedModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField whose menu shows the first `choices_limit` objects of its queryset
    (one query, LIMIT in SQL) and whose validation looks the value up in the whole
    queryset (one query by key, as before)."""

    iterator = BoundedChoiceIterator

    def __init__(self, *args: Any, choices_limit: int = CHOICES_LIMIT, **kwargs: Any) -> None:
        self.choices_limit = choices_limit
        super().__init__(*args, **kwargs)


def chosen_public_id(form: forms.BaseForm, name: str, *, posted: bool = False) -> UUID | None:
    """The public id a form's field starts with (initial: an object or an id), or None: what
    a bounded menu must show first. `posted=True` prefers the posted value: only for what a
    menu displays, never to widen what validates (an archived client posted by hand must
    still be refused)."""
    value = form.data.get(form.add_prefix(name)) if posted and form.is_bound else None
    value = value or form.initial.get(name)
    value = getattr(value, "public_id", value)
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


class AnyIdChoiceField(forms.ChoiceField):
    """A filter menu of some ids that accepts any well-formed id: the menu is bounded, the
    filter is not (a project's page links to the entries of any of its projects); the
    selectors scope the filter to the workspace, so another's id finds nothing."""

    def valid_value(self, value: str) -> bool:
        try:
            UUID(str(value))
        except ValueError:
            return False
        return True


class DateRangeFilterForm(forms.Form):
    """A list's filter form with `date_from` / `date_to`: the end may not come before the
    start, and one bad filter does not drop the others (`valid_data`)."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def valid_data(self) -> dict[str, Any]:
        """The fields that passed validation."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return self.cleaned_data
