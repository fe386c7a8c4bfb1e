from __future__ import annotations

import pytest
from django.urls import reverse

from solodesk.accounts import views
from solodesk.accounts.models import Workspace
from solodesk.core.exceptions import ApplicationError

URL = reverse("workspace_settings")

VALID = {
    "name": "Owner Studio GmbH",
    "address": "Hauptstrasse 1\n10115 Berlin",
    "tax_id": "DE123456789",
    "default_currency": "CHF",
    "time_zone": "Europe/Berlin",
    "payment_terms_days": "14",
    "payment_details": "IBAN DE89 3704 0044 0532 0130 00",
    "invoice_number_format": "{year}-{seq:04d}",
    "credit_note_number_format": "CN-{year}-{seq:04d}",
    "time_rounding_mode": "none",
    "time_rounding_minutes": "1",
    "time_rounding_scope": "entry",
}


def _snapshot(workspace: Workspace) -> dict:
    return (
        Workspace.objects.filter(pk=workspace.pk)
        .values(
            "name",
            "address",
            "tax_id",
            "default_currency",
            "time_zone",
            "payment_terms_days",
            "payment_details",
        )
        .get()
    )


def test_owner_sees_the_workspace_form_with_current_values(owner, django_assert_num_queries):
    # 1 session, 2 user joined with the running timer, 3 membership joined with workspace,
    # 4 the latest time-totals recount job (none)
    with django_assert_num_queries(4):
        response = owner.client.get(URL)

    assert response.status_code == 200
    assert response.context["nav"] == "settings"
    html = response.content.decode()
    assert 'data-testid="workspace-form"' in html
    assert '<input type="text" name="name" value="Owner Studio"' in html
    assert '<option value="Europe/Brussels" selected>' in html
    assert 'name="payment_terms_days" value="30"' in html


def test_owner_saves_the_workspace_through_the_form(owner, django_assert_num_queries):
    # 1 session, 2 user, 3 membership and workspace, 4 UPDATE workspace; the time zone
    # changed, so 5 INSERT the Job that recounts the time totals in it after commit
    # (decision 0007).
    with django_assert_num_queries(5):
        response = owner.client.post(URL, VALID)

    assert response.status_code == 302
    assert response["Location"] == URL
    assert _snapshot(owner.workspace) == {
        "name": "Owner Studio GmbH",
        "address": "Hauptstrasse 1\n10115 Berlin",
        "tax_id": "DE123456789",
        "default_currency": "CHF",
        "time_zone": "Europe/Berlin",
        "payment_terms_days": 14,
        "payment_details": "IBAN DE89 3704 0044 0532 0130 00",
    }
    response = owner.client.get(URL)
    assert [str(m) for m in response.context["messages"]] == ["Workspace settings saved."]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("name", "", "This field is required."),
        (
            "default_currency",
            "XXX",
            "Select a valid choice. XXX is not one of the available choices.",
        ),
        (
            "time_zone",
            "Mars/Olympus",
            "Select a valid choice. Mars/Olympus is not one of the available choices.",
        ),
        ("payment_terms_days", "-1", "Ensure this value is greater than or equal to 0."),
    ],
)
def test_owner_gets_a_form_error_for_bad_input_and_nothing_changes(owner, field, value, error):
    before = _snapshot(owner.workspace)

    response = owner.client.post(URL, {**VALID, field: value})

    assert response.status_code == 400
    assert response.context["form"].errors == {field: [error]}
    assert f'<ul class="errorlist" id="id_{field}_error"><li>' in response.content.decode()
    assert _snapshot(owner.workspace) == before


def test_member_sees_the_workspace_read_only(member):
    response = member.client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="workspace-readonly"' in html
    assert 'data-testid="workspace-form"' not in html
    assert 'name="name"' not in html
    assert "<dd>Owner Studio</dd>" in html
    assert "<dd>Europe/Brussels</dd>" in html
    assert "Only the owner of the workspace can change these details." in html


def test_member_cannot_change_the_workspace(member):
    before = _snapshot(member.workspace)

    response = member.client.post(URL, VALID)

    assert response.status_code == 404
    assert _snapshot(member.workspace) == before


def test_stranger_sees_and_changes_only_their_own_workspace(owner, stranger):
    before = _snapshot(owner.workspace)

    response = stranger.client.get(URL)
    assert response.status_code == 200
    assert '<input type="text" name="name" value="Stranger Studio"' in response.content.decode()
    assert "Owner Studio" not in response.content.decode()

    response = stranger.client.post(URL, VALID)

    assert response.status_code == 302
    assert _snapshot(owner.workspace) == before
    assert _snapshot(stranger.workspace)["name"] == "Owner Studio GmbH"


def test_anonymous_visitor_is_sent_to_log_in(client, owner):
    response = client.post(URL, VALID)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={URL}"
    assert _snapshot(owner.workspace)["name"] == "Owner Studio"


def test_a_rule_broken_in_the_service_shows_beside_its_field(owner, monkeypatch):
    def refuse(**kwargs):
        raise ApplicationError.for_field("tax_id", "This tax id is not valid in Germany.")

    monkeypatch.setattr(views, "workspace_update", refuse)
    before = _snapshot(owner.workspace)

    response = owner.client.post(URL, VALID)

    assert response.status_code == 400
    assert response.context["form"].errors == {"tax_id": ["This tax id is not valid in Germany."]}
    assert _snapshot(owner.workspace) == before
