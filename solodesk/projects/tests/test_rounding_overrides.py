"""A project's time rounding overrides, in the form and the API (blank = the workspace's),
and the rule chosen in the settings UI reaching an invoice made from time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from solodesk.accounts.models import KnownRoundingStep, TimeRounding, Workspace
from solodesk.accounts.tests.test_workspace_settings import VALID
from solodesk.invoicing import services as invoicing
from solodesk.invoicing.tests.factories import make_client, make_entry, make_project
from solodesk.projects.models import Project
from solodesk.projects.tests.test_views import form_data

D = Decimal
pytestmark = pytest.mark.django_db
ROUNDING = ("time_rounding_mode", "time_rounding_minutes", "time_rounding_scope")


def _rounding(project: Project) -> tuple:
    return tuple(Project.objects.filter(pk=project.pk).values_list(*ROUNDING).get())


def test_the_project_form_saves_overrides_and_blank_means_the_workspaces(owner):
    client = make_client(owner.workspace)
    project = make_project(client, name="Website")
    url = reverse("projects:edit", args=[project.public_id])
    html = owner.client.get(url).content.decode()
    assert '<option value="" selected>Workspace&#x27;s setting</option>' in html
    assert "Leave blank to use the workspace's rule\n    (no rounding)." in html

    response = owner.client.post(
        url,
        form_data(
            client, time_rounding_mode="nearest", time_rounding_minutes="6", time_rounding_scope=""
        ),
    )

    assert response.status_code == 302
    assert _rounding(project) == ("nearest", 6, "")
    owner.client.post(url, form_data(client))
    assert _rounding(project) == ("", None, "")


def test_the_project_form_refuses_an_unknown_rounding_and_changes_nothing(owner):
    client = make_client(owner.workspace)
    project = make_project(client, name="Website", time_rounding_mode="up")
    url = reverse("projects:edit", args=[project.public_id])

    response = owner.client.post(url, form_data(client, name="Renamed", time_rounding_minutes="7"))

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "time_rounding_minutes": ["Select a valid choice. 7 is not one of the available choices."]
    }
    assert Project.objects.get(pk=project.pk).name == "Website"
    assert _rounding(project) == ("up", None, "")


def test_the_api_sets_and_clears_overrides_with_null(owner):
    client = make_client(owner.workspace)
    project = make_project(client, name="Website")
    url = f"/api/v1/projects/{project.public_id}"
    api = owner.api()

    body = api.patch(
        url,
        {"time_rounding_mode": "up", "time_rounding_minutes": 15, "time_rounding_scope": "line"},
        content_type="application/json",
    ).json()
    assert (body["time_rounding_mode"], body["time_rounding_minutes"]) == ("up", 15)
    assert body["time_rounding_scope"] == "line"
    assert _rounding(project) == ("up", 15, "line")

    body = api.patch(
        url,
        {"time_rounding_mode": None, "time_rounding_scope": None},
        content_type="application/json",
    ).json()
    assert [body[field] for field in ROUNDING] == [None, 15, None]
    assert _rounding(project) == ("", 15, "")


def test_the_api_refuses_an_unknown_rounding(owner):
    project = make_project(make_client(owner.workspace))

    response = owner.api().patch(
        f"/api/v1/projects/{project.public_id}",
        {"time_rounding_minutes": 7},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert _rounding(project) == ("", None, "")


def test_the_api_creates_a_project_with_overrides(owner):
    client = make_client(owner.workspace)

    response = owner.api().post(
        "/api/v1/projects",
        {"client_id": str(client.public_id), "name": "Audit", "time_rounding_mode": "none"},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert [response.json()[field] for field in ROUNDING] == ["none", None, None]


def test_stranger_cannot_change_another_workspaces_project_rounding(owner, stranger):
    client = make_client(owner.workspace)
    project = make_project(client, name="Website")

    response = stranger.client.post(
        reverse("projects:edit", args=[project.public_id]),
        form_data(client, time_rounding_mode="up"),
    )
    api_response = stranger.api().patch(
        f"/api/v1/projects/{project.public_id}",
        {"time_rounding_mode": "up"},
        content_type="application/json",
    )

    assert (response.status_code, api_response.status_code) == (404, 404)
    assert _rounding(project) == ("", None, "")


def test_rounding_chosen_in_the_settings_ui_changes_an_invoice_from_time(owner):
    """Entries of 25 min 20 s and 7 min (32 min 20 s = 0.539 h tracked), then: workspace
    rounds each entry up to 15 min (30 + 15 = 0.75 h); the project overrides to the nearest
    6 minutes of the line's total (30 min = 0.5 h)."""
    workspace = owner.workspace
    client = make_client(workspace, name="Acme")
    project = make_project(client, name="Website", hourly_rate=D("100.00"))

    def entries() -> None:
        start = dt.datetime(2026, 3, 2, 9, tzinfo=workspace.tzinfo)
        make_entry(project=project, user=owner.user, start=start, minutes=25, seconds=20)
        make_entry(project=project, user=owner.user, start=start.replace(hour=11), minutes=7)

    def invoice_quantity() -> tuple:
        invoice = invoicing.invoice_create_from_time(
            workspace=workspace, user=owner.user, client=client, date_from=None, date_to=None
        )
        line = invoice.lines.get()
        invoicing.invoice_delete_draft(invoice=invoice, user=owner.user)
        return line.quantity, line.total, line.tracked_seconds

    entries()
    assert invoice_quantity() == (D("0.539"), D("53.90"), 1940)

    response = owner.client.post(
        reverse("workspace_settings"),
        {
            **VALID,
            "time_rounding_mode": "up",
            "time_rounding_minutes": "15",
            "time_rounding_scope": "entry",
        },
    )
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert invoice_quantity() == (D("0.750"), D("75.00"), 1940)

    response = owner.client.post(
        reverse("projects:edit", args=[project.public_id]),
        form_data(
            client,
            hourly_rate="100.00",
            time_rounding_mode="nearest",
            time_rounding_minutes="6",
            time_rounding_scope="line",
        ),
    )
    assert response.status_code == 302
    assert invoice_quantity() == (D("0.500"), D("50.00"), 1940)


