"""The clients API: /api/v1/clients."""

from decimal import Decimal

import pytest
from django.test import Client as DjangoClient

from solodesk.accounts.models import ApiToken
from solodesk.accounts.services import api_token_revoke
from solodesk.clients.models import Client
from solodesk.tests.factories import ClientFactory, ProjectFactory

URL = "/api/v1/clients"


def detail_url(client: Client, action: str = "") -> str:
    return f"{URL}/{client.public_id}{'/' + action if action else ''}"


def as_json(client: Client) -> dict:
    return {
        "id": str(client.public_id),
        "name": client.name,
        "email": client.email,
        "address": client.address,
        "tax_id": client.tax_id,
        "currency": client.currency,
        "payment_terms_days": client.payment_terms_days,
        "default_hourly_rate": (
            None if client.default_hourly_rate is None else f"{client.default_hourly_rate:.2f}"
        ),
        "archived": client.is_archived,
        "created_at": client.created_at.isoformat(),
        "updated_at": client.updated_at.isoformat(),
    }


# --- List -----------------------------------------------------------------------------


def test_list_returns_the_workspaces_active_clients_by_name(owner, stranger):
    beta = ClientFactory(workspace=owner.workspace, name="Beta", default_hourly_rate=Decimal(95))
    acme = ClientFactory(workspace=owner.workspace, name="Acme", default_hourly_rate=None)
    ClientFactory(workspace=owner.workspace, name="Archived", is_archived=True)
    ClientFactory(workspace=stranger.workspace, name="Elsewhere")

    response = owner.api().get(URL)

    assert response.status_code == 200
    acme.refresh_from_db()
    beta.refresh_from_db()
    assert response.json() == {"items": [as_json(acme), as_json(beta)], "count": 2}


def test_list_renders_amounts_as_decimal_strings_and_times_with_an_offset(owner):
    client = ClientFactory(workspace=owner.workspace, default_hourly_rate=Decimal("95"))

    item = owner.api().get(URL).json()["items"][0]

    assert item["default_hourly_rate"] == "95.00"
    assert item["created_at"].endswith("+00:00")
    assert item["created_at"] == client.created_at.isoformat()


def test_list_includes_archived_clients_on_request(owner):
    ClientFactory(workspace=owner.workspace, name="Active")
    ClientFactory(workspace=owner.workspace, name="Archived", is_archived=True)

    body = owner.api().get(URL, {"include_archived": "true"}).json()

    assert [item["name"] for item in body["items"]] == ["Active", "Archived"]


def test_list_searches_names_and_emails(owner):
    ClientFactory(workspace=owner.workspace, name="Acme", email="ap@acme.example")
    ClientFactory(workspace=owner.workspace, name="Globex", email="billing@globex.example")
    ClientFactory(workspace=owner.workspace, name="Initech", email="acme-fan@initech.example")

    body = owner.api().get(URL, {"q": "acme"}).json()

    assert [item["name"] for item in body["items"]] == ["Acme", "Initech"]


def test_list_paginates_with_limit_and_offset(owner):
    for name in ["A", "B", "C", "D", "E"]:
        ClientFactory(workspace=owner.workspace, name=name)

    body = owner.api().get(URL, {"limit": 2, "offset": 2}).json()

    assert body["count"] == 5
    assert [item["name"] for item in body["items"]] == ["C", "D"]


def test_list_refuses_a_limit_above_200(owner):
    response = owner.api().get(URL, {"limit": 201})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["limit"]


def test_member_sees_the_workspaces_clients(owner, member):
    ClientFactory(workspace=owner.workspace, name="Shared client")

    body = member.api().get(URL).json()

    assert [item["name"] for item in body["items"]] == ["Shared client"]


def test_session_authentication_works_for_reads(owner):
    client = ClientFactory(workspace=owner.workspace, name="Acme")

    response = owner.client.get(detail_url(client))

    assert response.status_code == 200
    assert response.json()["name"] == "Acme"


@pytest.mark.parametrize("rows", [3, 50])
def test_list_costs_three_queries_whatever_the_number_of_clients(
    owner, rows, django_assert_num_queries
):
    for _ in range(rows):
        ProjectFactory(client=ClientFactory(workspace=owner.workspace))
    api = owner.api()

    # 1. API token joined with its workspace, user and running timer
    # 2. COUNT of the filtered clients
    # 3. the page of clients with their active project counts
    with django_assert_num_queries(3):
        response = api.get(URL)

    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [3, 50])
def test_detail_costs_two_queries_whatever_the_number_of_clients(
    owner, rows, django_assert_num_queries
):
    clients = [ClientFactory(workspace=owner.workspace) for _ in range(rows)]
    api = owner.api()

    # 1. API token joined with its workspace, user and running timer
    # 2. the client, scoped to the workspace
    with django_assert_num_queries(2):
        response = api.get(detail_url(clients[-1]))

    assert response.status_code == 200


# --- Create and update ----------------------------------------------------------------


