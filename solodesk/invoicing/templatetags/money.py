"""Money for people, locale-neutral: `{{ amount|money:"EUR" }}` → "1,234.50 EUR".

The amount is rounded (half-up) to the currency's minor unit, so "JPY" shows no decimals;
thousands are grouped with commas and the ISO code follows, which reads the same in every
language (a later session can format by the workspace's locale).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template

from solodesk.core.l10n import format_date, format_money, locale_format
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


# Documents the client gets (PDF, portal, e-mail) follow the workspace's locale
# (solodesk.core.l10n); the app's own pages keep `money` above. A filter takes one argument,
# so money_locale's is a "CODE LOCALE" pair, built once per template:
#   {% money_fmt invoice.currency locale as fmt %} … {{ invoice.total|money_locale:fmt }}


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money_locale(value: object, currency_and_locale: str = "") -> str:
    """`{{ amount|money_locale:"EUR de-DE" }}` → "1.234,50 EUR"; the locale part may be left
    out (the default locale, en-GB: "1,234.50 EUR")."""
    amount = _decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    code, _space, locale = (currency_and_locale or "").strip().partition(" ")
    return format_money(amount, code, locale.strip())


@register.filter
def date_locale(value: object, locale: str = "") -> str:
    """`{{ invoice.due_date|date_locale:locale }}` → "27.11.2026" (de-DE), "Nov 27, 2026"
    (en-US), "27 Nov 2026" (en-GB)."""
    if not isinstance(value, dt.date):
        return "" if value is None else str(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_date(value, locale)


@register.filter
def date_locale_long(value: object, locale: str = "") -> str:
    """Like `date_locale`, with the month spelt out where the locale uses words
    ("27 November 2026"): for running text such as an e-mail."""
    if not isinstance(value, dt.date):
        return "" if value is None else str(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_date(value, locale, long=True)


@register.simple_tag
def money_fmt(currency: str, locale: str) -> str:
    """The argument of `money_locale`: `{% money_fmt invoice.currency locale as fmt %}`."""
    return f"{currency} {locale}"


@register.filter
def quantity_locale(value: object, locale: str = "") -> str:
    """`quantity` with the locale's decimal separator: 1.500 → "1.5" (en) / "1,5" (de); also
    for tax rates ("5.5" → "5,5")."""
    return quantity(value).replace(".", locale_format(locale).decimal)
