"""Expense selectors: scoped to the workspace, fixed query counts, month ranges."""

import datetime as dt
from decimal import Decimal

import pytest
from django.http import Http404

from solodesk.expenses.selectors import (
    ExpenseFilters,
    expense_get,
    expense_list,
    expense_summary,
    month_range,
)
from solodesk.expenses.tests.factories import ExpenseFactory
from solodesk.tests.factories import ProjectFactory


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 2, 14), (dt.date(2026, 2, 1), dt.date(2026, 2, 28))),
        (dt.date(2028, 2, 1), (dt.date(2028, 2, 1), dt.date(2028, 2, 29))),
        (dt.date(2026, 12, 31), (dt.date(2026, 12, 1), dt.date(2026, 12, 31))),
    ],
)
def test_month_range_covers_the_whole_month(day, expected):
    assert month_range(day) == expected


@pytest.mark.parametrize("rows", [3, 40])
def test_list_costs_one_query_with_relations_used(owner, rows, django_assert_num_queries, zeal):
    project = ProjectFactory(client__workspace=owner.workspace)
    ExpenseFactory.create_batch(
        rows,
        workspace=owner.workspace,
        created_by=owner.user,
        client=project.client,
        project=project,
    )

    # 1. the expenses joined with client, project and author
    with django_assert_num_queries(1), zeal():
        rows_seen = [
            (e.client.name, e.project.name, e.created_by.email)
            for e in expense_list(workspace=owner.workspace, filters=ExpenseFilters())
        ]

    assert len(rows_seen) == rows


@pytest.mark.parametrize("rows", [3, 40])
def test_summary_costs_one_query(owner, rows, django_assert_num_queries):
    for row in range(rows):
        ExpenseFactory(
            workspace=owner.workspace,
            created_by=owner.user,
            currency=["EUR", "USD"][row % 2],
            amount=Decimal("1.01"),
        )

    # 1. count and totals GROUP BY currency
    with django_assert_num_queries(1):
        summary = expense_summary(workspace=owner.workspace)

    assert summary.count == rows
    assert sum(t.amount for t in summary.totals) == Decimal("1.01") * rows


def test_summary_of_nothing_is_empty(owner):
    summary = expense_summary(workspace=owner.workspace)

    assert summary.count == 0
    assert summary.totals == []


def test_get_is_a_404_for_another_workspace(owner, stranger):
    theirs = ExpenseFactory(workspace=stranger.workspace, created_by=stranger.user)

    with pytest.raises(Http404):
        expense_get(workspace=owner.workspace, public_id=theirs.public_id)
    assert expense_get(workspace=stranger.workspace, public_id=theirs.public_id) == theirs
