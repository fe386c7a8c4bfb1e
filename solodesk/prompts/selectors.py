"""Reads of prompts: evaluating the rules for one user and placement, their states, and the
conversion report.

Cost of `prompt_list_for_user` on the dashboard, whatever the number of rows:
1. the user's prompt states (dismissed, snoozed, clicked in the last 7 days, the checklist);
2. the onboarding facts — only until the checklist is done or dismissed;
3. clients (unbilled time per client, missing details) — one GROUP BY (on the dashboard,
   from the per-project unbilled rows the dashboard already read, plus one small query
   for the clients missing details);
4. documents (overdue / stale draft / unsent invoices, accepted / expiring quotes) — one
   UNION ALL (one SELECT per urgency, each cut at the limit);
5. projects past 80 % of a budget — one query (a correlated sum per project);
the running timer comes with the user (no query). A new workspace skips 3–5: the onboarding
facts already say there is nothing to find.
"""

from __future__ import annotations

import datetime as dt
import functools
import statistics
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404

from solodesk.accounts.models import User, Workspace
from solodesk.prompts import rules as _rules  # noqa: F401  (registers the rules)
from solodesk.prompts.models import SHOWN_MEMO_KEY, PromptEvent, PromptState
from solodesk.prompts.registry import (
    PLACEMENTS,
    RULES,
    Context,
    Evaluation,
    Prompt,
    evaluate,
    rule_of,
)
from solodesk.prompts.rules.families import UNBILLED_CLIENTS, UnbilledClient

ONBOARDING = "onboarding"
# A completion counts when the prompt's condition went away within this long of a click.
COMPLETION_WINDOW = dt.timedelta(days=7)
# The API's list (a mobile client shows its own list): at most this many.
DASHBOARD_LIMIT = 12
# The dashboard itself shows the top few above its figures, with a link to all of them
# (the /prompts/ page): only these get their cards built and their "shown" recorded.
DASHBOARD_CARDS = 3
# At most this many prompts of one rule on a page: thirty overdue invoices should not hide
# everything else (the invoice list itself shows them all).
PER_RULE_LIMIT = 3
REPORT_COMPLETIONS_LIMIT = 5000


class PromptList(list[Prompt]):
    """The visible prompts, highest priority first, plus what the events service needs to
    record completions without querying again."""

    evaluation: Evaluation | None = None
    # How many prompts are visible to this user on the placement before the per-rule cap
    # and the limit: the /prompts/ page shows them all ("See all N suggestions").
    total: int = 0
    states: dict[str, PromptState]
    now: dt.datetime
    placement: str = "dashboard"

    def __bool__(self) -> bool:
        # Truthy also when nothing is shown but a completion or a finished checklist waits
        # to be recorded, so `if prompts: prompt_events_record_shown(...)` records it.
        # (Templates test `prompts|length`.)
        return (
            len(self) > 0
            or bool(prompt_completed_keys(self))
            or bool(self.evaluation and self.evaluation.finished)
        )


@functools.lru_cache(maxsize=1)
def _state_map_sql() -> str:
    table = PromptState._meta.db_table
    return (
        f"SELECT * FROM {table} WHERE workspace_id = %s AND user_id = %s AND ("  # noqa: S608
        f"dismissed_at IS NOT NULL OR snoozed_until > %s OR clicked_at >= %s "
        f'OR "key" IN (%s, %s))'
    )


def prompt_state_map(
    *, workspace: Workspace, user: User, now: dt.datetime, today: dt.date
) -> dict[str, PromptState]:
    """The states that matter now, in one query: dismissed, snoozed past today, clicked
    within the completion window, the checklist's, and the memo of the "shown" events
    recorded this hour (`SHOWN_MEMO_KEY`, read by `prompt_events_record_shown`). (Written as SQL: the dashboard reads
    it on every view, and building the ORM's OR of four conditions cost ~1 ms of CPU.)"""
    ops = connection.ops
    states = PromptState.objects.raw(
        _state_map_sql(),
        [
            workspace.pk,
            user.pk,
            ops.adapt_datefield_value(today),
            ops.adapt_datetimefield_value(now - COMPLETION_WINDOW),
            ONBOARDING,
            SHOWN_MEMO_KEY,
        ],
    )
    return {state.key: state for state in states}


def _is_visible(state: PromptState | None, today: dt.date) -> bool:
    if state is None:
        return True
    if state.dismissed_at is not None:
        return False
    return not (state.snoozed_until and state.snoozed_until > today)


