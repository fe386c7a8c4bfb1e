"""bench/orm_discipline.py measures what the ORM discipline buys by patching each list into
a naive version. Its patches must keep reaching the pages: after 8d00299 the invoice list
read prepared rows that the naive patches no longer touched, and `make bench` printed
7 vs 7 queries (1.00×) until a later run noticed. Here, on the `small` seed, each naive
list shows the same rows as the shipped one (`compare` asserts it) and runs at least one
query more per row."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from zeal import zeal_ignore

from solodesk.accounts.models import User

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture
def orm_discipline(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import orm_discipline

    return orm_discipline


def test_each_naive_list_pays_per_row_and_shows_the_same_rows(db, orm_discipline):
    orm_discipline.seed("small")
    http = Client()
    http.force_login(User.objects.get(email=orm_discipline.EMAIL))

    for page in orm_discipline.LISTS:
        with zeal_ignore():  # the naive pages' N+1 queries are the point of them
            result = orm_discipline.compare(page, http, runs=1, warmup=0)

        assert result["rows"] >= 3, page.name  # small: 3 clients, more of the rest
        assert result["queries_naive"] >= result["queries_shipped"] + result["rows"], (
            page.name,
            result["queries_shipped"],
            result["queries_naive"],
        )
