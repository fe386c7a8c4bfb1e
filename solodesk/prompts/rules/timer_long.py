"""A timer running for more than 10 hours: "still working?", and a button to stop it at a
chosen time (a small form in this app; the time entry ends when work really ended)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from solodesk.core.web import url_for
from solodesk.prompts.registry import Context, Cta, Prompt, Rule, register
from solodesk.timetracking.models import RunningTimer

LONG_TIMER = dt.timedelta(hours=10)


@register
class TimerLong(Rule):
    name = "timer_long"
    title = "Timer running for hours"
    family = "timer"
    priority = 95

    def evaluate(self, ctx: Context, rows: RunningTimer | None) -> Iterable[Prompt]:
        timer = rows
        if timer is None or ctx.now - timer.started_at < LONG_TIMER:
            return []
        hours = int((ctx.now - timer.started_at).total_seconds() // 3600)
        started = timer.started_at.astimezone(ctx.workspace.tzinfo)
        return [
            Prompt(
                key=f"{self.name}:{timer.public_id}",
                rule=self.name,
                priority=self.priority,
                title="Still working?",
                message=(
                    f"Your timer on {timer.project.name} has been running for {hours} hours, "
                    f"since {ctx.date(started.date())} at {started:%H:%M}."
                ),
                cta=Cta("Stop it at a chosen time", url_for("prompts:timer_stop")),
                subject=str(timer.public_id),
                tone="warn",
            )
        ]
