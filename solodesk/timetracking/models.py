from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from solodesk.accounts.models import TimeRounding
from solodesk.core.models import BaseModel

MAX_ENTRY_DURATION = timedelta(hours=24)


def iso_utc(value: datetime) -> str:
    """The API's form of a time: ISO 8601 in UTC with "+00:00" (see core.api.IsoDatetime)."""
    return value.astimezone(UTC).isoformat()


def entry_own_json(entry: TimeEntry, tags: Iterable[str]) -> str:
    """The entry's own fields as the API writes them, one JSON object (compact, UTF-8 as
    is): id, started_at, ended_at, duration_seconds, description, billable, created_at,
    updated_at and its tag names, sorted. Every item of the API list starts with it
    (`OwnJsonField`)."""
    return own_json_text(
        str(entry.public_id),
        iso_utc(entry.started_at),
        iso_utc(entry.ended_at),
        int(entry.duration_seconds),
        json.dumps(entry.description, ensure_ascii=False),
        entry.is_billable,
        iso_utc(entry.created_at),
        iso_utc(entry.updated_at),
        tags_json(tags),
    )


def tags_json(names: Iterable[str]) -> str:
    """Tag names as the API writes them: a JSON array, sorted."""
    return json.dumps(sorted(names), ensure_ascii=False, separators=(",", ":"))


def own_json_text(
    public_id: str,
    started_at: str,
    ended_at: str,
    duration_seconds: int,
    description_json: str,
    billable: bool,
    created_at: str,
    updated_at: str,
    tags_json: str,
) -> str:
    """`entry_own_json` from its values already written as text (the seed writes a
    million rows with it)."""
    return (
        f'{{"id":"{public_id}","started_at":"{started_at}","ended_at":"{ended_at}",'
        f'"duration_seconds":{duration_seconds},"description":{description_json},'
        f'"billable":{"true" if billable else "false"},'
        f'"created_at":"{created_at}","updated_at":"{updated_at}","tags":{tags_json}}}'
    )


class OwnJsonField(models.TextField):
    """`entry_own_json` of the row, kept by the ORM: written from the instance on every
    save, `bulk_create` and `_entry_insert` (each field's `pre_save`, after `created_at`
    and `updated_at` have theirs), so it changes whenever those columns do. The tag names
    are the ones a service gives the instance (`set_own_json_tags`) before it saves and
    sets them; without, those the row stored (none for a new one). The API list reads it
    instead of building JSON from eight columns and a subquery per row, which was most of
    a month's time (decision 0010). Nothing writes those columns with `QuerySet.update`
    or the entries' tags around the services (the admin rebuilds what a tag's change or
    deletion touches); a test checks every row against the same JSON built by the
    database."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        # Given for this save only: a later save of the same instance (after another
        # request changed the tags) takes the row's, which `_entry_locked` has read.
        tags = model_instance.__dict__.pop("_own_json_tags", None)
        if tags is None:
            stored = getattr(model_instance, self.attname)
            tags = json.loads(stored)["tags"] if stored else []
        value = entry_own_json(model_instance, tags)  # type: ignore[arg-type]
        setattr(model_instance, self.attname, value)
        return value


def set_own_json_tags(entry: TimeEntry, names: Iterable[str]) -> None:
    """The tag names the entry's next save stores in `own_json` (a service calls it before
    the save, with the names it then sets); that save uses them up."""
    entry._own_json_tags = sorted(names)  # type: ignore[attr-defined]


class Tag(BaseModel):
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="tag_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class TimeEntry(BaseModel):
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="time_entries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="time_entries"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    # Stored (not computed) so reports and totals aggregate with one SUM in the database.
    duration_seconds = models.PositiveIntegerField()
    description = models.CharField(max_length=500, blank=True)
    is_billable = models.BooleanField("billable", default=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="time_entries")
    # The invoice line that bills this entry: set when a draft takes the entry (so no other
    # invoice can), cleared when the draft is deleted or the invoice voided. One column, so
    # an entry can never be on two invoices at once.
    invoice_line = models.ForeignKey(
        "invoicing.InvoiceLine",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="time_entries",
    )
    # Set when that invoice is issued: the entry is billed and can no longer change.
    invoiced_at = models.DateTimeField(null=True, blank=True)
    # Derived: the fields above the API writes, as JSON (`OwnJsonField`). Last, so its
    # pre_save runs after every other field's.
    own_json = OwnJsonField()

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name_plural = "time entries"
        indexes = [
            models.Index(fields=["workspace", "-started_at"], name="entry_workspace_start_idx"),
            models.Index(fields=["project", "started_at"], name="entry_project_start_idx"),
            models.Index(fields=["user", "-started_at"], name="entry_user_start_idx"),
            # Unbilled billable time (the dashboard, prompts, invoice from time): a small
            # partial index, so finding it never scans the workspace's billed history.
            models.Index(
                fields=["workspace", "project"],
                # The dashboard's per-project sums read only these (an index-only scan).
                include=["duration_seconds", "started_at"],
                condition=Q(is_billable=True, invoice_line__isnull=True, invoiced_at__isnull=True),
                name="entry_unbilled_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__gte=F("started_at")), name="entry_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(duration_seconds__lte=int(MAX_ENTRY_DURATION.total_seconds())),
                name="entry_at_most_24_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.started_at:%Y-%m-%d %H:%M} ({self.duration_seconds}s)"

    @property
    def is_invoiced(self) -> bool:
        return self.invoiced_at is not None

    @property
    def duration(self) -> timedelta:
        return timedelta(seconds=self.duration_seconds)


class RunningTimer(BaseModel):
    """The running timer is a row, not process memory: start it on the phone, stop it on
    the laptop; restarts and other replicas see the same timer. One per user at most."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="running_timers"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="running_timer"
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="running_timers"
    )
    description = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Timer of {self.user_id} since {self.started_at:%Y-%m-%d %H:%M}"


