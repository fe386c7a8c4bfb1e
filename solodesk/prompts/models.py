"""Per-user prompt state (dismissed, snoozed, clicked, completed) and conversion events.

A prompt itself is never stored: it is computed from the workspace's data on every read
(see `registry.py` and `rules/`). Only what the user did with it is stored, keyed by the
prompt's stable key ("unbilled_time:<client public id>", "onboarding", …).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from solodesk.core.models import BaseModel

KEY_MAX_LENGTH = 120
# The key of the one state row per user that remembers which "shown" events were recorded
# in the current clock hour (`PromptState.shown_hour`, `shown_keys`). No rule has this
# name, so no prompt has this key.
SHOWN_MEMO_KEY = "~shown"


class PromptState(BaseModel):
    """What one user did with one prompt. Upserted on (workspace, user, key)."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="prompt_states"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="prompt_states"
    )
    key = models.CharField(max_length=KEY_MAX_LENGTH)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    # Hidden while the workspace's today is before this day.
    snoozed_until = models.DateField(null=True, blank=True)
    # The last click on its call to action: a completion within 7 days of it counts.
    clicked_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Only on the user's SHOWN_MEMO_KEY row: the clock hour (hours since the epoch) and the
    # event keys whose "shown" was recorded in it. The dashboard's state query reads the
    # row with the others, so a reload within the hour writes nothing, whichever web
    # process serves it (the memo is in the database, not in a process).
    shown_hour = models.PositiveIntegerField(null=True, blank=True)
    shown_keys = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            # A key is unique per user and workspace ("onboarding" exists in every workspace).
            models.UniqueConstraint(
                fields=["workspace", "user", "key"], name="prompt_state_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} for {self.user_id}"


class PromptEvent(models.Model):
    """One shown / clicked / completed event, the raw material of the conversion report."""

    class Kind(models.TextChoices):
        SHOWN = "shown", "Shown"
        CLICKED = "clicked", "Clicked"
        COMPLETED = "completed", "Completed"

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="prompt_events"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="prompt_events"
    )
    key = models.CharField(max_length=KEY_MAX_LENGTH)
    rule = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField()
    # For "shown" only: the clock hour (hours since the epoch). A unique index on
    # (user, key, hour) makes a page reload within the same hour insert nothing
    # (INSERT … ON CONFLICT DO NOTHING), so reloads do not inflate the counts.
    hour = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["workspace", "rule", "kind"], name="prompt_event_report_idx"),
            models.Index(fields=["user", "key", "kind", "created_at"], name="prompt_event_key_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key", "hour"],
                condition=Q(kind="shown"),
                name="prompt_event_shown_once_per_hour",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} at {self.created_at:%Y-%m-%d %H:%M}"
