from __future__ import annotations

from django import forms

from solodesk.reports.selectors import MAX_YEAR, MIN_YEAR


class YearForm(forms.Form):
    """`?year=YYYY` of the report page and its CSV; left out, the current year."""

    year = forms.IntegerField(required=False, min_value=MIN_YEAR, max_value=MAX_YEAR)
