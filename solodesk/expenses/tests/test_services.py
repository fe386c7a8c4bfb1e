"""Expense services: money, currencies, and which client and project an expense may name."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solodesk.core.exceptions import ApplicationError
from solodesk.expenses.models import Expense
from solodesk.expenses.selectors import ExpenseFilters, expense_summary
from solodesk.expenses.services import expense_create, expense_delete, expense_update
from solodesk.expenses.tests.factories import ExpenseFactory
from solodesk.tests.factories import ClientFactory, ProjectFactory

DAY = dt.date(2026, 11, 20)


def create(persona, **fields):
    fields.setdefault("date", DAY)
    fields.setdefault("amount", Decimal("12.50"))
    return expense_create(workspace=persona.workspace, created_by=persona.user, **fields)


def field_errors(excinfo) -> dict:
    return excinfo.value.errors


# --- Amounts ---------------------------------------------------------------------------


def test_create_stores_the_exact_decimal_amount(owner):
    expense = create(owner, amount=Decimal("1234.56"), category="travel", description=" Train ")

    expense.refresh_from_db()
    assert expense.amount == Decimal("1234.56")
    assert expense.category == "travel"
    assert expense.description == "Train"
    assert expense.created_by == owner.user
    assert expense.workspace == owner.workspace


def test_create_accepts_an_amount_as_a_string_and_keeps_two_decimals(owner):
    expense = create(owner, amount="7.5")

    expense.refresh_from_db()
    assert expense.amount == Decimal("7.50")


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-0.01"), Decimal("-10")])
def test_create_refuses_an_amount_that_is_not_positive(owner, amount):
    with pytest.raises(ApplicationError) as excinfo:
        create(owner, amount=amount)

    assert field_errors(excinfo) == {"amount": ["The amount must be more than zero."]}
    assert not Expense.objects.exists()


def test_create_refuses_more_than_two_decimals(owner):
    with pytest.raises(ApplicationError) as excinfo:
        create(owner, amount=Decimal("1.005"))

    assert field_errors(excinfo) == {"amount": ["At most 2 decimals."]}


@pytest.mark.parametrize("amount", [0.1, "abc", "NaN", "Infinity", None])
def test_create_refuses_floats_and_non_numbers(owner, amount):
    with pytest.raises(ApplicationError) as excinfo:
        create(owner, amount=amount)

    assert field_errors(excinfo) == {"amount": ["Give the amount as a decimal number."]}


def test_create_refuses_an_amount_wider_than_the_column(owner):
    create(owner, amount=Decimal("9999999999.99"))

    with pytest.raises(ApplicationError) as excinfo:
        create(owner, amount=Decimal("10000000000.00"))

    assert list(field_errors(excinfo)) == ["amount"]


def test_create_refuses_decimals_in_a_currency_without_a_minor_unit(owner):
    create(owner, amount=Decimal("1500"), currency="JPY")

    with pytest.raises(ApplicationError) as excinfo:
        create(owner, amount=Decimal("1500.50"), currency="JPY")

    assert field_errors(excinfo) == {"amount": ["JPY amounts have no decimals."]}


@settings(max_examples=30, deadline=None)
@given(cents=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=8))
@pytest.mark.django_db
def test_totals_are_the_exact_sum_of_the_amounts(cents):
    from solodesk.tests.factories import UserFactory, WorkspaceFactory

    workspace = WorkspaceFactory()
    user = UserFactory()
    amounts = [Decimal(c).scaleb(-2) for c in cents]
    for amount in amounts:
        expense_create(workspace=workspace, created_by=user, date=DAY, amount=amount)

    summary = expense_summary(workspace=workspace, filters=ExpenseFilters())

    assert summary.count == len(amounts)
    assert [(t.currency, t.amount) for t in summary.totals] == [("EUR", sum(amounts))]


# --- Currency --------------------------------------------------------------------------


def test_currency_defaults_to_the_workspace_currency_without_a_client(owner):
    owner.workspace.default_currency = "CHF"
    owner.workspace.save()

    assert create(owner).currency == "CHF"


def test_currency_defaults_to_the_clients_currency(owner):
    client = ClientFactory(workspace=owner.workspace, currency="USD")

    assert create(owner, client=client).currency == "USD"


def test_currency_defaults_to_the_projects_client_currency(owner):
    project = ProjectFactory(client__workspace=owner.workspace, client__currency="GBP")

    expense = create(owner, project=project)

    assert expense.currency == "GBP"
    assert expense.client == project.client


def test_a_given_currency_wins_and_is_upper_cased(owner):
    client = ClientFactory(workspace=owner.workspace, currency="USD")

    assert create(owner, client=client, currency="sek").currency == "SEK"


@pytest.mark.parametrize("currency", ["EURO", "XXX", "€", "12"])
def test_create_refuses_an_unknown_currency_code(owner, currency):
    with pytest.raises(ApplicationError) as excinfo:
        create(owner, currency=currency)

    assert field_errors(excinfo) == {
        "currency": ["Give a 3-letter ISO 4217 currency code, like EUR or USD."]
    }


def test_update_keeps_the_currency_when_the_client_changes(owner):
    expense = create(owner, client=ClientFactory(workspace=owner.workspace, currency="USD"))

    expense_update(expense=expense, client=ClientFactory(workspace=owner.workspace, currency="GBP"))

    expense.refresh_from_db()
    assert expense.currency == "USD"


def test_update_refuses_an_empty_currency(owner):
    expense = create(owner)

    with pytest.raises(ApplicationError) as excinfo:
        expense_update(expense=expense, currency="")

    assert list(field_errors(excinfo)) == ["currency"]


# --- Client and project ------------------------------------------------------------------


def test_create_refuses_another_workspaces_client(owner, stranger):
    theirs = ClientFactory(workspace=stranger.workspace)

    with pytest.raises(ApplicationError) as excinfo:
        create(owner, client=theirs)

    assert field_errors(excinfo) == {"client_id": ["Client not found."]}
    assert not Expense.objects.exists()


def test_create_refuses_another_workspaces_project(owner, stranger):
    theirs = ProjectFactory(client__workspace=stranger.workspace)

    with pytest.raises(ApplicationError) as excinfo:
        create(owner, project=theirs)

    assert field_errors(excinfo) == {"project_id": ["Project not found."]}
    assert not Expense.objects.exists()


def test_create_refuses_a_project_of_another_client(owner):
    acme = ClientFactory(workspace=owner.workspace)
    project_of_beta = ProjectFactory(client__workspace=owner.workspace)

    with pytest.raises(ApplicationError) as excinfo:
        create(owner, client=acme, project=project_of_beta)

    assert field_errors(excinfo) == {"project_id": ["This project belongs to another client."]}


def test_update_refuses_a_client_the_project_does_not_belong_to(owner):
    project = ProjectFactory(client__workspace=owner.workspace)
    expense = create(owner, project=project)

    with pytest.raises(ApplicationError) as excinfo:
        expense_update(expense=expense, client=ClientFactory(workspace=owner.workspace))

    assert field_errors(excinfo) == {"project_id": ["This project belongs to another client."]}
    expense.refresh_from_db()
    assert expense.client == project.client


def test_update_refuses_another_workspaces_client_and_changes_nothing(owner, stranger):
    expense = create(owner)

    with pytest.raises(ApplicationError):
        expense_update(expense=expense, client=ClientFactory(workspace=stranger.workspace))

    expense.refresh_from_db()
    assert expense.client is None


def test_billable_expense_needs_a_client(owner):
    with pytest.raises(ApplicationError) as excinfo:
        create(owner, is_billable=True)

    assert field_errors(excinfo) == {"is_billable": ["A billable expense needs a client."]}


def test_update_changes_only_the_given_fields(owner):
    client = ClientFactory(workspace=owner.workspace)
    expense = create(owner, client=client, description="Flight", category="travel")

    expense_update(expense=expense, amount=Decimal("99.99"), is_billable=True)

    expense.refresh_from_db()
    assert expense.amount == Decimal("99.99")
    assert expense.is_billable is True
    assert expense.description == "Flight"
    assert expense.category == "travel"
    assert expense.client == client


def test_update_refuses_an_unknown_field(owner):
    expense = create(owner)

    with pytest.raises(ApplicationError):
        expense_update(expense=expense, workspace=None)


def test_update_refuses_an_unknown_category(owner):
    expense = create(owner)

    with pytest.raises(ApplicationError) as excinfo:
        expense_update(expense=expense, category="yachts")

    assert list(field_errors(excinfo)) == ["category"]


def test_delete_removes_the_expense(owner):
    expense = ExpenseFactory(workspace=owner.workspace, created_by=owner.user)

    expense_delete(expense=expense)

    assert not Expense.objects.exists()


def test_a_client_with_expenses_cannot_be_deleted(owner):
    from django.db.models import ProtectedError

    client = ClientFactory(workspace=owner.workspace)
    create(owner, client=client)

    with pytest.raises(ProtectedError):
        client.delete()