@pytest.mark.parametrize("minutes", [0, 7, 60])
def test_a_step_without_unbilled_sums_is_refused_by_the_database(owner, minutes):
    """`UnbilledTime` keeps sums at the four steps only (decision 0008): a CHECK keeps any
    other step out of the workspace and the project, even written around the forms and
    the services, so the dashboard never reads a step it has no sums for."""
    project = make_project(make_client(owner.workspace), name="Website")
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.filter(pk=project.pk).update(time_rounding_minutes=minutes)
    with pytest.raises(IntegrityError), transaction.atomic():
        Workspace.objects.filter(pk=owner.workspace.pk).update(time_rounding_minutes=minutes)
    Project.objects.filter(pk=project.pk).update(time_rounding_minutes=None)  # the default
    for step in TimeRounding.STEPS:
        Project.objects.filter(pk=project.pk).update(time_rounding_minutes=step)
        Workspace.objects.filter(pk=owner.workspace.pk).update(time_rounding_minutes=step)


def test_a_form_checks_the_step_in_python_without_a_query(owner, django_assert_num_queries):
    project = make_project(make_client(owner.workspace), name="Website")
    (constraint,) = [c for c in Project._meta.constraints if isinstance(c, KnownRoundingStep)]
    (workspace_constraint,) = Workspace._meta.constraints
    with django_assert_num_queries(0):
        project.time_rounding_minutes = None  # the workspace's step
        constraint.validate(Project, project)
        owner.workspace.time_rounding_minutes = 15
        workspace_constraint.validate(Workspace, owner.workspace)
        project.time_rounding_minutes = 7
        with pytest.raises(ValidationError) as error:
            constraint.validate(Project, project)
        assert "time_rounding_minutes" in error.value.message_dict
        owner.workspace.time_rounding_minutes = None
        with pytest.raises(ValidationError):
            workspace_constraint.validate(Workspace, owner.workspace)
