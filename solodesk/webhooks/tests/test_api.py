"""The webhooks API: /api/v1/webhooks, owner only."""

from __future__ import annotations

import pytest

from solodesk.webhooks import services
from solodesk.webhooks.models import WebhookDelivery, WebhookEndpoint
from solodesk.webhooks.tests.conftest import make_endpoint

URL = "/api/v1/webhooks"


def detail_url(endpoint: WebhookEndpoint) -> str:
    return f"{URL}/{endpoint.public_id}"


def test_owner_creates_an_endpoint_and_gets_its_secret(owner):
    response = owner.api().post(
        URL,
        {"url": "https://hooks.example.com/in", "events": ["invoice.paid", "invoice.issued"]},
        content_type="application/json",
    )

    assert response.status_code == 201
    body = response.json()
    endpoint = WebhookEndpoint.objects.get(public_id=body["id"])
    assert body["secret"] == endpoint.secret
    assert body["events"] == ["invoice.issued", "invoice.paid"]
    assert body["is_active"] is True
    assert endpoint.workspace == owner.workspace


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "ftp://hooks.example.com", "events": ["invoice.paid"]}, "url"),
        ({"url": "not a url", "events": ["invoice.paid"]}, "url"),
    ],
)
def test_a_bad_url_is_a_400_naming_the_field(owner, payload, field):
    response = owner.api().post(URL, payload, content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["errors"][field] == [
        "Enter a full http:// or https:// URL, like https://example.com/hooks."
    ]
    assert body["message"]
    assert not WebhookEndpoint.objects.exists()


def test_an_unknown_event_or_none_is_a_422(owner):
    api = owner.api()
    unknown = api.post(
        URL, {"url": "https://h.example.com", "events": ["invoice.eaten"]}, "application/json"
    )
    empty = api.post(URL, {"url": "https://h.example.com", "events": []}, "application/json")
    assert (unknown.status_code, empty.status_code) == (422, 422)
    assert not WebhookEndpoint.objects.exists()


def test_patch_changes_only_what_is_sent_and_can_disable_and_reenable(owner):
    endpoint = make_endpoint(owner.workspace, events=["invoice.paid"])
    api = owner.api()

    response = api.patch(
        detail_url(endpoint), {"events": ["quote.accepted"]}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["events"] == ["quote.accepted"]
    assert response.json()["url"] == endpoint.url

    disabled = api.patch(detail_url(endpoint), {"is_active": False}, "application/json").json()
    assert disabled["is_active"] is False
    assert disabled["disabled_reason"] == f"Disabled by {owner.user.email}."
    enabled = api.patch(detail_url(endpoint), {"is_active": True}, "application/json").json()
    assert (enabled["is_active"], enabled["disabled_at"]) == (True, None)


def test_secret_regeneration_ping_and_delete(owner):
    endpoint = make_endpoint(owner.workspace)
    api = owner.api()

    regenerated = api.post(f"{detail_url(endpoint)}/secret").json()
    assert regenerated["secret"] != endpoint.secret

    ping = api.post(f"{detail_url(endpoint)}/ping")
    assert ping.status_code == 202
    assert WebhookDelivery.objects.get(endpoint=endpoint).event.public_id.hex == (
        ping.json()["event_id"].replace("-", "")
    )

    assert api.delete(detail_url(endpoint)).status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("rows", [3, services.MAX_ENDPOINTS_PER_WORKSPACE])
def test_list_and_detail_cost_the_same_whatever_the_number_of_endpoints(
    owner, rows, django_assert_num_queries
):
    endpoints = [make_endpoint(owner.workspace) for _ in range(rows)]
    api = owner.api()

    # 1 API token (+ workspace, user, timer), 2 is the user the owner, 3 COUNT, 4 the page.
    with django_assert_num_queries(4):
        listed = api.get(URL)
    # 1 API token, 2 is the user the owner, 3 the endpoint.
    with django_assert_num_queries(3):
        detail = api.get(detail_url(endpoints[-1]))

    assert listed.json()["count"] == rows
    assert detail.json()["id"] == str(endpoints[-1].public_id)


@pytest.mark.parametrize("rows", [3, 40])
def test_deliveries_are_listed_newest_first_in_constant_queries(
    owner, rows, django_assert_num_queries
):
    endpoint = make_endpoint(owner.workspace)
    for _ in range(rows):
        services.webhook_endpoint_ping(endpoint=endpoint)
    api = owner.api()

    # 1 API token, 2 is the user the owner, 3 the endpoint, 4 COUNT, 5 the page of
    # deliveries joined with their events.
    with django_assert_num_queries(5):
        response = api.get(f"{detail_url(endpoint)}/deliveries")

    body = response.json()
    assert body["count"] == rows
    first = body["items"][0]
    assert (first["event_type"], first["status"], first["attempts"]) == ("ping", "pending", 0)


@pytest.mark.parametrize("persona", ["member", "stranger"])
def test_a_member_or_a_stranger_gets_404_and_nothing_changes(request, owner, persona):
    other = request.getfixturevalue(persona)
    endpoint = make_endpoint(owner.workspace)
    before = WebhookEndpoint.objects.values().get(pk=endpoint.pk)
    api = other.api()

    responses = [
        api.get(detail_url(endpoint)),
        api.patch(detail_url(endpoint), {"url": "https://evil.example.com"}, "application/json"),
        api.delete(detail_url(endpoint)),
        api.post(f"{detail_url(endpoint)}/secret"),
        api.post(f"{detail_url(endpoint)}/ping"),
        api.get(f"{detail_url(endpoint)}/deliveries"),
    ]

    assert [r.status_code for r in responses] == [404] * 6
    assert WebhookEndpoint.objects.values().get(pk=endpoint.pk) == before
    assert not WebhookDelivery.objects.exists()


def test_a_member_cannot_list_or_create(member):
    api = member.api()
    assert api.get(URL).status_code == 404
    created = api.post(
        URL, {"url": "https://h.example.com", "events": ["invoice.paid"]}, "application/json"
    )
    assert created.status_code == 404
    assert not WebhookEndpoint.objects.exists()


def test_a_stranger_lists_only_their_own(owner, stranger):
    make_endpoint(owner.workspace)
    assert stranger.api().get(URL).json()["count"] == 0
