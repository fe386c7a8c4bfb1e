"""The expenses API: /api/v1/expenses."""

import datetime as dt
from decimal import Decimal

import pytest

from solodesk.expenses.models import Expense
from solodesk.expenses.tests.factories import ExpenseFactory
from solodesk.tests.factories import ClientFactory, ProjectFactory

URL = "/api/v1/expenses"


def detail_url(expense: Expense) -> str:
    return f"{URL}/{expense.public_id}"


def make(persona, **fields) -> Expense:
    return ExpenseFactory(workspace=persona.workspace, created_by=persona.user, **fields)


def as_json(expense: Expense) -> dict:
    return {
        "id": str(expense.public_id),
        "date": expense.date.isoformat(),
        "category": expense.category,
        "description": expense.description,
        "amount": f"{expense.amount:.2f}",
        "currency": expense.currency,
        "billable": expense.is_billable,
        "client_id": str(expense.client.public_id) if expense.client else None,
        "client_name": expense.client.name if expense.client else None,
        "project_id": str(expense.project.public_id) if expense.project else None,
        "project_name": expense.project.name if expense.project else None,
        "created_by_email": expense.created_by.email,
        "created_at": expense.created_at.isoformat(),
        "updated_at": expense.updated_at.isoformat(),
    }


# --- List ------------------------------------------------------------------------------


def test_list_returns_the_workspaces_expenses_newest_first(owner, stranger):
    acme = ClientFactory(workspace=owner.workspace)
    project = ProjectFactory(client=acme)
    old = make(owner, date=dt.date(2026, 1, 2), amount=Decimal("5"))
    new = make(owner, date=dt.date(2026, 2, 3), client=acme, project=project, is_billable=True)
    make(stranger, description="Theirs")

    response = owner.api().get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "items": [as_json(new), as_json(old)],
        "count": 2,
        "count_is_capped": False,
    }
    assert response.json()["items"][1]["amount"] == "5.00"


def test_list_filters(owner):
    acme = ClientFactory(workspace=owner.workspace)
    site = ProjectFactory(client=acme)
    make(owner, description="a", date=dt.date(2026, 10, 1), client=acme, project=site)
    make(owner, description="b", date=dt.date(2026, 10, 2), client=acme, category="travel")
    make(owner, description="c", date=dt.date(2026, 10, 31), category="travel")
    make(owner, description="d", date=dt.date(2026, 11, 1), category="meals")

    def descriptions(**params):
        response = owner.api().get(URL, params)
        assert response.status_code == 200, response.json()
        return sorted(item["description"] for item in response.json()["items"])

    assert descriptions(**{"from": "2026-10-02", "to": "2026-10-31"}) == ["b", "c"]
    assert descriptions(**{"from": "2026-10-31"}) == ["c", "d"]
    assert descriptions(month="2026-10") == ["a", "b", "c"]
    assert descriptions(client_id=str(acme.public_id)) == ["a", "b"]
    assert descriptions(project_id=str(site.public_id)) == ["a"]
    assert descriptions(category="travel") == ["b", "c"]
    assert descriptions(billable="false", category="meals") == ["d"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-10-05", "to": "2026-10-01"}, "to"),
        ({"month": "2026-1"}, "month"),
        ({"category": "yachts"}, "category"),
        ({"client_id": "not-a-uuid"}, "client_id"),
        ({"limit": 201}, "limit"),
    ],
)
def test_list_names_the_bad_filter(owner, params, field):
    response = owner.api().get(URL, params)

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]


def test_list_paginates_with_limit_and_offset(owner):
    for day in range(1, 6):
        make(owner, date=dt.date(2026, 10, day), description=str(day))

    body = owner.api().get(URL, {"limit": 2, "offset": 2}).json()

    assert body["count"] == 5
    assert [item["description"] for item in body["items"]] == ["3", "2"]


def test_list_count_stops_at_the_cap(owner, monkeypatch):
    from solodesk.core.api import CappedLimitOffsetPagination

    monkeypatch.setattr(CappedLimitOffsetPagination, "count_cap", 3)
    for day in range(1, 6):
        make(owner, date=dt.date(2026, 10, day), description=str(day))
    api = owner.api()

    first = api.get(URL, {"limit": 2}).json()
    later = api.get(URL, {"limit": 2, "offset": 2}).json()

    assert (first["count"], first["count_is_capped"]) == (3, True)  # more than 3
    assert (later["count"], later["count_is_capped"]) == (5, False)
    assert [item["description"] for item in later["items"]] == ["3", "2"]


