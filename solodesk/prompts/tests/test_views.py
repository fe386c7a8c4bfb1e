"""The prompt pages: the list, the click redirect, dismiss / snooze, stopping a long timer
at a chosen time, the report; strangers get 404s and change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from solodesk.prompts.models import PromptEvent, PromptState
from solodesk.prompts.tests.conftest import entry, issued_invoice
from solodesk.tests.factories import ClientFactory, ProjectFactory, RunningTimerFactory
from solodesk.timetracking.models import RunningTimer, TimeEntry

LIST_URL = reverse("prompts:list")


def go_url(key, to):
    return f"{reverse('prompts:go', args=[key])}?to={to}"


def test_list_page_shows_the_checklist_and_records_shown(owner):
    response = owner.client.get(LIST_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="checklist"' in html
    assert "Complete your business profile" in html
    assert PromptEvent.objects.filter(user=owner.user, kind="shown").count() == 1


@pytest.mark.parametrize("rows", [3, 30])
def test_list_page_query_count_does_not_grow(owner, rows, django_assert_num_queries):
    for _ in range(rows):
        client = ClientFactory(workspace=owner.workspace, email="")
        project = ProjectFactory(client=client, budget_hours=Decimal("1"))
        entry(project, owner.user, days_ago=20, hours=2)
        issued_invoice(owner, client=client, days_ago=40)
    PromptState.objects.create(
        workspace=owner.workspace, user=owner.user, key="onboarding", completed_at=timezone.now()
    )
    # 1 session, 2 user (+ timer), 3 membership (+ workspace), 4 prompt states, 5 clients,
    # 6 documents, 7 projects, 8 INSERT of the shown events, 9 the upsert of the hour's memo.
    with django_assert_num_queries(9):
        response = owner.client.get(LIST_URL)
    assert response.content.decode().count('data-testid="prompt"') == 4 * rows
    with django_assert_num_queries(7):  # a reload within the hour writes nothing
        owner.client.get(LIST_URL)


def test_go_records_the_click_and_redirects_to_the_call_to_action(owner):
    response = owner.client.get(go_url("onboarding:add_client", "/clients/new/?next=/"))
    assert response.status_code == 302
    assert response["Location"] == "/clients/new/?next=/"
    event = PromptEvent.objects.get(kind="clicked")
    assert (event.user, event.key, event.rule) == (
        owner.user,
        "onboarding:add_client",
        "onboarding",
    )
    assert PromptState.objects.get(key="onboarding:add_client").clicked_at is not None


def test_go_re_posts_a_post_action_with_307(owner):
    response = owner.client.post(
        reverse("prompts:go", args=["invoice_overdue:x"]), {"to": "/reminders/x/send/"}
    )
    assert response.status_code == 307
    assert response["Location"] == "/reminders/x/send/"


@pytest.mark.parametrize(
    "to", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "", "javascript:x"]
)
def test_go_refuses_external_targets(owner, to):
    response = owner.client.get(go_url("onboarding:add_client", to))
    assert response.status_code == 404
    assert not PromptEvent.objects.exists()


def test_go_refuses_unknown_rules(owner):
    assert owner.client.get(go_url("nonsense:1", "/")).status_code == 404


def test_dismiss_redirects_back_and_hides(owner):
    response = owner.client.post(
        reverse("prompts:dismiss", args=["onboarding"]), {"next": LIST_URL}
    )
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert 'data-testid="checklist"' not in owner.client.get(LIST_URL).content.decode()


def test_snooze_with_htmx_returns_an_empty_swap(owner):
    response = owner.client.post(
        reverse("prompts:snooze", args=["onboarding"]), {"days": "3"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.content == b""
    state = PromptState.objects.get(key="onboarding")
    assert state.snoozed_until == timezone.localdate(
        timezone=owner.workspace.tzinfo
    ) + dt.timedelta(days=3)


def test_a_stranger_cannot_dismiss_anothers_prompt(owner, stranger):
    client = ClientFactory(workspace=owner.workspace, email="")
    key = f"client_incomplete:{client.public_id}"
    assert owner.client.post(reverse("prompts:dismiss", args=[key])).status_code == 302
    PromptState.objects.all().delete()
    response = stranger.client.post(reverse("prompts:dismiss", args=[key]))
    assert response.status_code == 404
    response = stranger.client.post(reverse("prompts:snooze", args=[key]), {"days": "2"})
    assert response.status_code == 404
    assert not PromptState.objects.exists()


def test_stop_a_long_timer_at_a_chosen_time(owner):
    project = ProjectFactory(client=ClientFactory(workspace=owner.workspace))
    started = timezone.now() - dt.timedelta(hours=14)
    RunningTimerFactory(project=project, user=owner.user, started_at=started)
    url = reverse("prompts:timer_stop")
    response = owner.client.get(url)
    assert response.status_code == 200
    assert "Still working?" in response.content.decode()
    local = (started + dt.timedelta(hours=6)).astimezone(owner.workspace.tzinfo)
    response = owner.client.post(
        url, {"date": local.date().isoformat(), "time": local.strftime("%H:%M")}
    )
    assert response.status_code == 302
    entry_ = TimeEntry.objects.get(user=owner.user)
    assert entry_.ended_at == local.replace(second=0, microsecond=0)
    assert not RunningTimer.objects.exists()


def test_stop_a_timer_before_it_started_shows_the_error_beside_the_field(owner):
    project = ProjectFactory(client=ClientFactory(workspace=owner.workspace))
    started = timezone.now() - dt.timedelta(hours=14)
    RunningTimerFactory(project=project, user=owner.user, started_at=started)
    early = (started - dt.timedelta(hours=1)).astimezone(owner.workspace.tzinfo)
    response = owner.client.post(
        reverse("prompts:timer_stop"),
        {"date": early.date().isoformat(), "time": early.strftime("%H:%M")},
    )
    assert response.status_code == 400
    assert "cannot stop before it started" in response.content.decode()
    assert RunningTimer.objects.exists()


def test_report_is_for_the_owner(owner, member, stranger):
    PromptEvent.objects.create(
        workspace=owner.workspace,
        user=owner.user,
        key="onboarding:add_client",
        rule="onboarding",
        kind="shown",
        created_at=timezone.now(),
        hour=1,
    )
    response = owner.client.get(reverse("prompts:report"))
    assert response.status_code == 200
    assert "Getting started checklist" in response.content.decode()
    assert response.context["report"][0].shown == 1
    assert member.client.get(reverse("prompts:report")).status_code == 404
    stranger_report = stranger.client.get(reverse("prompts:report")).context["report"]
    assert sum(row.shown for row in stranger_report) == 0


def test_overdue_prompt_on_the_invoice_list_and_budget_prompt_on_the_project(owner):
    client = ClientFactory(workspace=owner.workspace, name="Acme Ltd")
    invoice = issued_invoice(owner, client=client, days_ago=40)
    html = owner.client.get(reverse("invoicing:list")).content.decode()
    assert f'data-prompt-key="invoice_overdue:{invoice.public_id}"' in html
    project = ProjectFactory(client=client, budget_hours=Decimal("1"))
    entry(project, owner.user, days_ago=2, hours=2)
    html = owner.client.get(reverse("projects:edit", args=[project.public_id])).content.decode()
    assert f'data-prompt-key="budget_100:{project.public_id}"' in html
    assert "invoice_overdue" not in html


def test_from_time_form_takes_client_and_period_from_the_query_string(owner):
    client = ClientFactory(workspace=owner.workspace)
    response = owner.client.get(
        reverse("invoicing:from_time")
        + f"?client={client.public_id}&date_from=2026-03-03&date_to=2026-03-31"
    )
    form = response.context["form"]
    assert form["date_from"].value() == dt.date(2026, 3, 3)
    assert form["date_to"].value() == dt.date(2026, 3, 31)
    assert str(form["client"].value()) == str(client.public_id)
