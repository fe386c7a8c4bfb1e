from decimal import Decimal

import pytest
from django.urls import reverse

from solodesk.clients.models import Client
from solodesk.tests.factories import ClientFactory, ProjectFactory

LIST_URL = reverse("clients:list")
NEW_URL = reverse("clients:new")

VALID_POST = {
    "name": "Acme Corp",
    "email": "billing@acme.example",
    "address": "2 Side Street",
    "tax_id": "BE0123456789",
    "currency": "USD",
    "payment_terms_days": "14",
    "default_hourly_rate": "120.50",
}


def edit_url(client: Client) -> str:
    return reverse("clients:edit", args=[client.public_id])


def archive_url(client: Client) -> str:
    return reverse("clients:archive", args=[client.public_id])


@pytest.fixture(params=["owner", "member"])
def persona(request):
    """Every page works the same for the owner and for a member of the workspace."""
    return request.getfixturevalue(request.param)


def test_list_renders_for_workspace_members(persona, stranger):
    ClientFactory(workspace=persona.workspace, name="Mine Ltd")
    ClientFactory(workspace=stranger.workspace, name="Theirs Ltd")

    response = persona.client.get(LIST_URL)

    assert response.status_code == 200
    assert response.context["nav"] == "clients"
    assert [c.name for c in response.context["page"].object_list] == ["Mine Ltd"]
    assert b"Theirs Ltd" not in response.content


def test_list_requires_login(db):
    from django.test import Client as DjangoClient

    response = DjangoClient().get(LIST_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_list_shows_count_and_active_project_count(owner):
    acme = ClientFactory(workspace=owner.workspace, name="Acme")
    ProjectFactory(client=acme, name="Live 1")
    ProjectFactory(client=acme, name="Live 2")
    ProjectFactory(client=acme, name="Old", is_archived=True)
    ClientFactory(workspace=owner.workspace, name="Beta")

    response = owner.client.get(LIST_URL)

    rows = {c.name: c.active_project_count for c in response.context["page"].object_list}
    assert rows == {"Acme": 2, "Beta": 0}
    assert b"2 clients" in response.content


def test_list_searches_name_and_email(owner):
    ClientFactory(workspace=owner.workspace, name="Acme", email="a@acme.example")
    ClientFactory(workspace=owner.workspace, name="Beta", email="x@globex.example")

    by_name = owner.client.get(LIST_URL, {"q": "acm"})
    by_email = owner.client.get(LIST_URL, {"q": "globex"})

    assert [c.name for c in by_name.context["page"].object_list] == ["Acme"]
    assert [c.name for c in by_email.context["page"].object_list] == ["Beta"]


def test_list_hides_archived_unless_asked(owner):
    ClientFactory(workspace=owner.workspace, name="Active")
    ClientFactory(workspace=owner.workspace, name="Gone", is_archived=True)

    default = owner.client.get(LIST_URL)
    with_archived = owner.client.get(LIST_URL, {"archived": "1"})

    assert [c.name for c in default.context["page"].object_list] == ["Active"]
    assert [c.name for c in with_archived.context["page"].object_list] == ["Active", "Gone"]


def test_list_paginates_fifty_per_page(owner):
    ClientFactory.create_batch(51, workspace=owner.workspace)

    first = owner.client.get(LIST_URL)
    second = owner.client.get(LIST_URL, {"page": "2"})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert first.context["page"].paginator.count == 51
    assert b"Page 1 of 2" in first.content
    assert b"?page=2" in first.content


@pytest.mark.parametrize("rows", [3, 50])
def test_list_query_count_does_not_grow_with_rows(owner, rows, django_assert_num_queries):
    for client in ClientFactory.create_batch(rows, workspace=owner.workspace):
        ProjectFactory(client=client)

    # 1 session, 2 user joined with running timer, 3 membership joined with workspace,
    # 4 COUNT of the clients, 5 the page of clients with their active project count,
    # 6 their latest entry (probed per project), hours this year and receivables per
    # currency (one UNION ALL), 7 their projects' unbilled time.
    with django_assert_num_queries(7):
        response = owner.client.get(LIST_URL)

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == rows


def test_new_creates_a_client_in_the_workspace(persona):
    page = persona.client.get(NEW_URL)
    response = persona.client.post(NEW_URL, VALID_POST)

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    client = Client.objects.get()
    assert client.workspace == persona.workspace
    assert client.name == "Acme Corp"
    assert client.currency == "USD"
    assert client.payment_terms_days == 14
    assert client.default_hourly_rate == Decimal("120.50")


def test_new_proposes_the_workspace_currency_and_terms(owner):
    owner.workspace.default_currency = "CHF"
    owner.workspace.payment_terms_days = 21
    owner.workspace.save()

    response = owner.client.get(NEW_URL)

    assert response.context["form"].initial == {"currency": "CHF", "payment_terms_days": 21}


def test_new_rejects_a_negative_rate_and_creates_nothing(owner):
    response = owner.client.post(NEW_URL, {**VALID_POST, "default_hourly_rate": "-1"})

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "default_hourly_rate": ["Ensure this value is greater than or equal to 0."]
    }
    assert not Client.objects.exists()