def test_totals_per_currency_follow_the_filters(owner):
    acme = ClientFactory(workspace=owner.workspace)
    make(owner, amount=Decimal("0.10"), client=acme, is_billable=True)
    make(owner, amount=Decimal("0.20"))
    make(owner, amount=Decimal("3.00"), currency="USD")
    make(owner, amount=Decimal("50.00"), date=dt.date(2020, 1, 1))

    body = owner.api().get(f"{URL}/totals", {"from": "2026-01-01"}).json()

    assert body == {
        "count": 3,
        "totals": [
            {"currency": "EUR", "count": 2, "amount": "0.30", "billable_amount": "0.10"},
            {"currency": "USD", "count": 1, "amount": "3.00", "billable_amount": "0.00"},
        ],
    }


def test_member_sees_and_adds_the_workspaces_expenses(owner, member):
    make(owner, description="Owner's")

    listed = member.api().get(URL).json()
    created = member.api().post(
        URL, {"date": "2026-11-02", "amount": "3.20"}, content_type="application/json"
    )

    assert [item["description"] for item in listed["items"]] == ["Owner's"]
    assert created.status_code == 201
    assert created.json()["created_by_email"] == member.user.email


@pytest.mark.parametrize("rows", [3, 40])
def test_list_costs_three_queries_whatever_the_number_of_expenses(
    owner, rows, django_assert_num_queries
):
    clients = ClientFactory.create_batch(2, workspace=owner.workspace)
    projects = [ProjectFactory(client=client) for client in clients]
    for row in range(rows):
        make(owner, client=clients[row % 2], project=projects[row % 2] if row % 3 else None)
    api = owner.api()

    # 1. API token joined with its workspace, user and running timer
    # 2. COUNT of the filtered expenses
    # 3. the page of expenses joined with client, project and author
    with django_assert_num_queries(3):
        response = api.get(URL, {"month": "2026-11"})

    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [3, 40])
def test_totals_cost_two_queries_whatever_the_number_of_expenses(
    owner, rows, django_assert_num_queries
):
    for row in range(rows):
        make(owner, currency=["EUR", "USD", "GBP"][row % 3])
    api = owner.api()

    # 1. API token joined with its workspace, user and running timer
    # 2. the totals per currency (one GROUP BY)
    with django_assert_num_queries(2):
        response = api.get(f"{URL}/totals")

    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [3, 40])
def test_detail_costs_two_queries(owner, rows, django_assert_num_queries):
    expenses = [make(owner, client=ClientFactory(workspace=owner.workspace)) for _ in range(rows)]
    api = owner.api()

    # 1. API token joined with its workspace, user and running timer
    # 2. the expense joined with client, project and author, scoped to the workspace
    with django_assert_num_queries(2):
        response = api.get(detail_url(expenses[-1]))

    assert response.json() == as_json(expenses[-1])


# --- Create ----------------------------------------------------------------------------


def post(persona, body):
    return persona.api().post(URL, body, content_type="application/json")


def test_create_returns_201_with_the_expense(owner):
    project = ProjectFactory(client__workspace=owner.workspace, client__currency="USD")

    response = post(
        owner,
        {
            "date": "2026-11-02",
            "amount": "120.5",
            "category": "hardware",
            "description": " Monitor ",
            "project_id": str(project.public_id),
            "billable": True,
        },
    )

    assert response.status_code == 201
    expense = Expense.objects.get()
    assert response.json() == as_json(expense)
    assert response.json()["amount"] == "120.50"
    assert expense.amount == Decimal("120.50")
    assert expense.currency == "USD"
    assert expense.client == project.client
    assert expense.description == "Monitor"
    assert expense.created_by == owner.user


