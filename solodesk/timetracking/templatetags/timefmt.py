"""Durations for people: `{{ seconds|duration }}` → "1:30", `{{ seconds|hours }}` → "1.50 h"."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template

register = template.Library()


def _seconds(value: object) -> int:
    try:
        return max(0, int(value or 0))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


@register.filter
def duration(value: object) -> str:
    """Hours and minutes, rounded down to the minute: 5400 → "1:30"."""
    minutes = _seconds(value) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


@register.filter
def hours(value: object) -> str:
    """Decimal hours with two places, as invoices count them: 5400 → "1.50 h"."""
    amount = (Decimal(_seconds(value)) / 3600).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{amount} h"
