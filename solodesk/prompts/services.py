"""Writes of prompt state and conversion events.

- shown: one bulk INSERT … ON CONFLICT DO NOTHING for all the prompts of a page. A unique
  index on (user, key, clock hour) for "shown" rows makes reloads within the same hour
  insert nothing, so the counts mean "seen in that hour", not "page loads". Each process
  remembers the rows it committed this hour (`_SHOWN_THIS_HOUR`), so a reload whose
  prompts were all recorded already skips the INSERT (one query and ~1–2 ms less per
  dashboard); another process, or a restart, only sends an INSERT that conflicts.
- clicked: recorded by the `/prompts/go/<key>/` redirect (an event and `clicked_at`).
- completed: noticed while a dashboard is evaluated: a key clicked in the last 7 days whose
  rule ran and no longer raises it. Its event goes into the same bulk INSERT as the shown
  ones, and its state gets `completed_at` (one upsert, only when something completed).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.db import transaction
from django.utils import timezone

from solodesk.accounts.models import User, Workspace
from solodesk.core.exceptions import ApplicationError
from solodesk.prompts.models import PromptEvent, PromptState
from solodesk.prompts.registry import rule_of
from solodesk.prompts.selectors import PromptList, prompt_completed_keys

MAX_SNOOZE_DAYS = 365
# (workspace public id, user id, event key, hour) of "shown" rows this process committed.
# Only an optimisation: a missing entry costs an INSERT that conflicts, never a lost event
# (entries are added after the commit). Cleared when it grows past the cap.
_SHOWN_THIS_HOUR: dict[tuple[str, int, str, int], None] = {}
_SHOWN_CAP = 20_000


def _hour(moment: dt.datetime) -> int:
    return int(moment.timestamp() // 3600)


def _remember_shown(keys: list[tuple[str, int, str, int]]) -> None:
    if len(_SHOWN_THIS_HOUR) > _SHOWN_CAP:
        _SHOWN_THIS_HOUR.clear()
    _SHOWN_THIS_HOUR.update(dict.fromkeys(keys))


def prompt_events_record_shown(
    *, workspace: Workspace, user: User, prompts: list[Any], now: dt.datetime | None = None
) -> None:
    """Record "shown" for every prompt of a page, and "completed" for the prompts that went
    away after a click: one INSERT (plus one upsert of states when something completed)."""
    when = now or getattr(prompts, "now", None) or timezone.now()
    hour = _hour(when)
    workspace_key, user_id = str(workspace.public_id), user.pk
    memo = [(workspace_key, user_id, prompt.event_key, hour) for prompt in prompts]
    events = [
        PromptEvent(
            workspace=workspace,
            user=user,
            key=prompt.event_key,
            rule=prompt.rule,
            kind=PromptEvent.Kind.SHOWN,
            created_at=when,
            hour=hour,
        )
        for prompt, seen in zip(prompts, memo, strict=True)
        if seen not in _SHOWN_THIS_HOUR
    ]
    completed: list[str] = []
    finished: set[str] = set()
    if isinstance(prompts, PromptList):
        completed = prompt_completed_keys(prompts)
        if prompts.evaluation is not None:
            finished = prompts.evaluation.finished
    events += [
        PromptEvent(
            workspace=workspace,
            user=user,
            key=key,
            rule=rule_of(key),
            kind=PromptEvent.Kind.COMPLETED,
            created_at=when,
        )
        for key in completed
    ]
    if events:
        PromptEvent.objects.bulk_create(events, ignore_conflicts=True)
        transaction.on_commit(functools.partial(_remember_shown, memo))
    done = sorted(set(completed) | finished)
    if done:
        PromptState.objects.bulk_create(
            [
                PromptState(workspace=workspace, user=user, key=key, completed_at=when)
                for key in done
            ],
            update_conflicts=True,
            unique_fields=["workspace", "user", "key"],
            update_fields=["completed_at", "updated_at"],
        )


@transaction.atomic
def prompt_click_record(
    *, workspace: Workspace, user: User, key: str, now: dt.datetime | None = None
) -> None:
    when = now or timezone.now()
    PromptEvent.objects.create(
        workspace=workspace,
        user=user,
        key=key,
        rule=rule_of(key),
        kind=PromptEvent.Kind.CLICKED,
        created_at=when,
    )
    PromptState.objects.bulk_create(
        [PromptState(workspace=workspace, user=user, key=key, clicked_at=when)],
        update_conflicts=True,
        unique_fields=["workspace", "user", "key"],
        update_fields=["clicked_at", "updated_at"],
    )


def _state_update(*, workspace: Workspace, user: User, key: str, **fields: Any) -> PromptState:
    state, _created = PromptState.objects.update_or_create(
        workspace=workspace, user=user, key=key, defaults=fields
    )
    return state


@transaction.atomic
def prompt_dismiss(*, workspace: Workspace, user: User, key: str) -> PromptState:
    """Hide the prompt for good (for this user; the checklist included)."""
    return _state_update(
        workspace=workspace, user=user, key=key, dismissed_at=timezone.now(), snoozed_until=None
    )


@transaction.atomic
def prompt_snooze(
    *,
    workspace: Workspace,
    user: User,
    key: str,
    until: dt.date | None = None,
    days: int | None = None,
) -> PromptState:
    """Hide the prompt until a day (it shows again that day, workspace time), given as a
    date or as a number of days from today."""
    today = timezone.localdate(timezone=workspace.tzinfo)
    if (until is None) == (days is None):
        raise ApplicationError.for_field("until", "Give a date or a number of days, not both.")
    if days is not None:
        if not 1 <= days <= MAX_SNOOZE_DAYS:
            raise ApplicationError.for_field("days", f"Snooze for 1 to {MAX_SNOOZE_DAYS} days.")
        until = today + dt.timedelta(days=days)
    assert until is not None
    if until <= today:
        raise ApplicationError.for_field("until", "Choose a day after today.")
    if until > today + dt.timedelta(days=MAX_SNOOZE_DAYS):
        raise ApplicationError.for_field("until", "Choose a day within a year.")
    return _state_update(
        workspace=workspace, user=user, key=key, snoozed_until=until, dismissed_at=None
    )
