"""The projects API: /api/v1/projects."""

from decimal import Decimal

import pytest
from django.test import Client as DjangoClient

from solodesk.projects.models import Project
from solodesk.tests.factories import ClientFactory, ProjectFactory

URL = "/api/v1/projects"
CLIENT = "<the owner's client>"


def detail_url(project: Project, action: str = "") -> str:
    return f"{URL}/{project.public_id}{'/' + action if action else ''}"


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{amount:.2f}"


def as_json(project: Project) -> dict:
    return {
        "id": str(project.public_id),
        "client_id": str(project.client.public_id),
        "client_name": project.client.name,
        "name": project.name,
        "billing_method": project.billing_method,
        "currency": project.client.currency,
        "hourly_rate": money(project.hourly_rate),
        "fixed_fee": money(project.fixed_fee),
        "budget_hours": money(project.budget_hours),
        "budget_amount": money(project.budget_amount),
        "time_rounding_mode": project.time_rounding_mode or None,
        "time_rounding_minutes": project.time_rounding_minutes,
        "time_rounding_scope": project.time_rounding_scope or None,
        "archived": project.is_archived,
        "created_at": project.created_at.isoformat(),
        "updated_at": project.updated_at.isoformat(),
    }


@pytest.fixture
def client_row(owner):
    return ClientFactory(workspace=owner.workspace, name="Acme", currency="USD")


# --- List -----------------------------------------------------------------------------


def test_list_returns_the_workspaces_active_projects_by_client_and_name(owner, stranger):
    acme = ClientFactory(workspace=owner.workspace, name="Acme")
    beta = ClientFactory(workspace=owner.workspace, name="Beta")
    second = ProjectFactory(client=beta, name="Audit")
    first = ProjectFactory(client=acme, name="Website", hourly_rate=Decimal("95"))
    ProjectFactory(client=acme, name="Old", is_archived=True)
    ProjectFactory(client__workspace=stranger.workspace)

    response = owner.api().get(URL)

    assert response.status_code == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert response.json() == {"items": [as_json(first), as_json(second)], "count": 2}
    assert response.json()["items"][0]["hourly_rate"] == "95.00"


def test_list_filters_by_client_search_and_archived(owner):
    acme = ClientFactory(workspace=owner.workspace, name="Acme")
    ProjectFactory(client=acme, name="Website")
    ProjectFactory(client=acme, name="Old website", is_archived=True)
    ProjectFactory(client__workspace=owner.workspace, name="Website for Beta")
    api = owner.api()

    by_client = api.get(URL, {"client_id": str(acme.public_id)}).json()
    with_archived = api.get(
        URL, {"client_id": str(acme.public_id), "include_archived": "true"}
    ).json()
    searched = api.get(URL, {"q": "beta"}).json()

    assert [item["name"] for item in by_client["items"]] == ["Website"]
    assert [item["name"] for item in with_archived["items"]] == ["Old website", "Website"]
    assert [item["name"] for item in searched["items"]] == ["Website for Beta"]


def test_list_rejects_a_client_id_that_is_not_a_uuid(owner):
    response = owner.api().get(URL, {"client_id": "42"})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["client_id"]


def test_member_sees_the_workspaces_projects(owner, member):
    ProjectFactory(client__workspace=owner.workspace, name="Shared")

    body = member.api().get(URL).json()

    assert [item["name"] for item in body["items"]] == ["Shared"]


def test_session_authentication_works_for_reads(owner):
    ProjectFactory(client__workspace=owner.workspace, name="Website")

    response = owner.client.get(URL)

    assert response.status_code == 200
    assert [item["name"] for item in response.json()["items"]] == ["Website"]


@pytest.mark.parametrize("rows", [3, 50])
def test_list_costs_three_queries_whatever_the_number_of_projects(
    owner, rows, django_assert_num_queries
):
    for _ in range(rows):
        ProjectFactory(client=ClientFactory(workspace=owner.workspace))
    api = owner.api()

    # 1. API token joined with its workspace, user and running timer
    # 2. COUNT of the filtered projects
    # 3. the page of projects joined with their clients
    with django_assert_num_queries(3):
        response = api.get(URL)

    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [3, 50])
def test_detail_costs_two_queries_whatever_the_number_of_projects(
    owner, rows, django_assert_num_queries
):
    projects = [ProjectFactory(client__workspace=owner.workspace) for _ in range(rows)]
    api = owner.api()

    # 1. API token joined with its workspace, user and running timer
    # 2. the project joined with its client, scoped to the workspace
    with django_assert_num_queries(2):
        response = api.get(detail_url(projects[-1]))

    assert response.status_code == 200


# --- Create and update ----------------------------------------------------------------


