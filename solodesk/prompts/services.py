"""Writes of prompt state and conversion events.

- shown: one bulk INSERT … ON CONFLICT DO NOTHING for all the prompts of a page. A unique
  index on (user, key, clock hour) for "shown" rows makes reloads within the same hour
  insert nothing, so the counts mean "seen in that hour", not "page loads". The user's
  memo row (`SHOWN_MEMO_KEY`: the hour and the event keys recorded in it), which the
  page's state query already read, lets a reload whose prompts were all recorded this hour
  skip the INSERT (one query and ~1–2 ms less per dashboard); when something new was
  recorded, one upsert keeps the memo. It is a row, not process memory: any web process
  serves the reload the same way, and a rolled-back INSERT rolls the memo back with it.
- clicked: recorded by the `/prompts/go/<key>/` redirect (an event and `clicked_at`).
- completed: noticed while a dashboard is evaluated: a key clicked in the last 7 days whose
  rule ran and no longer raises it. Its event goes into the same bulk INSERT as the shown
  ones, and its state gets `completed_at` (one upsert, only when something completed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from solodesk.accounts.models import User, Workspace
from solodesk.core.exceptions import ApplicationError
from solodesk.prompts.models import SHOWN_MEMO_KEY, PromptEvent, PromptState
from solodesk.prompts.registry import rule_of
from solodesk.prompts.selectors import PromptList, prompt_completed_keys

MAX_SNOOZE_DAYS = 365
# A memo holding more keys than this for one hour starts again from the page's keys (it
# only ever costs an INSERT that conflicts).
SHOWN_MEMO_CAP = 200


def _hour(moment: dt.datetime) -> int:
    return int(moment.timestamp() // 3600)


def prompt_events_record_shown(
    *, workspace: Workspace, user: User, prompts: list[Any], now: dt.datetime | None = None
) -> None:
    """Record "shown" for every prompt of a page, and "completed" for the prompts that went
    away after a click: one INSERT, plus one upsert of the hour's memo when something was
    shown for the first time this hour and one of states when something completed; nothing
    at all on a reload whose prompts the memo holds."""
    when = now or getattr(prompts, "now", None) or timezone.now()
    hour = _hour(when)
    # The states a `PromptList` carries include the memo of this user's hour, if any.
    states: dict[str, PromptState] | None = getattr(prompts, "states", None)
    memo = states.get(SHOWN_MEMO_KEY) if states is not None else None
    recorded = set(memo.shown_keys) if memo is not None and memo.shown_hour == hour else set()
    shown = [prompt for prompt in prompts if prompt.event_key not in recorded]
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
        for prompt in shown
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
    if shown and states is not None:
        # Only for a caller whose states were read: the next read of them sees the memo.
        new_keys = {prompt.event_key for prompt in shown}
        keys = recorded | new_keys if len(recorded) < SHOWN_MEMO_CAP else new_keys
        kept = PromptState(
            workspace=workspace,
            user=user,
            key=SHOWN_MEMO_KEY,
            shown_hour=hour,
            shown_keys=sorted(keys),
        )
        _states_upsert([kept], "shown_hour", "shown_keys")
    done = sorted(set(completed) | finished)
    if done:
        _states_upsert(
            [
                PromptState(workspace=workspace, user=user, key=key, completed_at=when)
                for key in done
            ],
            "completed_at",
        )


def _states_upsert(states: list[PromptState], *fields: str) -> None:
    """One INSERT … ON CONFLICT (workspace, user, key) DO UPDATE of `fields`."""
    PromptState.objects.bulk_create(
        states,
        update_conflicts=True,
        unique_fields=["workspace", "user", "key"],
        update_fields=[*fields, "updated_at"],
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
    _states_upsert(
        [PromptState(workspace=workspace, user=user, key=key, clicked_at=when)], "clicked_at"
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
