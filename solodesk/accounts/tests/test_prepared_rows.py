"""`core.prepared.PreparedRows`: a `values_list` queryset compiled once with sentinel
values, then run with others, gives the ORM's rows, the LIMIT and OFFSET included."""

import datetime as dt

import pytest
from django.db import DEFAULT_DB_ALIAS

from solodesk.accounts.models import User
from solodesk.core.prepared import (
    SLICE_LIMIT_SENTINEL,
    SLICE_OFFSET_SENTINEL,
    PreparedRows,
    row_sentinels,
)
from solodesk.tests.factories import UserFactory


def _users(min_pk, joined_before):
    return (
        User.objects.filter(pk__gte=min_pk, date_joined__lt=joined_before)
        .order_by("-pk")
        .values_list("email", "pk", "date_joined")
    )


@pytest.fixture
def users():
    return [UserFactory(email=f"user{index}@example.com") for index in range(6)]


def _prepared(*, offset: bool, count: bool = False) -> PreparedRows:
    sentinels = row_sentinels(min_pk=int, joined_before=dt.datetime)
    rows = _users(**sentinels)
    if count:
        rows = rows.order_by()
    if offset:
        sliced = rows[SLICE_OFFSET_SENTINEL : SLICE_OFFSET_SENTINEL + SLICE_LIMIT_SENTINEL]
    else:
        sliced = rows[:SLICE_LIMIT_SENTINEL]
    return PreparedRows.compile(sliced, alias=DEFAULT_DB_ALIAS, sentinels=sentinels, count=count)


def test_rows_are_the_orms_for_other_values_limits_and_offsets(db, users):
    first_page, later_page = _prepared(offset=False), _prepared(offset=True)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)

    for min_pk in (users[0].pk, users[3].pk):
        expected = list(_users(min_pk, later))
        assert first_page.rows(min_pk=min_pk, joined_before=later, limit=2) == expected[:2]
        assert first_page.rows(min_pk=min_pk, joined_before=later, limit=50) == expected
        assert (
            later_page.rows(min_pk=min_pk, joined_before=later, limit=2, offset=1) == expected[1:3]
        )
    earlier = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert first_page.rows(min_pk=users[0].pk, joined_before=earlier, limit=50) == []


def test_a_capped_count_counts_up_to_its_limit(db, users):
    count = _prepared(offset=False, count=True)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)

    assert count.count(min_pk=users[0].pk, joined_before=later, limit=100) == 6
    assert count.count(min_pk=users[0].pk, joined_before=later, limit=4) == 4
    assert count.count(min_pk=users[4].pk, joined_before=later, limit=100) == 2


def test_a_value_the_query_does_not_take_once_is_refused(db):
    sentinels = row_sentinels(min_pk=int, joined_before=dt.datetime, other=int)

    with pytest.raises(ValueError, match="'other' must appear once"):
        PreparedRows.compile(
            _users(sentinels["min_pk"], sentinels["joined_before"]),
            alias=DEFAULT_DB_ALIAS,
            sentinels=sentinels,
        )
