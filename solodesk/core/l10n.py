"""Numbers, money and dates as a workspace's clients read them, for the documents they get.

A small explicit table rather than Babel (not a dependency) or Django's l10n (its date formats
translate month names and follow the request's active language): each locale says its decimal
and thousands separators and how it writes a date. Documents stay in English, so the English
locales write the month as a word and the others use their usual all-numeric order. Money is
the amount with the locale's separators followed by the ISO currency code, in every locale
("1.234,50 EUR", "1,234.50 EUR"): unambiguous where "$" or "kr" are not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from solodesk.core.money import CURRENCIES, quantize

DEFAULT_LOCALE = "en-GB"

# Between groups of thousands where a locale writes a space: a no-break space, so an amount
# never wraps across two lines.
NBSP = "\u00a0"

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class LocaleFormat:
    label: str
    decimal: str
    thousands: str
    # strftime-free patterns: {d} day, {dd} zero-padded day, {mm} zero-padded month,
    # {mon} "Nov", {month} "November", {y} four-digit year.
    date: str
    date_long: str


LOCALES: dict[str, LocaleFormat] = {
    "en-US": LocaleFormat(
        "English (United States)", ".", ",", "{mon} {d}, {y}", "{month} {d}, {y}"
    ),
    "en-GB": LocaleFormat("English (United Kingdom)", ".", ",", "{d} {mon} {y}", "{d} {month} {y}"),
    "de-DE": LocaleFormat("Deutsch (Deutschland)", ",", ".", "{dd}.{mm}.{y}", "{dd}.{mm}.{y}"),
    "fr-FR": LocaleFormat("Français (France)", ",", NBSP, "{dd}/{mm}/{y}", "{dd}/{mm}/{y}"),
    "nl-NL": LocaleFormat("Nederlands (Nederland)", ",", ".", "{dd}-{mm}-{y}", "{dd}-{mm}-{y}"),
    "es-ES": LocaleFormat("Español (España)", ",", ".", "{dd}/{mm}/{y}", "{dd}/{mm}/{y}"),
    "it-IT": LocaleFormat("Italiano (Italia)", ",", ".", "{dd}/{mm}/{y}", "{dd}/{mm}/{y}"),
    "pt-BR": LocaleFormat("Português (Brasil)", ",", ".", "{dd}/{mm}/{y}", "{dd}/{mm}/{y}"),
    "sv-SE": LocaleFormat("Svenska (Sverige)", ",", NBSP, "{y}-{mm}-{dd}", "{y}-{mm}-{dd}"),
    "da-DK": LocaleFormat("Dansk (Danmark)", ",", ".", "{dd}.{mm}.{y}", "{dd}.{mm}.{y}"),
    "nb-NO": LocaleFormat("Norsk bokmål (Norge)", ",", NBSP, "{dd}.{mm}.{y}", "{dd}.{mm}.{y}"),
    "pl-PL": LocaleFormat("Polski (Polska)", ",", NBSP, "{dd}.{mm}.{y}", "{dd}.{mm}.{y}"),
}
LOCALE_CHOICES = [(code, f"{fmt.label} — {code}") for code, fmt in LOCALES.items()]


def locale_format(locale: str | None) -> LocaleFormat:
    """The table row for `locale`; an unknown or empty locale reads as the default."""
    return LOCALES.get(locale or "", LOCALES[DEFAULT_LOCALE])


def format_number(value: Decimal, places: int, locale: str | None) -> str:
    """1234.5 with 2 places → "1,234.50" (en) / "1.234,50" (de) / "1 234,50" (fr)."""
    fmt = locale_format(locale)
    text = f"{abs(value):,.{places}f}"  # "1,234.50": swap both separators in one pass
    text = text.translate(str.maketrans(",.", fmt.thousands + fmt.decimal))
    return f"-{text}" if value < 0 else text


def format_money(amount: Decimal, currency: str, locale: str | None) -> str:
    """Rounded half-up to the currency's minor unit, then "1.234,50 EUR"."""
    code = (currency or "").upper()
    places = CURRENCIES.get(code, ("", 2))[1]
    text = format_number(quantize(amount, code), places, locale)
    return f"{text} {code}" if code else text


def format_date(value: dt.date, locale: str | None, *, long: bool = False) -> str:
    """27 Nov 2026 (en-GB), Nov 27, 2026 (en-US), 27.11.2026 (de-DE); `long` spells the month
    out in the English locales ("27 November 2026")."""
    fmt = locale_format(locale)
    pattern = fmt.date_long if long else fmt.date
    return pattern.format(
        d=value.day,
        dd=f"{value.day:02d}",
        mm=f"{value.month:02d}",
        mon=_MONTHS[value.month - 1][:3],
        month=_MONTHS[value.month - 1],
        y=f"{value.year:04d}",
    )
