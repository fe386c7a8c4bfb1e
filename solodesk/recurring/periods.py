"""Period arithmetic for recurring invoices: pure functions on dates, no database.

A schedule is a frequency (weekly, monthly, quarterly, yearly), a day of the month (1–28,
or 31 meaning "the last day"), a start date and optionally an end date or a number of
periods. Its schedule dates are numbered 0, 1, 2…:

- weekly: the start date, then every 7 days;
- monthly / quarterly / yearly: the chosen day in every 1st / 3rd / 12th month, counted
  from the first such date on or after the start date. A day past the month's end is
  clamped to its last day (31 → 28 February, 30 April), without drifting: the next month
  is computed from the anchor, never from the clamped date.

Period n runs from schedule date n to the day before schedule date n + 1. A period exists
while n < count (when a count is set) and its start is on or before the end date (when an
end date is set).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

WEEKLY = "weekly"
MONTHLY = "monthly"
QUARTERLY = "quarterly"
YEARLY = "yearly"
MONTHS_PER_STEP = {MONTHLY: 1, QUARTERLY: 3, YEARLY: 12}
FREQUENCIES = (WEEKLY, MONTHLY, QUARTERLY, YEARLY)
LAST_DAY = 31  # "the last day of the month": clamping 31 gives every month's last day


@dataclass(frozen=True)
class Schedule:
    frequency: str
    day_of_month: int
    start_date: dt.date
    end_date: dt.date | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"Unknown frequency {self.frequency!r}")
        if not (1 <= self.day_of_month <= 28 or self.day_of_month == LAST_DAY):
            raise ValueError("day_of_month is 1–28, or 31 for the last day")


@dataclass(frozen=True)
class Period:
    index: int
    start: dt.date
    end: dt.date  # inclusive


def _month_day(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + months
    return total // 12, total % 12 + 1


def _anchor(schedule: Schedule) -> tuple[int, int]:
    """The (year, month) of schedule date 0: the start date's month if the chosen day is
    on or after the start date there, else the next month."""
    start = schedule.start_date
    if _month_day(start.year, start.month, schedule.day_of_month) >= start:
        return start.year, start.month
    return _add_months(start.year, start.month, 1)


def schedule_date(schedule: Schedule, index: int) -> dt.date:
    """Schedule date `index` (it may be negative: the date before date 0)."""
    if schedule.frequency == WEEKLY:
        return schedule.start_date + dt.timedelta(days=7 * index)
    year, month = _anchor(schedule)
    year, month = _add_months(year, month, index * MONTHS_PER_STEP[schedule.frequency])
    return _month_day(year, month, schedule.day_of_month)


def period(schedule: Schedule, index: int) -> Period:
    return Period(
        index=index,
        start=schedule_date(schedule, index),
        end=schedule_date(schedule, index + 1) - dt.timedelta(days=1),
    )


def period_exists(schedule: Schedule, index: int) -> bool:
    """False once the schedule is over (count reached or past the end date)."""
    if index < 0:
        return False
    if schedule.count is not None and index >= schedule.count:
        return False
    return schedule.end_date is None or schedule_date(schedule, index) <= schedule.end_date


def periods_due(schedule: Schedule, *, from_index: int, today: dt.date, limit: int) -> list[Period]:
    """The periods from `from_index` on whose start is on or before `today`, in order, at
    most `limit` of them (the caller comes back for the rest)."""
    due: list[Period] = []
    index = from_index
    while len(due) < limit and period_exists(schedule, index):
        current = period(schedule, index)
        if current.start > today:
            break
        due.append(current)
        index += 1
    return due


def next_index_on_or_after(schedule: Schedule, *, from_index: int, day: dt.date) -> int:
    """The first index ≥ `from_index` whose period starts on or after `day` (may be past
    the end of the schedule: check with `period_exists`)."""
    index = max(from_index, 0)
    if schedule.frequency == WEEKLY:
        # Jump straight there: whole weeks between the start date and `day`, rounded up.
        weeks = -(-(day - schedule.start_date).days // 7)
        return max(index, weeks)
    while schedule_date(schedule, index) < day:
        index += 1
    return index


def next_start(schedule: Schedule, index: int) -> dt.date | None:
    """The start of period `index`, or None when the schedule has ended before it."""
    return schedule_date(schedule, index) if period_exists(schedule, index) else None


def _month_end(day: dt.date) -> dt.date:
    return _month_day(day.year, day.month, LAST_DAY)


def period_label(value: Period) -> str:
    """How an invoice names its period: "March 2026", "Q2 2026", "2026" when the period
    is exactly that calendar month, quarter or year; else "2026-03-15 – 2026-04-14"."""
    start, end = value.start, value.end
    if start.day == 1 and end == _month_end(end):
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        if months == 1:
            return f"{calendar.month_name[start.month]} {start.year}"
        if months == 3 and start.month in (1, 4, 7, 10):
            return f"Q{(start.month - 1) // 3 + 1} {start.year}"
        if months == 12 and start.month == 1:
            return str(start.year)
    return f"{start.isoformat()} – {end.isoformat()}"