def test_create_stores_the_client_with_the_workspaces_currency(owner):
    response = owner.api().post(
        URL,
        {"name": "  Acme  ", "email": "ap@acme.example", "default_hourly_rate": "95.5"},
        content_type="application/json",
    )

    assert response.status_code == 201
    client = Client.objects.get(workspace=owner.workspace)
    assert client.name == "Acme"
    assert client.currency == "EUR"
    assert client.default_hourly_rate == Decimal("95.50")
    assert response.json() == as_json(client)
    assert response.json()["default_hourly_rate"] == "95.50"


def test_create_accepts_every_field(owner):
    response = owner.api().post(
        URL,
        {
            "name": "Globex",
            "email": "",
            "address": "2 Side Street",
            "tax_id": "GB123",
            "currency": "GBP",
            "payment_terms_days": 14,
            "default_hourly_rate": 120,
        },
        content_type="application/json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["currency"], body["payment_terms_days"], body["default_hourly_rate"]) == (
        "GBP",
        14,
        "120.00",
    )
    assert body["tax_id"] == "GB123"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "Acme", "email": "not-an-address"}, "email"),
        ({"name": "Acme", "currency": "XXX"}, "currency"),
        ({"name": "Acme", "default_hourly_rate": "-1"}, "default_hourly_rate"),
        ({"name": "Acme", "default_hourly_rate": "1.234"}, "default_hourly_rate"),
        ({"name": "Acme", "payment_terms_days": -5}, "payment_terms_days"),
    ],
)
def test_create_rejects_invalid_input_naming_the_field(owner, payload, field):
    response = owner.api().post(URL, payload, content_type="application/json")

    assert response.status_code == 422
    assert response.json()["message"] == "Invalid input."
    assert list(response.json()["errors"]) == [field]
    assert not Client.objects.exists()


def test_patch_changes_only_the_fields_sent(owner):
    client = ClientFactory(workspace=owner.workspace, name="Acme", email="ap@acme.example")

    response = owner.api().patch(
        detail_url(client), {"name": "Acme Corp"}, content_type="application/json"
    )

    assert response.status_code == 200
    client.refresh_from_db()
    assert (client.name, client.email) == ("Acme Corp", "ap@acme.example")
    assert response.json() == as_json(client)


def test_patch_clears_a_nullable_field_with_null(owner):
    client = ClientFactory(workspace=owner.workspace, default_hourly_rate=Decimal(80))

    response = owner.api().patch(
        detail_url(client), {"default_hourly_rate": None}, content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json()["default_hourly_rate"] is None
    client.refresh_from_db()
    assert client.default_hourly_rate is None


def test_patch_refuses_null_for_a_required_field(owner):
    client = ClientFactory(workspace=owner.workspace, name="Acme")

    response = owner.api().patch(
        detail_url(client), {"name": None}, content_type="application/json"
    )

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["name"]
    client.refresh_from_db()
    assert client.name == "Acme"


def test_archive_and_unarchive(owner):
    client = ClientFactory(workspace=owner.workspace)
    api = owner.api()

    archived = api.post(detail_url(client, "archive"))
    client.refresh_from_db()
    assert (archived.status_code, archived.json()["archived"], client.is_archived) == (
        200,
        True,
        True,
    )

    restored = api.post(detail_url(client, "unarchive"))
    client.refresh_from_db()
    assert (restored.status_code, restored.json()["archived"], client.is_archived) == (
        200,
        False,
        False,
    )


# --- Other workspaces and authentication ----------------------------------------------


@pytest.mark.parametrize(
    ("method", "action", "payload"),
    [
        ("get", "", None),
        ("patch", "", {"name": "Hijacked"}),
        ("post", "archive", None),
        ("post", "unarchive", None),
    ],
)
def test_stranger_gets_404_and_nothing_changes(owner, stranger, method, action, payload):
    client = ClientFactory(
        workspace=owner.workspace, name="Acme", is_archived=action == "unarchive"
    )
    before = as_json(client)

    kwargs = {"content_type": "application/json"} if payload is not None else {}
    response = getattr(stranger.api(), method)(detail_url(client, action), payload, **kwargs)

    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}
    client.refresh_from_db()
    assert as_json(client) == before


def test_unknown_id_is_404(owner):
    response = owner.api().get(f"{URL}/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404


def test_requests_without_a_token_are_401(db):
    response = DjangoClient().get(URL)

    assert response.status_code == 401
    assert response.json() == {"message": "Missing or invalid API token."}


def test_requests_with_a_bad_token_are_401(owner):
    response = DjangoClient(HTTP_AUTHORIZATION="Bearer sd_wrong").get(URL)

    assert response.status_code == 401


def test_a_token_stops_working_once_revoked(owner):
    api = owner.api()
    assert api.get(URL).status_code == 200

    api_token_revoke(token=ApiToken.objects.get(user=owner.user))

    response = api.get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"message": "Missing or invalid API token."}


def test_a_token_stops_working_when_its_user_leaves_the_workspace(owner, member):
    member.user.memberships.all().delete()

    assert member.api().get(URL).status_code == 401


def test_create_without_a_token_creates_nothing(db):
    response = DjangoClient().post(URL, {"name": "Acme"}, content_type="application/json")

    assert response.status_code == 401
    assert not Client.objects.exists()
