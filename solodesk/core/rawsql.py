"""Values read from a raw cursor (hand-written SQL), the same on PostgreSQL and SQLite:
PostgreSQL returns Decimal, UUID and date objects; SQLite returns ints or floats for sums,
strings for UUIDs and dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from uuid import UUID


def money_sum(value: Any) -> Decimal:
    """A SUM of money: Decimal on PostgreSQL, int or float on SQLite (through its shortest
    repr, as Django's own SQLite converter does); no rows is zero."""
    if value is None:
        return Decimal("0")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def uuid_value(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def date_value(value: Any) -> dt.date | None:
    """A date: a date on PostgreSQL, an ISO string on SQLite (a truncated timestamp too)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def datetime_value(value: Any) -> dt.datetime:
    """An aware datetime: as is on PostgreSQL; on SQLite the stored UTC text."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)
