from decimal import Decimal

import pytest
from django.urls import reverse

from solodesk.projects.models import Project
from solodesk.tests.factories import ClientFactory, ProjectFactory, TimeEntryFactory

LIST_URL = reverse("projects:list")
NEW_URL = reverse("projects:new")


def edit_url(project: Project) -> str:
    return reverse("projects:edit", args=[project.public_id])


def archive_url(project: Project) -> str:
    return reverse("projects:archive", args=[project.public_id])


@pytest.fixture(params=["owner", "member"])
def persona(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def acme(owner):
    return ClientFactory(workspace=owner.workspace, name="Acme", default_hourly_rate=Decimal("80"))


def form_data(client, **overrides):
    return {
        "client": str(client.public_id),
        "name": "Website",
        "billing_method": "hourly",
        "hourly_rate": "",
        "fixed_fee": "",
        "budget_hours": "40",
        "budget_amount": "",
        **overrides,
    }


def test_list_renders_for_workspace_members(persona, stranger):
    ProjectFactory(client__workspace=persona.workspace, name="Mine")
    ProjectFactory(client__workspace=stranger.workspace, name="Theirs")

    response = persona.client.get(LIST_URL)

    assert response.status_code == 200
    assert response.context["nav"] == "projects"
    assert [p.name for p in response.context["page"].object_list] == ["Mine"]
    assert b"Theirs" not in response.content


def test_list_shows_the_effective_rate(owner, acme):
    ProjectFactory(client=acme, name="Own rate", hourly_rate=Decimal("95.00"))
    ProjectFactory(client=acme, name="Client rate", hourly_rate=None)

    response = owner.client.get(LIST_URL)

    rates = {p.name: p.effective_hourly_rate for p in response.context["page"].object_list}
    assert rates == {"Own rate": Decimal("95.00"), "Client rate": Decimal("80.00")}
    assert b"95.00 EUR/h" in response.content
    assert b"80.00 EUR/h" in response.content


def test_list_filters_by_client_search_and_archived(owner, acme):
    other = ClientFactory(workspace=owner.workspace, name="Beta")
    ProjectFactory(client=acme, name="Website")
    ProjectFactory(client=acme, name="Old site", is_archived=True)
    ProjectFactory(client=other, name="Webshop")

    def names(**params):
        response = owner.client.get(LIST_URL, params)
        return [p.name for p in response.context["page"].object_list]

    assert names(client=str(acme.public_id)) == ["Website"]
    assert names(client=str(acme.public_id), archived="1") == ["Old site", "Website"]
    assert names(q="web") == ["Website", "Webshop"]
    assert names(client="not-a-uuid") == ["Website", "Webshop"]


@pytest.mark.parametrize("rows", [3, 50])
def test_list_query_count_does_not_grow_with_rows(owner, rows, django_assert_num_queries):
    for index, client in enumerate(ClientFactory.create_batch(rows, workspace=owner.workspace)):
        project = ProjectFactory(client=client, hourly_rate=None, budget_hours=Decimal("10"))
        TimeEntryFactory.create_batch(
            1 + index % 3, project=project, user=owner.user, is_billable=index % 2 == 0
        )

    # 1 session, 2 user joined with running timer, 3 membership joined with workspace,
    # 4 the clients of the filter menu, 5 COUNT of the projects,
    # 6 the page of projects joined with their client (for the effective rate),
    # 7 the page's hours (monthly totals) and latest entries, 8 their unbilled time.
    with django_assert_num_queries(8):
        response = owner.client.get(LIST_URL)

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == rows


def test_new_creates_a_project(persona):
    acme = ClientFactory(workspace=persona.workspace)

    page = persona.client.get(NEW_URL, {"client": str(acme.public_id)})
    response = persona.client.post(NEW_URL, form_data(acme, hourly_rate="110"))

    assert page.status_code == 200
    assert page.context["form"].initial == {"client": str(acme.public_id)}
    assert response.status_code == 302
    project = Project.objects.get()
    assert project.workspace == persona.workspace
    assert project.client == acme
    assert project.hourly_rate == Decimal("110")
    assert project.budget_hours == Decimal("40")


def test_new_offers_only_this_workspaces_active_clients(owner, acme, stranger):
    ClientFactory(workspace=owner.workspace, name="Archived", is_archived=True)
    ClientFactory(workspace=stranger.workspace, name="Stranger's")

    response = owner.client.get(NEW_URL)

    choices = list(response.context["form"].fields["client"].queryset)
    assert choices == [acme]


def test_new_rejects_another_workspaces_client_and_creates_nothing(owner, stranger):
    strangers_client = ClientFactory(workspace=stranger.workspace)

    response = owner.client.post(NEW_URL, form_data(strangers_client))

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "client": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert not Project.objects.exists()


def test_new_rejects_a_negative_rate_and_creates_nothing(owner, acme):
    response = owner.client.post(NEW_URL, form_data(acme, hourly_rate="-10"))

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "hourly_rate": ["Ensure this value is greater than or equal to 0."]
    }
    assert not Project.objects.exists()


def test_edit_renders_and_saves(persona):
    acme = ClientFactory(workspace=persona.workspace)
    project = ProjectFactory(client=acme, name="Old")

    page = persona.client.get(edit_url(project))
    response = persona.client.post(
        edit_url(project), form_data(acme, name="Fixed", billing_method="fixed", fixed_fee="5000")
    )

    assert page.status_code == 200
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.name == "Fixed"
    assert project.billing_method == "fixed"
    assert project.fixed_fee == Decimal("5000")


def test_edit_keeps_an_archived_client(owner):
    archived = ClientFactory(workspace=owner.workspace, is_archived=True)
    project = ProjectFactory(client=archived, name="Old")

    response = owner.client.post(edit_url(project), form_data(archived, name="Renamed"))

    assert response.status_code == 302
    project.refresh_from_db()
    assert project.name == "Renamed"
    assert project.client == archived


def test_edit_rejects_another_workspaces_client_and_changes_nothing(owner, acme, stranger):
    project = ProjectFactory(client=acme)
    strangers_client = ClientFactory(workspace=stranger.workspace)

    response = owner.client.post(edit_url(project), form_data(strangers_client, name="Moved"))

    assert response.status_code == 400
    assert "client" in response.context["form"].errors
    project.refresh_from_db()
    assert project.client == acme
    assert project.name != "Moved"


def test_stranger_cannot_see_edit_or_archive_a_project(owner, acme, stranger):
    project = ProjectFactory(client=acme, name="Secret")
    strangers_client = ClientFactory(workspace=stranger.workspace)

    page = stranger.client.get(edit_url(project))
    post = stranger.client.post(edit_url(project), form_data(strangers_client, name="Hacked"))
    archive = stranger.client.post(archive_url(project), {"archived": "1"})

    assert (page.status_code, post.status_code, archive.status_code) == (404, 404, 404)
    project.refresh_from_db()
    assert project.name == "Secret"
    assert project.client == acme
    assert project.is_archived is False


def test_archive_and_unarchive(owner, acme):
    project = ProjectFactory(client=acme)

    response = owner.client.post(archive_url(project), {"archived": "1"})
    project.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert project.is_archived is True

    owner.client.post(archive_url(project), {"archived": "0"})
    project.refresh_from_db()
    assert project.is_archived is False
