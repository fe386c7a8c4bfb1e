"""`core.choices.FastSelect` renders the HTML Django's `forms.Select` renders."""

import pytest
from django import forms
from django.test.html import parse_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from solodesk.core.choices import FastSelect

CASES = [
    # (choices, value, attrs)
    ([("", "All projects"), ("a", "Alpha"), ("b", "Beta")], "b", None),
    ([("", "All projects"), ("a", "Alpha")], None, {"id": "id_project", "required": True}),
    (
        [
            ("1", 'Smith & "Sons" <Ltd>'),
            ("2", mark_safe("<em>safe</em>")),
            ("3", gettext_lazy("Yes")),
        ],
        "1",
        {"class": "wide", "disabled": False, "data-x": 'a"b'},
    ),
    (
        [("Acme", [("p1", "Site"), ("p2", "App")]), ("Other", [("p3", "Misc")]), ("x", "Loose")],
        "p2",
        {"aria-label": "Project"},
    ),
    ([(1, "One"), (2, "Two")], 2, None),
]


@pytest.mark.parametrize(("choices", "value", "attrs"), CASES)
def test_the_same_html_as_djangos_select(choices, value, attrs):
    django_html = forms.Select(choices=choices).render("project", value, attrs=attrs)
    fast_html = FastSelect(choices=choices).render("project", value, attrs=attrs)

    assert parse_html(fast_html) == parse_html(django_html)


def test_a_form_field_renders_through_it():
    class Form(forms.Form):
        project = forms.ChoiceField(choices=[("a", "A & B")], widget=FastSelect)

    rendered = str(Form(initial={"project": "a"})["project"])

    assert '<option value="a" selected>A &amp; B</option>' in rendered
    assert 'id="id_project"' in rendered