def test_new_requires_a_name(owner):
    response = owner.client.post(NEW_URL, {**VALID_POST, "name": ""})

    assert response.status_code == 400
    assert response.context["form"].errors == {"name": ["This field is required."]}
    assert not Client.objects.exists()


def test_edit_renders_and_saves(persona):
    client = ClientFactory(workspace=persona.workspace, name="Old name")

    page = persona.client.get(edit_url(client))
    response = persona.client.post(edit_url(client), {**VALID_POST, "name": "New name"})

    assert page.status_code == 200
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.name == "New name"
    assert client.default_hourly_rate == Decimal("120.50")


def test_edit_rejects_a_negative_rate_and_changes_nothing(owner):
    client = ClientFactory(workspace=owner.workspace, default_hourly_rate=Decimal("80.00"))

    response = owner.client.post(edit_url(client), {**VALID_POST, "default_hourly_rate": "-5"})

    assert response.status_code == 400
    assert "default_hourly_rate" in response.context["form"].errors
    assert response.context["client"].name == client.name  # not the rejected "Acme Corp"
    client.refresh_from_db()
    assert client.default_hourly_rate == Decimal("80.00")


def test_stranger_cannot_see_or_edit_a_client(owner, stranger):
    client = ClientFactory(workspace=owner.workspace, name="Secret")

    page = stranger.client.get(edit_url(client))
    post = stranger.client.post(edit_url(client), {**VALID_POST, "name": "Hacked"})

    assert page.status_code == 404
    assert post.status_code == 404
    client.refresh_from_db()
    assert client.name == "Secret"


def test_archive_and_unarchive(owner):
    client = ClientFactory(workspace=owner.workspace)

    archived = owner.client.post(archive_url(client), {"archived": "1"})
    client.refresh_from_db()
    assert archived.status_code == 302
    assert client.is_archived is True

    owner.client.post(archive_url(client), {"archived": "0"})
    client.refresh_from_db()
    assert client.is_archived is False


def test_archive_returns_to_a_safe_next_only(owner):
    client = ClientFactory(workspace=owner.workspace)

    local = owner.client.post(archive_url(client), {"archived": "1", "next": "/clients/?q=x"})
    foreign = owner.client.post(
        archive_url(client), {"archived": "1", "next": "https://evil.example/"}
    )

    assert local["Location"] == "/clients/?q=x"
    assert foreign["Location"] == LIST_URL


def test_archive_is_post_only(owner):
    client = ClientFactory(workspace=owner.workspace)

    response = owner.client.get(archive_url(client))

    assert response.status_code == 405
    client.refresh_from_db()
    assert client.is_archived is False


def test_stranger_cannot_archive_a_client(owner, stranger):
    client = ClientFactory(workspace=owner.workspace)

    response = stranger.client.post(archive_url(client), {"archived": "1"})

    assert response.status_code == 404
    client.refresh_from_db()
    assert client.is_archived is False
