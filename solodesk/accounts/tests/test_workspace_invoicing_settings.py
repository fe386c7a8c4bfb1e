"""The invoicing part of the workspace settings: number formats and time rounding."""

from __future__ import annotations

import pytest
from django.urls import reverse

from solodesk.accounts.models import Workspace
from solodesk.accounts.services import number_format_error, workspace_update
from solodesk.accounts.tests.test_workspace_settings import VALID
from solodesk.core.exceptions import ApplicationError

URL = reverse("workspace_settings")
FIELDS = (
    "invoice_number_format",
    "credit_note_number_format",
    "time_rounding_mode",
    "time_rounding_minutes",
    "time_rounding_scope",
)


def _snapshot(workspace: Workspace) -> dict:
    return Workspace.objects.filter(pk=workspace.pk).values("name", *FIELDS).get()


def test_owner_sees_the_number_formats_and_rounding_in_the_form(owner):
    html = owner.client.get(URL).content.decode()

    assert 'name="invoice_number_format" value="{year}-{seq:04d}"' in html
    assert 'name="credit_note_number_format" value="CN-{year}-{seq:04d}"' in html
    assert '<option value="none" selected>No rounding</option>' in html
    assert '<option value="1" selected>1 minute</option>' in html
    assert '<option value="entry" selected>Each entry</option>' in html


def test_owner_saves_number_formats_and_rounding(owner):
    response = owner.client.post(
        URL,
        {
            **VALID,
            "invoice_number_format": " INV/{year}/{seq:03d} ",
            "credit_note_number_format": "G{seq}",
            "time_rounding_mode": "up",
            "time_rounding_minutes": "15",
            "time_rounding_scope": "line",
        },
    )

    assert response.status_code == 302
    assert _snapshot(owner.workspace) == {
        "name": "Owner Studio GmbH",
        "invoice_number_format": "INV/{year}/{seq:03d}",
        "credit_note_number_format": "G{seq}",
        "time_rounding_mode": "up",
        "time_rounding_minutes": 15,
        "time_rounding_scope": "line",
    }


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        (
            "invoice_number_format",
            "{year}-0001",
            "The format must contain {seq}, the running number, e.g. {year}-{seq:04d}.",
        ),
        (
            "invoice_number_format",
            "{year}-{number}",
            "This format does not work ('number'): use {year} and {seq}, e.g. {year}-{seq:04d}.",
        ),
        (
            "credit_note_number_format",
            "CN-{seq",
            "This format does not work (expected '}' before end of string): use {year} and "
            "{seq}, e.g. {year}-{seq:04d}.",
        ),
        (
            "credit_note_number_format",
            "CN-{seq:q}",
            "This format does not work (Unknown format code 'q' for object of type 'int'): "
            "use {year} and {seq}, e.g. {year}-{seq:04d}.",
        ),
        (
            "invoice_number_format",
            "{year}-{seq:045d}",
            "The format gives a number longer than 40 characters "
            "(“2026-000000000000000000000000000000000000000000001…”).",
        ),
        ("invoice_number_format", "", "This field is required."),
        (
            "time_rounding_mode",
            "down",
            "Select a valid choice. down is not one of the available choices.",
        ),
        (
            "time_rounding_minutes",
            "7",
            "Select a valid choice. 7 is not one of the available choices.",
        ),
        (
            "time_rounding_scope",
            "day",
            "Select a valid choice. day is not one of the available choices.",
        ),
    ],
)
def test_a_bad_format_or_rounding_is_a_form_error_and_changes_nothing(owner, field, value, error):
    before = _snapshot(owner.workspace)

    response = owner.client.post(URL, {**VALID, "name": "Changed", field: value})

    assert response.status_code == 400
    assert response.context["form"].errors == {field: [error]}
    assert _snapshot(owner.workspace) == before


def test_the_service_refuses_a_bad_format_and_leaves_the_workspace_untouched(owner):
    workspace = owner.workspace

    with pytest.raises(ApplicationError) as error:
        workspace_update(workspace=workspace, name="Changed", credit_note_number_format="CN-{year}")

    assert error.value.errors == {
        "credit_note_number_format": [
            "The format must contain {seq}, the running number, e.g. {year}-{seq:04d}."
        ]
    }
    assert (workspace.name, workspace.credit_note_number_format) == (
        "Owner Studio",
        "CN-{year}-{seq:04d}",
    )
    assert _snapshot(workspace)["name"] == "Owner Studio"


@pytest.mark.parametrize(
    "number_format", ["{year}-{seq:04d}", "{seq}", "R{seq:06d}/{year}", "{year}{seq:>5}"]
)
def test_usable_formats_pass(number_format):
    assert number_format_error(number_format) is None


def test_member_sees_the_formats_and_rounding_read_only(member):
    html = member.client.get(URL).content.decode()

    assert "<dd><code>{year}-{seq:04d}</code></dd>" in html
    assert "<dd><code>CN-{year}-{seq:04d}</code></dd>" in html
    assert "<dt>Billed time</dt><dd>No rounding</dd>" in html


def test_member_cannot_change_the_formats(member):
    before = _snapshot(member.workspace)

    response = member.client.post(URL, {**VALID, "invoice_number_format": "X{seq}"})

    assert response.status_code == 404
    assert _snapshot(member.workspace) == before
