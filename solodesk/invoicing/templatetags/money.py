"""Money for people, locale-neutral: `{{ amount|money:"EUR" }}` → "1,234.50 EUR".

The amount is rounded (half-up) to the currency's minor unit, so "JPY" shows no decimals;
thousands are grouped with commas and the ISO code follows, which reads the same in every
language (a later session can format by the workspace's locale).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from solodesk.core.money import CURRENCIES, quantize

register = template.Library()


@register.filter
def money(value: object, currency: str = "") -> str:
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    code = (currency or "").upper()
    amount = quantize(amount, code)
    places = CURRENCIES.get(code, ("", 2))[1]
    text = f"{amount:,.{places}f}"
    return f"{text} {code}" if code else text


@register.filter
def quantity(value: object) -> str:
    """A line's quantity without noise: 2.000 → "2", 1.500 → "1.5", 2.375 → "2.375"."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"{amount:.3f}".rstrip("0").rstrip(".")
    return text or "0"
