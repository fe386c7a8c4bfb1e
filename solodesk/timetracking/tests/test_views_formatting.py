"""How durations are read from forms and shown in templates."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template

from solodesk.timetracking.forms import parse_duration
from solodesk.timetracking.templatetags.timefmt import duration, hours


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("1:30", 90),
        ("0:05", 5),
        ("1.5", 90),
        ("1,25", 75),
        ("2", 120),
        ("90m", 90),
        ("90 min", 90),
        ("2h", 120),
        ("2 hours", 120),
        ("1h30m", 90),
        ("1h 30m", 90),
        (" 0.5H ", 30),
    ],
)
def test_parse_duration_accepts_what_people_write(text, minutes):
    assert parse_duration(text) == dt.timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "h", "abc", "1:75", "-1", "1.5.2", "m30"])
def test_parse_duration_rejects_the_rest(text):
    with pytest.raises(ValidationError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (59, "0:00"), (5400, "1:30"), (36000, "10:00"), (None, "0:00")],
)
def test_duration_filter(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [(0, "0.00 h"), (5400, "1.50 h"), (1234, "0.34 h")])
def test_hours_filter(seconds, text):
    assert hours(seconds) == text


def test_filters_load_in_templates():
    rendered = Template("{% load timefmt %}{{ s|duration }} / {{ s|hours }}").render(
        Context({"s": 4500})
    )
    assert rendered == "1:15 / 1.25 h"