class TimeTotals(models.Model):
    """The sums every kind of derived time totals keeps: entries, seconds tracked and the
    billable ones (upserted by `services._totals_upsert`, rebuilt by `_totals_insert`)."""

    entries = models.IntegerField(default=0)
    seconds = models.BigIntegerField(default=0)
    billable_seconds = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class TimeEntryDay(TimeTotals):
    """Derived totals: per workspace, user and local day (the workspace's time zone, by the
    entry's start), the seconds tracked and the billable ones. Written by the services in
    the transaction that creates, changes or deletes an entry (an upsert adding the
    difference), so "hours per month" reads a few hundred rows instead of every entry
    (decision 0004). Rebuilt from the entries by `time_entry_days_rebuild` (the migration
    that adds it, a change of the workspace's time zone, `bench/` seeds)."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="time_entry_days"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_entry_days"
    )
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "day", "user"], name="entry_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.user_id} {self.day}: {self.seconds}s"


class TimeEntryMonth(TimeTotals):
    """Derived totals: per workspace, project and local month (the first day of the month
    the entry starts in, in the workspace's time zone), the entries, seconds tracked and
    billable ones. Kept exactly like `TimeEntryDay`, by the same upsert call in the same
    transaction, for the yearly report by client: a year is at most 12 rows per project
    instead of every entry (decision 0005). Keyed by project, not client, so moving a
    project to another client needs no rewrite."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="time_entry_months"
    )
    # No index of its own: entry_month_project_idx below leads with the project.
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        related_name="time_entry_months",
        db_index=False,
    )
    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "month", "project"], name="entry_month_unique"
            ),
        ]
        indexes = [
            # The dashboard's 12 months and the yearly report read a workspace's months
            # from the index alone (PostgreSQL: an index-only scan; 4.4 → 1.3 ms for the
            # 10,500 monthly rows of a year at the `large` seed).
            models.Index(
                fields=["workspace", "month"],
                include=["project", "seconds", "billable_seconds"],
                name="entry_month_totals_idx",
            ),
            # A project's whole history (the budgets prompt), from the index alone: the
            # budgeted projects each probe their ~30 monthly rows instead of a scan of
            # every monthly row (52,287 at the `large` seed).
            models.Index(
                fields=["project"],
                include=["seconds", "billable_seconds"],
                name="entry_month_project_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.project_id} {self.month:%Y-%m}: {self.seconds}s"


class TimeEntryWorkspaceMonth(TimeTotals):
    """Derived totals: per workspace and local month, the entries, seconds tracked and
    billable ones, summed over every project and person. Kept by the same upsert call as
    `TimeEntryMonth`, in the same transaction, for the dashboard's 12 months: 12 rows
    instead of a year of per-project rows (10,500 at the `large` seed, ~3 ms to sum on
    PostgreSQL; decision 0012)."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="time_entry_workspace_months"
    )
    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "month"], name="entry_workspace_month_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.month:%Y-%m}: {self.seconds}s"


# The rounding steps (minutes) UnbilledTime keeps a rounded sum for: every step a workspace
# or project can choose. A step added to TimeRounding.MINUTE_CHOICES without its columns
# (and a migration) fails here, at import, and in test_unbilled_time.
UNBILLED_STEPS = (1, 6, 15, 30)
assert tuple(minutes for minutes, _ in TimeRounding.MINUTE_CHOICES) == UNBILLED_STEPS


def unbilled_rounded(seconds: int) -> tuple[int, ...]:
    """One entry's seconds rounded at every stored step, in the order of the columns
    (up_1, nearest_1, up_6, …): up = ceil(s / step) · step, nearest = floor((s + step / 2) /
    step) · step, the integer arithmetic of invoicing's RoundingRule.apply."""
    rounded: list[int] = []
    for minutes in UNBILLED_STEPS:
        step = minutes * 60
        rounded += [-(-seconds // step) * step, (seconds + step // 2) // step * step]
    return tuple(rounded)


UNBILLED_ROUNDED_COLUMNS = tuple(
    f"{mode}_{minutes}" for minutes in UNBILLED_STEPS for mode in ("up", "nearest")
)


class UnbilledTime(models.Model):
    """Derived totals: per project, its unbilled billable entries (`is_billable`, on no
    invoice line, not invoiced: the condition of entry_unbilled_idx and of
    invoicing.services.unbilled_entries) counted and summed, raw and rounded per entry at
    every rounding step (so a change of a workspace's or project's step needs no
    recount: the reader picks the step's columns), and the oldest one's start. Kept by
    the services in the transaction that changes an entry or takes, releases or voids it
    on an invoice (an upsert adding the difference), so the dashboard reads one row per
    project instead of every unbilled entry (decision 0008). Whether the project bills
    (not non-billable) is read from the project when the rows are read."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="unbilled_times"
    )
    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, related_name="unbilled_time"
    )
    entries = models.IntegerField(default=0)
    seconds = models.BigIntegerField(default=0)
    up_1 = models.BigIntegerField(default=0)
    nearest_1 = models.BigIntegerField(default=0)
    up_6 = models.BigIntegerField(default=0)
    nearest_6 = models.BigIntegerField(default=0)
    up_15 = models.BigIntegerField(default=0)
    nearest_15 = models.BigIntegerField(default=0)
    up_30 = models.BigIntegerField(default=0)
    nearest_30 = models.BigIntegerField(default=0)
    # NULL when entries = 0.
    first_started_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.project_id}: {self.entries} unbilled, {self.seconds}s"
