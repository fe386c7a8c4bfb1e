"""Period arithmetic: table tests for the calendar's corners, properties for the rest."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solodesk.recurring import periods
from solodesk.recurring.periods import Schedule

D = dt.date


@pytest.mark.parametrize(
    ("frequency", "day", "start", "expected"),
    [
        ("monthly", 1, D(2026, 1, 1), [D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1)]),
        # The chosen day already passed in the start month: the first date is next month.
        ("monthly", 1, D(2026, 1, 15), [D(2026, 2, 1), D(2026, 3, 1), D(2026, 4, 1)]),
        ("monthly", 20, D(2026, 1, 15), [D(2026, 1, 20), D(2026, 2, 20), D(2026, 3, 20)]),
        # "Last day": clamped every month, without drifting to the 28th after February.
        (
            "monthly",
            31,
            D(2026, 1, 1),
            [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30)],
        ),
        ("monthly", 31, D(2028, 2, 1), [D(2028, 2, 29), D(2028, 3, 31)]),
        ("quarterly", 1, D(2026, 1, 1), [D(2026, 1, 1), D(2026, 4, 1), D(2026, 7, 1)]),
        ("quarterly", 31, D(2026, 11, 30), [D(2026, 11, 30), D(2027, 2, 28), D(2027, 5, 31)]),
        ("yearly", 28, D(2026, 2, 1), [D(2026, 2, 28), D(2027, 2, 28), D(2028, 2, 28)]),
        ("yearly", 31, D(2027, 2, 1), [D(2027, 2, 28), D(2028, 2, 29)]),
        ("weekly", 1, D(2026, 3, 4), [D(2026, 3, 4), D(2026, 3, 11), D(2026, 3, 18)]),
        ("monthly", 15, D(2026, 12, 20), [D(2027, 1, 15), D(2027, 2, 15)]),
    ],
)
def test_schedule_dates(frequency, day, start, expected):
    schedule = Schedule(frequency=frequency, day_of_month=day, start_date=start)
    assert [periods.schedule_date(schedule, i) for i in range(len(expected))] == expected


def test_a_period_ends_the_day_before_the_next_one_starts():
    schedule = Schedule(frequency="monthly", day_of_month=31, start_date=D(2026, 1, 1))
    assert periods.period(schedule, 1) == periods.Period(1, D(2026, 2, 28), D(2026, 3, 30))


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        (D(2026, 3, 1), D(2026, 3, 31), "March 2026"),
        (D(2026, 4, 1), D(2026, 6, 30), "Q2 2026"),
        (D(2026, 1, 1), D(2026, 12, 31), "2026"),
        (D(2026, 3, 15), D(2026, 4, 14), "2026-03-15 – 2026-04-14"),
        (D(2026, 2, 1), D(2026, 4, 30), "2026-02-01 – 2026-04-30"),
        (D(2026, 3, 2), D(2026, 3, 8), "2026-03-02 – 2026-03-08"),
    ],
)
def test_period_labels(start, end, label):
    assert periods.period_label(periods.Period(0, start, end)) == label


def test_periods_due_respects_today_the_count_and_the_end_date():
    monthly = Schedule(frequency="monthly", day_of_month=1, start_date=D(2026, 1, 1))
    due = periods.periods_due(monthly, from_index=0, today=D(2026, 4, 1), limit=100)
    assert [p.start for p in due] == [D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1), D(2026, 4, 1)]
    counted = Schedule(frequency="monthly", day_of_month=1, start_date=D(2026, 1, 1), count=2)
    assert len(periods.periods_due(counted, from_index=0, today=D(2027, 1, 1), limit=100)) == 2
    assert periods.next_start(counted, 2) is None
    ended = Schedule(
        frequency="monthly", day_of_month=1, start_date=D(2026, 1, 1), end_date=D(2026, 3, 1)
    )
    assert [
        p.start for p in periods.periods_due(ended, from_index=1, today=D(2027, 1, 1), limit=9)
    ] == [
        D(2026, 2, 1),
        D(2026, 3, 1),
    ]
    assert len(periods.periods_due(monthly, from_index=0, today=D(2030, 1, 1), limit=5)) == 5


def test_an_invalid_schedule_is_refused():
    with pytest.raises(ValueError):
        Schedule(frequency="daily", day_of_month=1, start_date=D(2026, 1, 1))
    with pytest.raises(ValueError):
        Schedule(frequency="monthly", day_of_month=29, start_date=D(2026, 1, 1))


schedules = st.builds(
    Schedule,
    frequency=st.sampled_from(periods.FREQUENCIES),
    day_of_month=st.sampled_from([*range(1, 29), periods.LAST_DAY]),
    start_date=st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 1, 1)),
)


@given(schedules, st.integers(min_value=0, max_value=200))
def test_periods_tile_the_calendar_without_gap_or_overlap(schedule, index):
    current, following = periods.period(schedule, index), periods.period(schedule, index + 1)
    assert current.start <= current.end
    assert following.start == current.end + dt.timedelta(days=1)
    assert periods.schedule_date(schedule, 0) >= schedule.start_date


@given(schedules, st.integers(min_value=0, max_value=200))
def test_each_date_falls_on_the_chosen_day_or_the_months_last(schedule, index):
    day = periods.schedule_date(schedule, index)
    if schedule.frequency == "weekly":
        assert (day - schedule.start_date).days == 7 * index
        return
    import calendar

    last = calendar.monthrange(day.year, day.month)[1]
    assert day.day == min(schedule.day_of_month, last)
    first = periods.schedule_date(schedule, 0)
    months = (day.year - first.year) * 12 + day.month - first.month
    assert months == index * periods.MONTHS_PER_STEP[schedule.frequency]


@given(schedules, st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 1, 1)))
def test_the_periods_due_are_exactly_those_started_by_today(schedule, today):
    due = periods.periods_due(schedule, from_index=0, today=today, limit=10_000)
    assert [p.index for p in due] == list(range(len(due)))
    assert all(p.start <= today for p in due)
    assert periods.schedule_date(schedule, len(due)) > today


@given(schedules, st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 1, 1)))
def test_resuming_skips_to_the_first_period_starting_on_or_after_the_day(schedule, day):
    index = periods.next_index_on_or_after(schedule, from_index=0, day=day)
    assert periods.schedule_date(schedule, index) >= day
    if index > 0:
        assert periods.schedule_date(schedule, index - 1) < day
