"""The API list's ids and times read as text (`TimeEntryRows.json_items`): the same strings
as the detail's schema writes (`core.api.IsoDatetime`, `str(UUID)`), whatever the form
the database stored them in."""

import datetime as dt
from uuid import UUID

import pytest

from solodesk.timetracking.selectors import _iso_utc_from_text, _uuid_from_text, iso_utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02 09:00:00", "2026-03-02T09:00:00+00:00"),
        ("2026-03-02 09:00:00.000005", "2026-03-02T09:00:00.000005+00:00"),
        ("2026-03-02 09:00:00.120000", "2026-03-02T09:00:00.120000+00:00"),
        # Not as Django stores it: parsed, then written the same way.
        ("2026-03-02T10:00:00+01:00", "2026-03-02T09:00:00+00:00"),
        ("2026-03-02 09:00:00.12", "2026-03-02T09:00:00.120000+00:00"),
    ],
)
def test_times_read_as_text_match_the_schemas_form(text, expected):
    assert _iso_utc_from_text(text) == expected
    assert iso_utc(dt.datetime.fromisoformat(expected)) == expected


@pytest.mark.parametrize(
    "text",
    ["1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed", "1b9d6bcdbbfd4b2d9b5dab8dfbbd4bed"],
)
def test_ids_read_as_text_match_str_of_the_uuid(text):
    assert _uuid_from_text(text) == str(UUID("1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"))
