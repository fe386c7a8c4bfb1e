"""Webhook pages: owner only; a member or a stranger gets a 404 and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from solodesk.webhooks import services
from solodesk.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from solodesk.webhooks.tests.conftest import make_endpoint, sent_ids

LIST = reverse("webhooks:list")
NEW = reverse("webhooks:new")


def url(name: str, endpoint: WebhookEndpoint) -> str:
    return reverse(f"webhooks:{name}", args=[endpoint.public_id])


def _log(endpoint: WebhookEndpoint, count: int) -> None:
    for n in range(count):
        event = services.webhook_endpoint_ping(endpoint=endpoint)
        delivery = WebhookDelivery.objects.get(event=event)
        WebhookAttempt.objects.create(
            delivery=delivery,
            endpoint=endpoint,
            attempt_number=1,
            status_code=200 if n % 2 else 500,
            duration_ms=12,
            succeeded=bool(n % 2),
            error="" if n % 2 else "HTTP 500 Internal Server Error",
        )


@pytest.mark.parametrize("rows", [3, services.MAX_ENDPOINTS_PER_WORKSPACE])
def test_the_list_shows_endpoints_and_a_banner_for_disabled_ones(
    owner, rows, django_assert_num_queries
):
    for n in range(rows):
        make_endpoint(owner.workspace, url=f"https://hooks.example.com/{n}")
    WebhookEndpoint.objects.filter(url="https://hooks.example.com/0").update(
        is_active=False, disabled_reason="Disabled after 15 failed attempts over about a day."
    )

    # 1 session, 2 user (+ timer), 3 membership (+ workspace), 4 the endpoints.
    with django_assert_num_queries(4):
        response = owner.client.get(LIST)

    html = response.content.decode()
    assert html.count('data-testid="endpoint"') == rows
    assert html.count('data-testid="disabled-banner"') == 1
    assert "Disabled after 15 failed attempts" in html


def test_owner_creates_an_endpoint_and_sees_its_secret(owner):
    response = owner.client.post(
        NEW,
        {"url": "https://hooks.example.com/in", "events": ["invoice.paid", "invoice.issued"]},
    )

    endpoint = WebhookEndpoint.objects.get(workspace=owner.workspace)
    assert response.status_code == 302
    assert response["Location"] == url("detail", endpoint)
    assert endpoint.events == ["invoice.issued", "invoice.paid"]
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) == 70
    page = owner.client.get(url("detail", endpoint))
    assert endpoint.secret in page.content.decode()
    assert "no-store" in page["Cache-Control"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ftp://hooks.example.com/in", "Enter a full http:// or https:// URL"),
        ("javascript:alert(1)", "Enter a full http:// or https:// URL"),
        ("hooks.example.com", "Enter a full http:// or https:// URL"),
    ],
)
def test_only_http_and_https_urls_are_accepted_and_the_error_is_beside_the_field(
    owner, value, message
):
    response = owner.client.post(NEW, {"url": value, "events": ["invoice.paid"]})

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["url"])
    assert not WebhookEndpoint.objects.exists()


def test_choosing_no_event_is_an_error_on_events(owner):
    response = owner.client.post(NEW, {"url": "https://hooks.example.com/in"})
    assert response.status_code == 400
    assert response.context["form"].errors["events"] == ["Choose at least one event."]


@pytest.mark.parametrize("rows", [3, 60])
def test_the_endpoint_page_shows_a_paginated_delivery_log_in_constant_queries(
    owner, rows, django_assert_num_queries
):
    endpoint = make_endpoint(owner.workspace)
    _log(endpoint, rows)

    # 1 session, 2 user (+ timer), 3 membership (+ workspace), 4 the endpoint, 5 COUNT of
    # its attempts, 6 one page of attempts joined with their delivery and event.
    with django_assert_num_queries(6):
        response = owner.client.get(url("detail", endpoint))

    html = response.content.decode()
    assert html.count('data-testid="attempt"') == min(rows, 50)
    assert "HTTP 500 Internal Server Error" in html
    assert "<code>ping</code>" in html


def test_owner_edits_regenerates_disables_reenables_pings_and_deletes(owner, broker):
    endpoint = make_endpoint(owner.workspace)
    old_secret = endpoint.secret

    owner.client.post(
        url("edit", endpoint),
        {"url": "https://hooks.example.com/v2", "events": ["quote.accepted"]},
    )
    owner.client.post(url("secret", endpoint))
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events) == ("https://hooks.example.com/v2", ["quote.accepted"])
    assert endpoint.secret != old_secret

    owner.client.post(url("disable", endpoint))
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason.startswith("Disabled by ")
    response = owner.client.post(url("ping", endpoint), follow=True)
    assert "Re-enable this endpoint" in response.content.decode()

    owner.client.post(url("enable", endpoint))
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 0
    response = owner.client.post(url("ping", endpoint), follow=True)
    assert "Test event" in response.content.decode()
    assert WebhookDelivery.objects.filter(endpoint=endpoint, event__event_type="ping").count() == 1

    owner.client.post(url("delete", endpoint))
    assert not WebhookEndpoint.objects.exists()


def test_reenabling_sends_the_waiting_deliveries_again(
    owner, broker, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(owner.workspace)
    waiting = WebhookDelivery.objects.get(event=services.webhook_endpoint_ping(endpoint=endpoint))
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    broker.reset_mock()

    with django_capture_on_commit_callbacks(execute=True):
        owner.client.post(url("enable", endpoint))

    assert sent_ids(broker) == [waiting.pk]


@pytest.mark.parametrize("persona", ["member", "stranger"])
@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("detail", "get"),
        ("edit", "get"),
        ("edit", "post"),
        ("delete", "post"),
        ("enable", "post"),
        ("disable", "post"),
        ("secret", "post"),
        ("ping", "post"),
    ],
)
def test_a_member_or_a_stranger_gets_404_and_nothing_changes(request, owner, persona, name, method):
    other = request.getfixturevalue(persona)
    endpoint = make_endpoint(owner.workspace)
    before = WebhookEndpoint.objects.values().get(pk=endpoint.pk)

    client = other.client
    response = getattr(client, method)(
        url(name, endpoint), {"url": "https://evil.example.com", "events": ["invoice.paid"]}
    )

    assert response.status_code == 404
    assert WebhookEndpoint.objects.values().get(pk=endpoint.pk) == before
    assert not WebhookDelivery.objects.exists()


def test_a_member_gets_404_on_the_list_and_the_new_page(member):
    assert member.client.get(LIST).status_code == 404
    assert member.client.post(NEW, {"url": "https://x.example.com"}).status_code == 404
    assert not WebhookEndpoint.objects.exists()


def test_the_settings_nav_links_webhooks_for_the_owner_only(owner, member):
    settings_url = reverse("workspace_settings")
    assert LIST in owner.client.get(settings_url).content.decode()
    assert LIST not in member.client.get(settings_url).content.decode()


def test_the_demo_endpoint_is_made_once_and_disabled(owner):
    from solodesk.webhooks.demo import demo_webhooks

    first = demo_webhooks(owner.workspace, owner.user)
    second = demo_webhooks(owner.workspace, owner.user)

    assert first.pk == second.pk
    assert WebhookEndpoint.objects.count() == 1
    assert not first.is_active and first.owner_notified_at is not None
