"""Project menus stay bounded (issue 6: 3,000 projects at the `large` scale): the time-entry
form, the timer start on the week page and the entry list's filters render at most a fixed
number of projects, in the same number of queries whatever the workspace holds, and still
accept any of the workspace's projects."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from solodesk.tests.factories import ClientFactory, ProjectFactory, TimeEntryFactory
from solodesk.timetracking import views
from solodesk.timetracking.forms import TimeEntryForm, TimerStartForm
from solodesk.timetracking.models import TimeEntry

LIMIT = 5


@pytest.fixture
def small_menus(monkeypatch):
    for form in (TimeEntryForm, TimerStartForm):
        monkeypatch.setattr(form.base_fields["project"], "choices_limit", LIMIT)
    monkeypatch.setattr(views, "FILTER_PROJECTS_LIMIT", LIMIT)


def _projects(owner, count: int) -> list:
    client = ClientFactory(workspace=owner.workspace, name="Acme")
    return [ProjectFactory(client=client, name=f"P{n:03d}") for n in range(count)]


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no <select name={name}>"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def _get(owner, url: str) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = owner.client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


@pytest.mark.parametrize("page", ["timetracking:entry_new", "timetracking:week"])
def test_the_project_menu_is_bounded_at_any_size(owner, small_menus, page):
    counts = []
    for total in (LIMIT + 2, 4 * LIMIT):
        _projects(owner, total if not counts else total - (LIMIT + 2))
        html, queries = _get(owner, reverse(page))
        assert len(_options(html, "project")) == LIMIT + 1  # + "Choose a project…"
        counts.append(queries)
    assert counts[0] == counts[1], counts


def test_a_project_outside_the_menu_is_accepted_and_shown_when_editing(owner, small_menus):
    projects = _projects(owner, 3 * LIMIT)
    last = projects[-1]  # sorted by name: not in the menu
    day = timezone.localdate(timezone=owner.workspace.tzinfo)
    response = owner.client.post(
        reverse("timetracking:entry_new"),
        {"project": str(last.public_id), "date": day.isoformat(), "duration": "1:00"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = TimeEntry.objects.get(project=last)

    html = owner.client.get(reverse("timetracking:entry_edit", args=[entry.public_id]))
    options = _options(html.content.decode(), "project")
    assert len(options) == LIMIT + 1
    assert options[1] == str(last.public_id)  # the entry's project, first
    assert f'<option value="{last.public_id}" selected>' in html.content.decode()

    # Pre-chosen by a link (?project=): shown too.
    html = owner.client.get(reverse("timetracking:entry_new") + f"?project={last.public_id}")
    assert f'<option value="{last.public_id}" selected>' in html.content.decode()


def test_the_entry_list_filter_menus_are_bounded_and_filter_any_project(owner, small_menus):
    counts = []
    for total in (LIMIT + 2, 4 * LIMIT):
        _projects(owner, total if not counts else total - (LIMIT + 2))
        html, queries = _get(owner, reverse("timetracking:entry_list"))
        assert len(_options(html, "project")) == LIMIT + 1  # + "All projects"
        counts.append(queries)
    assert counts[0] == counts[1], counts

    from solodesk.projects.models import Project

    last = Project.objects.filter(workspace=owner.workspace).order_by("-name").first()
    start = timezone.now() - dt.timedelta(days=1)
    TimeEntryFactory(
        project=last, user=owner.user, started_at=start, ended_at=start + dt.timedelta(hours=1)
    )
    response = owner.client.get(reverse("timetracking:entry_list") + f"?project={last.public_id}")
    html = response.content.decode()
    assert f'<option value="{last.public_id}" selected>' in html
    assert response.context["page"].paginator.count == 1


@pytest.mark.parametrize("others", [2, 12])
def test_the_invoice_from_time_menu_lists_the_chosen_clients_projects(owner, others, monkeypatch):
    from solodesk.invoicing.forms import ClientProjectsField

    monkeypatch.setattr(ClientProjectsField, "choices_limit", LIMIT)
    acme = ClientFactory(workspace=owner.workspace, name="Acme")
    mine = [ProjectFactory(client=acme, name=f"A{n}") for n in range(2)]
    other = ClientFactory(workspace=owner.workspace, name="Other")
    for n in range(others):
        ProjectFactory(client=other, name=f"O{n:02d}")

    html, _queries = _get(owner, reverse("invoicing:from_time") + f"?client={acme.public_id}")
    assert sorted(_options(html, "projects")) == sorted(str(p.public_id) for p in mine)

    html, _ = _get(owner, reverse("invoicing:from_time"))
    assert len(_options(html, "projects")) == min(LIMIT, 2 + others)


@pytest.mark.parametrize(
    ("page", "form_path"),
    [
        ("invoicing:new", "solodesk.invoicing.forms.DocumentHeaderForm"),
        ("invoicing:from_time", "solodesk.invoicing.forms.FromTimeForm"),
        ("projects:new", "solodesk.projects.forms.ProjectForm"),
    ],
)
def test_client_menus_are_bounded_and_show_the_linked_client(owner, monkeypatch, page, form_path):
    import importlib

    module, name = form_path.rsplit(".", 1)
    form = getattr(importlib.import_module(module), name)
    monkeypatch.setattr(form.base_fields["client"], "choices_limit", LIMIT)
    counts = []
    for total in (LIMIT + 1, 4 * LIMIT):
        for n in range(total - (LIMIT + 1 if counts else 0)):
            ClientFactory(workspace=owner.workspace, name=f"C{len(counts)}-{n:03d}")
        html, queries = _get(owner, reverse(page))
        options = [value for value in _options(html, "client") if value]
        assert len(options) == LIMIT
        counts.append(queries)
    assert counts[0] == counts[1], counts

    last = ClientFactory(workspace=owner.workspace, name="Zulu")  # last by name
    html, _queries = _get(owner, reverse(page) + f"?client={last.public_id}")
    assert f'<option value="{last.public_id}" selected>' in html


@pytest.mark.parametrize("name", ["project", "client"])
def test_the_entry_list_shows_a_chosen_one_beyond_the_menu_by_name(owner, small_menus, name):
    clients = [ClientFactory(workspace=owner.workspace, name=f"C{n:02d}") for n in range(3 * LIMIT)]
    projects = [ProjectFactory(client=client, name=f"P{n:02d}") for n, client in enumerate(clients)]
    chosen = {"project": projects[-1], "client": clients[-1]}[name]  # last by name
    label = {"project": f"P{3 * LIMIT - 1} · C{3 * LIMIT - 1}", "client": f"C{3 * LIMIT - 1}"}
    start = timezone.now() - dt.timedelta(days=1)
    TimeEntryFactory(
        project=projects[-1],
        user=owner.user,
        started_at=start,
        ended_at=start + dt.timedelta(hours=1),
    )
    TimeEntryFactory(
        project=projects[0],
        user=owner.user,
        started_at=start,
        ended_at=start + dt.timedelta(hours=1),
    )
    _html, unfiltered = _get(owner, reverse("timetracking:entry_list"))

    html, queries = _get(owner, reverse("timetracking:entry_list") + f"?{name}={chosen.public_id}")

    assert queries == unfiltered  # the chosen one comes with the menu's query
    assert f'<option value="{chosen.public_id}" selected>{label[name]}</option>' in html
    assert len(_options(html, "project")) == LIMIT + 1
    response = owner.client.get(reverse("timetracking:entry_list"), {name: str(chosen.public_id)})
    assert response.context["page"].paginator.count == 1