def test_create_defaults_to_the_workspaces_currency(owner):
    owner.workspace.default_currency = "GBP"
    owner.workspace.save()

    response = post(owner, {"date": "2026-11-02", "amount": "1.00"})

    assert response.json()["currency"] == "GBP"
    assert response.json()["category"] == "other"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-1.00"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "12345678901.00"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "XXX"}, "currency"),
        ({"category": "yachts"}, "category"),
        ({"date": "yesterday"}, "date"),
        ({"description": "x" * 501}, "description"),
        ({"client_id": "nope"}, "client_id"),
    ],
)
def test_create_names_the_invalid_field_with_422(owner, body, field):
    response = post(owner, {"date": "2026-11-02", "amount": "1.00", **body})

    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]
    assert not Expense.objects.exists()


def test_create_requires_date_and_amount(owner):
    response = post(owner, {})

    assert response.status_code == 422
    assert sorted(response.json()["errors"]) == ["amount", "date"]


@pytest.mark.parametrize("kind", ["client_id", "project_id"])
def test_create_refuses_a_strangers_client_or_project_with_400(owner, stranger, kind):
    project = ProjectFactory(client__workspace=stranger.workspace)
    theirs = project.client if kind == "client_id" else project

    response = post(owner, {"date": "2026-11-02", "amount": "1.00", kind: str(theirs.public_id)})

    assert response.status_code == 400
    message = "Client not found." if kind == "client_id" else "Project not found."
    assert response.json() == {"message": message, "errors": {kind: [message]}}
    assert not Expense.objects.exists()


def test_create_refuses_a_project_of_another_client_with_400(owner):
    acme = ClientFactory(workspace=owner.workspace)
    other = ProjectFactory(client__workspace=owner.workspace)

    response = post(
        owner,
        {
            "date": "2026-11-02",
            "amount": "1.00",
            "client_id": str(acme.public_id),
            "project_id": str(other.public_id),
        },
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"project_id": ["This project belongs to another client."]}


def test_create_refuses_decimals_in_yen_with_400(owner):
    response = post(owner, {"date": "2026-11-02", "amount": "10.50", "currency": "JPY"})

    assert response.status_code == 400
    assert response.json()["errors"] == {"amount": ["JPY amounts have no decimals."]}


# --- Get, patch, delete --------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(owner):
    acme = ClientFactory(workspace=owner.workspace)
    expense = make(owner, description="Train", category="travel", amount=Decimal("10.00"))

    response = owner.api().patch(
        detail_url(expense),
        {"amount": "12.30", "client_id": str(acme.public_id), "billable": True},
        content_type="application/json",
    )

    assert response.status_code == 200
    expense.refresh_from_db()
    assert response.json() == as_json(expense)
    assert expense.amount == Decimal("12.30")
    assert expense.client == acme
    assert expense.is_billable is True
    assert expense.description == "Train"
    assert expense.category == "travel"


def test_patch_null_clears_the_client(owner):
    expense = make(owner, client=ClientFactory(workspace=owner.workspace))

    response = owner.api().patch(
        detail_url(expense), {"client_id": None}, content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json()["client_id"] is None
    expense.refresh_from_db()
    assert expense.client is None


def test_patch_refuses_null_for_a_required_field(owner):
    expense = make(owner)

    response = owner.api().patch(
        detail_url(expense), {"amount": None}, content_type="application/json"
    )

    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["amount"]


def test_patch_refuses_a_strangers_client_and_changes_nothing(owner, stranger):
    expense = make(owner)
    theirs = ClientFactory(workspace=stranger.workspace)

    response = owner.api().patch(
        detail_url(expense), {"client_id": str(theirs.public_id)}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"client_id": ["Client not found."]}
    expense.refresh_from_db()
    assert expense.client is None


def test_delete_returns_204(owner):
    expense = make(owner)

    response = owner.api().delete(detail_url(expense))

    assert response.status_code == 204
    assert not Expense.objects.exists()


@pytest.mark.parametrize(
    ("method", "body"),
    [("get", None), ("patch", {"description": "Hacked"}), ("delete", None)],
)
def test_stranger_gets_404_and_nothing_changes(owner, stranger, method, body):
    expense = make(owner, description="Secret")

    kwargs = {"content_type": "application/json"} if body is not None else {}
    response = getattr(stranger.api(), method)(detail_url(expense), body, **kwargs)

    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}
    expense.refresh_from_db()
    assert expense.description == "Secret"


def test_unknown_id_is_404(owner):
    response = owner.api().get(f"{URL}/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404


def test_requires_authentication(db):
    from django.test import Client as DjangoClient

    response = DjangoClient().get(URL)

    assert response.status_code == 401