def prompt_list_for_user(
    *,
    workspace: Workspace,
    user: User,
    placement: str = "dashboard",
    subject: str = "",
    limit: int | None = DASHBOARD_LIMIT,
    per_rule: int | None = PER_RULE_LIMIT,
    now: dt.datetime | None = None,
    unbilled_clients: list[UnbilledClient] | None = None,
) -> PromptList:
    """The prompts this user should see on `placement`, highest priority first, without
    the dismissed and snoozed ones. `subject` (a public id) keeps the prompts about one
    object (the project page). Pass the result to `prompt_events_record_shown`.

    `unbilled_clients`: the rows of `rules.families.unbilled_clients` when the caller
    already read them (the dashboard), so the `clients` family does not read the unbilled
    time a second time (it then runs one small query for the clients missing details)."""
    if placement not in PLACEMENTS:
        raise ValueError(f"Unknown prompt placement {placement!r}")
    ctx = Context(workspace=workspace, user=user, placement=placement, subject=str(subject or ""))
    if now is not None:
        ctx.now = now
    if unbilled_clients is not None:
        ctx.results[UNBILLED_CLIENTS] = unbilled_clients
    today = ctx.today
    states: dict[str, PromptState] = {}
    if placement == "dashboard":
        states = prompt_state_map(workspace=workspace, user=user, now=ctx.now, today=today)
        checklist = states.get(ONBOARDING)
        if checklist and (checklist.completed_at or checklist.dismissed_at):
            ctx.skip_rules.add(ONBOARDING)
    evaluation = evaluate(ctx)
    if placement != "dashboard" and evaluation.prompts:
        # Elsewhere the states are read only when there is something to show.
        states = prompt_state_map(workspace=workspace, user=user, now=ctx.now, today=today)
    visible = [p for p in evaluation.prompts if _is_visible(states.get(p.key), today)]
    total = len(visible)
    if per_rule:
        seen: dict[str, int] = {}
        kept = []
        for prompt in visible:
            seen[prompt.rule] = seen.get(prompt.rule, 0) + 1
            if seen[prompt.rule] <= per_rule:
                kept.append(prompt)
        visible = kept
    # Only the prompts shown get their card (message, formatted money and dates, CTA URL).
    result = PromptList(prompt.fill() for prompt in (visible[:limit] if limit else visible))
    result.total = total
    result.evaluation = evaluation
    result.states = states
    result.now = ctx.now
    result.placement = placement
    return result


def prompt_completed_keys(prompts: PromptList) -> list[str]:
    """Keys clicked within the completion window whose rule ran and no longer raises them:
    the user acted and the condition went away. Only a full (dashboard) evaluation can
    tell, because only there every rule ran."""
    evaluation = prompts.evaluation
    if evaluation is None or prompts.placement != "dashboard":
        return []
    cutoff = prompts.now - COMPLETION_WINDOW
    return sorted(
        key
        for key, state in prompts.states.items()
        if state.clicked_at is not None
        and state.clicked_at >= cutoff
        and (state.completed_at is None or state.completed_at < state.clicked_at)
        and rule_of(key) in evaluation.rules
        and key not in evaluation.raised
    )


def prompt_get_raised(*, workspace: Workspace, user: User, key: str) -> Prompt:
    """The prompt with this key if the rules raise it now for this user (dismissed or not),
    else a 404: an unknown key, or another workspace's object."""
    if rule_of(key) not in RULES:
        raise Http404("No such prompt.")
    evaluation = evaluate(Context(workspace=workspace, user=user))
    for prompt in evaluation.prompts:
        if key in (prompt.key, prompt.event_key):
            return prompt.fill()
    raise Http404("No such prompt.")


def prompt_key_is_known(key: str) -> bool:
    return rule_of(key) in RULES and len(key) <= 120


# --- conversion report -------------------------------------------------------------------


@dataclass(frozen=True)
class RuleConversion:
    rule: str
    title: str
    shown: int
    clicked: int
    completed: int
    median_to_complete: dt.timedelta | None

    @property
    def click_through_rate(self) -> float | None:
        return self.clicked / self.shown if self.shown else None

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.clicked if self.clicked else None


def prompt_report(*, workspace: Workspace) -> list[RuleConversion]:
    """Per rule: times shown, clicked, completed, and the median time from a key's first
    "shown" to its "completed". Two queries: the counts (GROUP BY rule, kind) and the most
    recent completions each with its key's first shown time (a correlated subquery)."""
    counts: dict[tuple[str, str], int] = {
        (row["rule"], row["kind"]): row["n"]
        for row in PromptEvent.objects.filter(workspace=workspace)
        .values("rule", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    }
    first_shown = (
        PromptEvent.objects.filter(
            user=OuterRef("user"),
            key=OuterRef("key"),
            kind=PromptEvent.Kind.SHOWN,
            created_at__lte=OuterRef("created_at"),
        )
        .order_by("created_at")
        .values("created_at")[:1]
    )
    completions = (
        PromptEvent.objects.filter(workspace=workspace, kind=PromptEvent.Kind.COMPLETED)
        .annotate(first_shown_at=Subquery(first_shown))
        .order_by("-created_at")
        .values_list("rule", "created_at", "first_shown_at")[:REPORT_COMPLETIONS_LIMIT]
    )
    durations: dict[str, list[float]] = {}
    for rule, completed_at, shown_at in completions:
        if shown_at is not None:
            durations.setdefault(rule, []).append((completed_at - shown_at).total_seconds())
    rules = {rule for rule, _kind in counts} | set(RULES)
    report = []
    for rule in sorted(rules, key=lambda r: (-counts.get((r, "shown"), 0), r)):
        spans = durations.get(rule)
        report.append(
            RuleConversion(
                rule=rule,
                title=RULES[rule].title if rule in RULES else rule,
                shown=counts.get((rule, PromptEvent.Kind.SHOWN), 0),
                clicked=counts.get((rule, PromptEvent.Kind.CLICKED), 0),
                completed=counts.get((rule, PromptEvent.Kind.COMPLETED), 0),
                median_to_complete=dt.timedelta(seconds=statistics.median(spans))
                if spans
                else None,
            )
        )
    return report
