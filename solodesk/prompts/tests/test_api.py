"""Prompts in the API: list (recording shown), dismiss and snooze; 404 for unknown keys,
JSON errors for bad input."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from solodesk.prompts.models import PromptEvent, PromptState
from solodesk.tests.factories import ClientFactory

URL = "/api/v1/prompts"


def test_list_returns_prompts_with_their_call_to_action(owner):
    response = owner.api().get(URL)
    assert response.status_code == 200
    [card] = response.json()
    assert card["key"] == "onboarding"
    assert card["cta"] == {
        "label": "Complete your business profile",
        "url": "/settings/workspace/",
        "method": "GET",
    }
    assert card["click_url"].startswith("/prompts/go/onboarding:business_profile/?to=")
    assert [step["done"] for step in card["steps"]] == [False] * 6
    assert PromptEvent.objects.filter(kind="shown").count() == 1


def test_dismiss_and_snooze(owner):
    client = ClientFactory(workspace=owner.workspace, email="")
    key = f"client_incomplete:{client.public_id}"
    response = owner.api().post(f"{URL}/{key}/snooze", {"days": 3}, content_type="application/json")
    assert response.status_code == 200
    today = timezone.localdate(timezone=owner.workspace.tzinfo)
    assert response.json()["snoozed_until"] == (today + dt.timedelta(days=3)).isoformat()
    assert key not in [p["key"] for p in owner.api().get(URL).json()]

    response = owner.api().post(f"{URL}/onboarding/dismiss")
    assert response.status_code == 200
    assert response.json()["dismissed_at"]
    assert owner.api().get(URL).json() == []


def test_unknown_or_foreign_key_is_a_404(owner, stranger):
    client = ClientFactory(workspace=stranger.workspace, email="")
    for key in ("nonsense", f"client_incomplete:{client.public_id}"):
        response = owner.api().post(f"{URL}/{key}/dismiss")
        assert response.status_code == 404
        assert response.json() == {"message": "Not found."}
    assert not PromptState.objects.exists()


def test_snooze_validation_errors_are_json(owner):
    response = owner.api().post(
        f"{URL}/onboarding/snooze", {"days": 0}, content_type="application/json"
    )
    assert response.status_code == 422
    assert "days" in response.json()["errors"]
    yesterday = timezone.localdate(timezone=owner.workspace.tzinfo) - dt.timedelta(days=1)
    response = owner.api().post(
        f"{URL}/onboarding/snooze",
        {"until": yesterday.isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"until": ["Choose a day after today."]}
    response = owner.api().post(f"{URL}/onboarding/snooze", {}, content_type="application/json")
    assert response.status_code == 400
    assert "until" in response.json()["errors"]
