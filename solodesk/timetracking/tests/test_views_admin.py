"""The admin pages of clients, projects and time: they render, with related rows joined."""

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse

from solodesk.tests.factories import (
    ProjectFactory,
    RunningTimerFactory,
    TagFactory,
    TimeEntryFactory,
    UserFactory,
)


@pytest.fixture
def admin_client(db):
    web = DjangoClient()
    web.force_login(UserFactory(is_staff=True, is_superuser=True))
    return web


@pytest.mark.parametrize(
    "model",
    [
        "clients_client",
        "projects_project",
        "timetracking_timeentry",
        "timetracking_runningtimer",
        "timetracking_tag",
    ],
)
def test_admin_changelists_render_without_n_plus_one(admin_client, owner, member, model):
    for persona in (owner, member):
        project = ProjectFactory(client__workspace=owner.workspace)
        TimeEntryFactory.create_batch(3, project=project, user=persona.user)
        RunningTimerFactory(project=project, user=persona.user)
        TagFactory(workspace=owner.workspace)

    response = admin_client.get(reverse(f"admin:{model}_changelist"))

    assert response.status_code == 200


def test_admin_does_not_edit_time_entries_around_the_services(admin_client, owner):
    entry = TimeEntryFactory(project=ProjectFactory(client__workspace=owner.workspace))

    add = admin_client.get(reverse("admin:timetracking_timeentry_add"))
    change = admin_client.post(
        reverse("admin:timetracking_timeentry_change", args=[entry.pk]), {"description": "x"}
    )

    assert add.status_code == 403
    assert change.status_code == 403
    entry.refresh_from_db()
    assert entry.description != "x"
