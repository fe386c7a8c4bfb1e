"""Events and state: "shown" once per hour, clicks, completions within 7 days of a click,
dismiss and snooze."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from solodesk.core.exceptions import ApplicationError
from solodesk.invoicing import services as invoicing
from solodesk.prompts.models import SHOWN_MEMO_KEY, PromptEvent, PromptState
from solodesk.prompts.registry import Prompt
from solodesk.prompts.selectors import prompt_list_for_user
from solodesk.prompts.services import (
    prompt_click_record,
    prompt_dismiss,
    prompt_events_record_shown,
    prompt_snooze,
)
from solodesk.prompts.tests.conftest import entry, fresh_user


def show(owner, now=None):
    user = fresh_user(owner.user)
    prompts = prompt_list_for_user(workspace=owner.workspace, user=user, now=now)
    prompt_events_record_shown(workspace=owner.workspace, user=user, prompts=prompts, now=now)
    return prompts


def kinds(key=None):
    qs = PromptEvent.objects.order_by("created_at", "pk")
    if key:
        qs = qs.filter(key=key)
    return list(qs.values_list("kind", flat=True))


def test_shown_is_recorded_once_per_user_prompt_and_hour(owner, member):
    now = timezone.now().replace(minute=5)
    show(owner, now)
    show(owner, now + dt.timedelta(minutes=30))  # a reload in the same hour
    show(member, now)
    assert kinds("onboarding:business_profile") == ["shown", "shown"]
    show(owner, now + dt.timedelta(hours=1))
    assert kinds("onboarding:business_profile") == ["shown", "shown", "shown"]


def test_a_click_then_the_condition_going_away_is_a_completion(owner, acme, rebrand):
    entry(rebrand, owner.user, days_ago=30)
    key = f"unbilled_time:{acme.public_id}"
    show(owner)
    prompt_click_record(workspace=owner.workspace, user=owner.user, key=key)
    show(owner)  # still unbilled: nothing completed
    assert kinds(key) == ["shown", "clicked"]

    invoicing.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=acme, date_from=None, date_to=None
    )
    show(owner)
    show(owner)  # noticed once
    assert kinds(key) == ["shown", "clicked", "completed"]
    state = PromptState.objects.get(user=owner.user, key=key)
    assert state.completed_at is not None


def test_no_completion_without_a_click_or_after_seven_days(owner, acme, rebrand):
    entry(rebrand, owner.user, days_ago=30)
    key = f"unbilled_time:{acme.public_id}"
    show(owner)
    prompt_click_record(
        workspace=owner.workspace,
        user=owner.user,
        key=key,
        now=timezone.now() - dt.timedelta(days=8),
    )
    invoicing.invoice_create_from_time(
        workspace=owner.workspace, user=owner.user, client=acme, date_from=None, date_to=None
    )
    show(owner)
    assert "completed" not in kinds(key)


def test_a_finished_checklist_is_marked_completed_and_no_longer_evaluated(
    owner, django_assert_num_queries
):
    workspace = owner.workspace
    workspace.payment_details = "IBAN"
    workspace.save()
    from solodesk.tests.factories import ClientFactory, ProjectFactory

    client = ClientFactory(workspace=workspace)
    project = ProjectFactory(client=client)
    entry(project, owner.user, days_ago=1)
    show(owner)
    prompt_click_record(workspace=workspace, user=owner.user, key="onboarding:issue_invoice")
    invoice = invoicing.invoice_create_from_time(
        workspace=workspace, user=owner.user, client=client, date_from=None, date_to=None
    )
    invoicing.invoice_issue(invoice=invoice, user=owner.user)
    invoice.refresh_from_db()
    invoicing.payment_record(
        invoice=invoice,
        user=owner.user,
        amount=invoice.total,
        date=timezone.localdate(),
        method="cash",
    )
    prompts = show(owner)
    assert [p.rule for p in prompts if p.rule == "onboarding"] == []
    assert kinds("onboarding:issue_invoice") == ["shown", "clicked", "completed"]
    assert PromptState.objects.get(user=owner.user, key="onboarding").completed_at
    user = fresh_user(owner.user)
    with django_assert_num_queries(4):  # states, clients, documents, projects: no onboarding
        prompt_list_for_user(workspace=workspace, user=user)


def test_dismiss_and_snooze_upsert_the_state(owner):
    today = timezone.localdate(timezone=owner.workspace.tzinfo)
    state = prompt_snooze(workspace=owner.workspace, user=owner.user, key="onboarding", days=3)
    assert state.snoozed_until == today + dt.timedelta(days=3)
    state = prompt_dismiss(workspace=owner.workspace, user=owner.user, key="onboarding")
    assert state.dismissed_at is not None and state.snoozed_until is None
    assert PromptState.objects.filter(user=owner.user).count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "until"),
        ({"days": 0}, "days"),
        ({"days": 400}, "days"),
        ({"until": "today"}, "until"),
        ({"days": 2, "until": "tomorrow"}, "until"),
    ],
)
def test_snooze_refuses_bad_input(owner, kwargs, field):
    today = timezone.localdate(timezone=owner.workspace.tzinfo)
    dates = {"today": today, "tomorrow": today + dt.timedelta(days=1)}
    kwargs = {k: dates.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    with pytest.raises(ApplicationError) as error:
        prompt_snooze(workspace=owner.workspace, user=owner.user, key="onboarding", **kwargs)
    assert field in error.value.errors


def test_a_reload_in_the_same_hour_writes_nothing(owner, django_assert_num_queries):
    """The hour's memo is a row read with the states: a reload whose prompts were all
    recorded this hour sends no INSERT, in whichever process it runs; a new hour does."""
    now = timezone.now().replace(minute=5)
    user = fresh_user(owner.user)

    def reload(moment):
        return prompt_list_for_user(workspace=owner.workspace, user=user, now=moment)

    prompts = reload(now)
    with django_assert_num_queries(2):  # the events, then the memo
        prompt_events_record_shown(workspace=owner.workspace, user=user, prompts=prompts)
    memo = PromptState.objects.get(user=user, key=SHOWN_MEMO_KEY)
    assert memo.shown_keys == ["onboarding:business_profile"]
    later = now.replace(minute=50)
    prompts = reload(later)
    with django_assert_num_queries(0):
        prompt_events_record_shown(workspace=owner.workspace, user=user, prompts=prompts)
    next_hour = now + dt.timedelta(hours=1)
    prompts = reload(next_hour)
    with django_assert_num_queries(2):
        prompt_events_record_shown(workspace=owner.workspace, user=user, prompts=prompts)
    assert kinds("onboarding:business_profile") == ["shown", "shown"]
    assert PromptState.objects.get(pk=memo.pk).shown_hour == int(next_hour.timestamp() // 3600)


def test_a_new_prompt_in_the_hour_is_recorded_and_joins_the_memo(owner):
    now = timezone.now().replace(minute=5)
    user = fresh_user(owner.user)
    prompts = prompt_list_for_user(workspace=owner.workspace, user=user, now=now)
    prompt_events_record_shown(workspace=owner.workspace, user=user, prompts=prompts)
    prompts = prompt_list_for_user(workspace=owner.workspace, user=user, now=now)
    prompts.append(Prompt(key="invoice_overdue:new", rule="invoice_overdue", priority=1))
    prompt_events_record_shown(workspace=owner.workspace, user=user, prompts=prompts)
    memo = PromptState.objects.get(user=user, key=SHOWN_MEMO_KEY)
    assert memo.shown_keys == ["invoice_overdue:new", "onboarding:business_profile"]
    shown = PromptEvent.objects.filter(user=user, kind="shown").values_list("key", flat=True)
    assert sorted(shown) == memo.shown_keys


def test_nothing_is_remembered_when_the_insert_is_rolled_back(owner, django_assert_num_queries):
    now = timezone.now().replace(minute=5)
    user = fresh_user(owner.user)
    with pytest.raises(RuntimeError), transaction.atomic():
        prompts = prompt_list_for_user(workspace=owner.workspace, user=user, now=now)
        prompt_events_record_shown(workspace=owner.workspace, user=user, prompts=prompts)
        raise RuntimeError("the request failed after recording")
    # The memo rolled back with the events: the next view records them.
    prompts = prompt_list_for_user(workspace=owner.workspace, user=user, now=now)
    with django_assert_num_queries(2):
        prompt_events_record_shown(workspace=owner.workspace, user=user, prompts=prompts)
    assert kinds("onboarding:business_profile") == ["shown"]
