"""The prompt registry: what a prompt is, how rules and query families are declared, and
how one evaluation runs them.

- A **family** is one function that runs ONE aggregate query (or none) and returns plain
  rows: `@family("documents")`. Several rules read the same family; an evaluation runs
  each family it needs at most once (memoised on the `Context`), so the cost of a page is
  the number of families, whatever the number of rows or rules.
- A **rule** is one small class, `@register`-ed, that turns a family's rows into prompts
  in Python (no queries). Adding a rule touches one file in `rules/` (which may declare
  its own family if no existing one fits).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlencode

from django.utils import timezone

from solodesk.accounts.models import User, Workspace
from solodesk.core.l10n import format_date, format_money
from solodesk.core.web import url_for

PLACEMENTS = ("dashboard", "invoice_list", "project_detail")


@dataclass(frozen=True)
class Cta:
    """The one call to action: where it goes, pre-filled, and how (GET link or POST)."""

    label: str
    url: str
    method: str = "GET"


@dataclass(frozen=True)
class Step:
    """One line of a checklist (the onboarding prompt)."""

    name: str
    label: str
    done: bool


@dataclass(frozen=True)
class Card:
    """What a person reads and clicks: built only for the prompts a page shows."""

    title: str
    message: str
    cta: Cta


NO_CTA = Cta("", "")


@dataclass
class Prompt:
    """A raised prompt. The cheap part (key, rule, priority, subject) is known for every
    prompt a rule raises; the card (title, message with money and dates formatted for the
    locale, the CTA's URL) may be given as `card`, a function called by `fill()` only for
    the prompts a page shows: a dashboard shows 3 of up to ~100 raised."""

    key: str
    rule: str
    priority: int
    title: str = ""
    message: str = ""
    cta: Cta = NO_CTA
    # The key events are recorded under; the checklist records them per step
    # ("onboarding:add_client") while its state (dismissed) is on "onboarding".
    event_key: str = ""
    # The public id of the object the prompt is about, for placements on that object's page.
    subject: str = ""
    steps: tuple[Step, ...] = ()
    tone: str = "info"  # "info" or "warn"
    card: Callable[[], Card] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.event_key = self.event_key or self.key

    def fill(self) -> Prompt:
        """Build the card now (once); returns the prompt."""
        if self.card is not None:
            card, self.card = self.card, None
            built = card()
            self.title, self.message, self.cta = built.title, built.message, built.cta
        return self

    @property
    def click_url(self) -> str:
        """The CTA through the click-recording redirect."""
        return self.go_url + "?" + urlencode({"to": self.cta.url})

    @property
    def go_url(self) -> str:
        return url_for("prompts:go", self.event_key)

    @property
    def dismiss_url(self) -> str:
        return url_for("prompts:dismiss", self.key)

    @property
    def snooze_url(self) -> str:
        return url_for("prompts:snooze", self.key)

    @property
    def steps_done(self) -> int:
        return sum(1 for step in self.steps if step.done)


@dataclass
class Context:
    """Everything one evaluation needs; families are memoised here."""

    workspace: Workspace
    user: User
    placement: str = "dashboard"
    subject: str = ""
    now: dt.datetime = field(default_factory=timezone.now)
    results: dict[str, Any] = field(default_factory=dict)
    # Rules to leave out (the checklist once done or dismissed).
    skip_rules: set[str] = field(default_factory=set)
    # Keys whose prompt finished for good here (the checklist, all ticked): a rule adds them.
    finished: set[str] = field(default_factory=set)

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.workspace.tzinfo).date()

    @property
    def locale(self) -> str:
        return self.workspace.locale

    def money(self, amount: Decimal, currency: str) -> str:
        return format_money(amount, currency, self.locale)

    def date(self, value: dt.date) -> str:
        return format_date(value, self.locale)

    def family(self, name: str) -> Any:
        if name not in self.results:
            self.results[name] = FAMILIES[name](self)
        return self.results[name]

    def known(self, name: str) -> Any:
        """A family's rows if it already ran in this evaluation, else None (never a query)."""
        return self.results.get(name)


class Rule:
    """One kind of prompt. Subclasses set the class attributes and `evaluate`."""

    name: ClassVar[str]
    title: ClassVar[str]  # for the conversion report
    family: ClassVar[str]
    priority: ClassVar[int]
    placements: ClassVar[tuple[str, ...]] = ("dashboard",)

    def evaluate(self, ctx: Context, rows: Any) -> Iterable[Prompt]:
        raise NotImplementedError

    def also_raised(self, ctx: Context, rows: Any) -> Iterable[str]:
        """Keys still raised though not shown (so their completion is not counted)."""
        return ()


FAMILIES: dict[str, Callable[[Context], Any]] = {}
RULES: dict[str, Rule] = {}


def family(name: str) -> Callable[[Callable[[Context], Any]], Callable[[Context], Any]]:
    def decorator(function: Callable[[Context], Any]) -> Callable[[Context], Any]:
        if name in FAMILIES:
            raise ValueError(f"Prompt family {name!r} is registered twice.")
        FAMILIES[name] = function
        return function

    return decorator


def register(cls: type[Rule]) -> type[Rule]:
    if cls.name in RULES:
        raise ValueError(f"Prompt rule {cls.name!r} is registered twice.")
    RULES[cls.name] = cls()
    return cls


def rule_of(key: str) -> str:
    """ "unbilled_time:<uuid>" → "unbilled_time"; "onboarding:add_client" → "onboarding"."""
    return key.split(":", 1)[0]


@dataclass
class Evaluation:
    prompts: list[Prompt]
    # Every key the rules raised (shown or not, dismissed or not): a clicked key missing
    # from here, among the evaluated rules, has been completed.
    raised: set[str]
    rules: set[str]
    # Keys whose prompt finished for good in this evaluation (the checklist, all ticked).
    finished: set[str] = field(default_factory=set)


def evaluate(ctx: Context) -> Evaluation:
    """Run every rule of the placement; each family's query runs once."""
    prompts: list[Prompt] = []
    raised: set[str] = set()
    evaluated: set[str] = set()
    rules = [
        rule
        for rule in RULES.values()
        if ctx.placement in rule.placements and rule.name not in ctx.skip_rules
    ]
    # Families run in the order they were declared (onboarding first), so that a later
    # family can skip its query when the onboarding facts prove it would find nothing.
    needed = {rule.family for rule in rules}
    for name in FAMILIES:
        if name in needed:
            ctx.family(name)
    for rule in rules:
        rows = ctx.family(rule.family)
        evaluated.add(rule.name)
        made = list(rule.evaluate(ctx, rows))
        for prompt in made:
            raised.update((prompt.key, prompt.event_key))
        raised.update(rule.also_raised(ctx, rows))
        prompts.extend(made)
    if ctx.subject:
        prompts = [p for p in prompts if p.subject == ctx.subject]
    # Stable: within a rule, the family's own order (its SQL ORDER BY: the most overdue
    # invoice, the oldest unbilled time first), which decides the few a dashboard shows.
    prompts.sort(key=lambda p: -p.priority)
    return Evaluation(prompts=prompts, raised=raised, rules=evaluated, finished=set(ctx.finished))