def test_create_stores_the_project_for_the_client(owner, client_row):
    response = owner.api().post(
        URL,
        {
            "client_id": str(client_row.public_id),
            "name": "Website",
            "billing_method": "hourly",
            "hourly_rate": "95",
            "budget_hours": 40,
            "budget_amount": "3800.5",
        },
        content_type="application/json",
    )

    assert response.status_code == 201
    project = Project.objects.get(workspace=owner.workspace)
    assert (project.client, project.name, project.hourly_rate) == (
        client_row,
        "Website",
        Decimal("95.00"),
    )
    assert response.json() == as_json(project)
    assert response.json()["hourly_rate"] == "95.00"
    assert response.json()["budget_amount"] == "3800.50"
    assert response.json()["currency"] == "USD"


def test_create_defaults_to_hourly_billing(owner, client_row):
    response = owner.api().post(
        URL,
        {"client_id": str(client_row.public_id), "name": "Retainer"},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.json()["billing_method"] == "hourly"
    assert response.json()["hourly_rate"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Website"}, "client_id"),
        ({"client_id": "not-a-uuid", "name": "Website"}, "client_id"),
        ({"client_id": CLIENT, "name": ""}, "name"),
        ({"client_id": CLIENT, "name": "Website", "billing_method": "daily"}, "billing_method"),
        ({"client_id": CLIENT, "name": "Website", "hourly_rate": "-10"}, "hourly_rate"),
        ({"client_id": CLIENT, "name": "Website", "fixed_fee": "abc"}, "fixed_fee"),
        ({"client_id": CLIENT, "name": "Website", "budget_hours": "-1"}, "budget_hours"),
    ],
)
def test_create_rejects_invalid_input_naming_the_field(owner, client_row, payload, field):
    if payload.get("client_id") == CLIENT:
        payload = {**payload, "client_id": str(client_row.public_id)}

    response = owner.api().post(URL, payload, content_type="application/json")

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert not Project.objects.exists()


def test_create_rejects_a_strangers_client_and_creates_nothing(owner, stranger):
    strangers_client = ClientFactory(workspace=stranger.workspace)

    response = owner.api().post(
        URL,
        {"client_id": str(strangers_client.public_id), "name": "Sneaky"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"client_id": ["Client not found."]}
    assert not Project.objects.exists()


def test_patch_changes_only_the_fields_sent(owner, client_row):
    project = ProjectFactory(client=client_row, name="Website", hourly_rate=Decimal(95))

    response = owner.api().patch(
        detail_url(project),
        {"billing_method": "fixed", "fixed_fee": "5000"},
        content_type="application/json",
    )

    assert response.status_code == 200
    project.refresh_from_db()
    assert (project.name, project.billing_method, project.hourly_rate, project.fixed_fee) == (
        "Website",
        "fixed",
        Decimal("95.00"),
        Decimal("5000.00"),
    )
    assert response.json() == as_json(project)


def test_patch_moves_the_project_to_another_client(owner, client_row):
    project = ProjectFactory(client=client_row)
    other = ClientFactory(workspace=owner.workspace, name="Beta")

    response = owner.api().patch(
        detail_url(project), {"client_id": str(other.public_id)}, content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json()["client_id"] == str(other.public_id)
    project.refresh_from_db()
    assert project.client == other


def test_patch_rejects_a_strangers_client_and_changes_nothing(owner, stranger, client_row):
    project = ProjectFactory(client=client_row, name="Website")
    strangers_client = ClientFactory(workspace=stranger.workspace)

    response = owner.api().patch(
        detail_url(project),
        {"client_id": str(strangers_client.public_id), "name": "Moved"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"client_id": ["Client not found."]}
    project.refresh_from_db()
    assert (project.client, project.name) == (client_row, "Website")


def test_patch_refuses_null_for_a_required_field(owner, client_row):
    project = ProjectFactory(client=client_row)

    response = owner.api().patch(
        detail_url(project), {"billing_method": None}, content_type="application/json"
    )

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["billing_method"]


def test_archive_and_unarchive(owner, client_row):
    project = ProjectFactory(client=client_row)
    api = owner.api()

    assert api.post(detail_url(project, "archive")).json()["archived"] is True
    project.refresh_from_db()
    assert project.is_archived is True

    assert api.post(detail_url(project, "unarchive")).json()["archived"] is False
    project.refresh_from_db()
    assert project.is_archived is False


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
    project = ProjectFactory(client__workspace=owner.workspace, is_archived=action == "unarchive")
    before = as_json(project)

    kwargs = {"content_type": "application/json"} if payload is not None else {}
    response = getattr(stranger.api(), method)(detail_url(project, action), payload, **kwargs)

    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}
    project.refresh_from_db()
    assert as_json(project) == before


def test_requests_without_a_token_are_401(db):
    assert DjangoClient().get(URL).status_code == 401


def test_requests_with_a_bad_token_are_401(owner):
    assert DjangoClient(HTTP_AUTHORIZATION="Bearer nope").get(URL).status_code == 401
