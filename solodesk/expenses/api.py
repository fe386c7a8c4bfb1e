"""Expenses in the API: thin adapters over the expenses' selectors and services."""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import StringConstraints, ValidationInfo, field_validator

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.clients.selectors import client_get
from solodesk.core.api import (
    CappedLimitOffsetPagination,
    DecimalString,
    IsoDatetime,
    omittable,
    referenced,
)
from solodesk.core.money import CURRENCIES
from solodesk.expenses.models import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, Expense
from solodesk.expenses.selectors import (
    ExpenseFilters,
    ExpenseSummary,
    expense_get,
    expense_list,
    expense_summary,
    month_range,
)
from solodesk.expenses.services import expense_create, expense_delete, expense_update
from solodesk.projects.models import Project
from solodesk.projects.selectors import project_get

router = Router(tags=["expenses"])

if TYPE_CHECKING:
    CurrencyCode = str
    CategoryCode = str
else:  # enums of the codes in the OpenAPI schema
    CurrencyCode = Literal[tuple(CURRENCIES)]
    CategoryCode = Literal[tuple(Expense.Category.values)]

Amount = Annotated[
    Decimal,
    Field(gt=0, max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES),
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


def _client_for_body(workspace: Workspace, client_id: UUID | None) -> Client | None:
    if client_id is None:
        return None
    return referenced(
        client_get,
        field="client_id",
        message="Client not found.",
        workspace=workspace,
        public_id=client_id,
    )


def _project_for_body(workspace: Workspace, project_id: UUID | None) -> Project | None:
    if project_id is None:
        return None
    return referenced(
        project_get,
        field="project_id",
        message="Project not found.",
        workspace=workspace,
        public_id=project_id,
    )


# --- Schemas ------------------------------------------------------------------------------


class ExpenseOut(Schema):
    id: UUID
    date: dt.date
    category: str
    description: str
    amount: DecimalString
    currency: str
    billable: bool
    client_id: UUID | None
    client_name: str | None
    project_id: UUID | None
    project_name: str | None
    created_by_email: str
    created_at: IsoDatetime
    updated_at: IsoDatetime

    @staticmethod
    def resolve_id(expense: Expense) -> UUID:
        return expense.public_id

    @staticmethod
    def resolve_billable(expense: Expense) -> bool:
        return expense.is_billable

    @staticmethod
    def resolve_client_id(expense: Expense) -> UUID | None:
        return expense.client.public_id if expense.client else None

    @staticmethod
    def resolve_client_name(expense: Expense) -> str | None:
        return expense.client.name if expense.client else None

    @staticmethod
    def resolve_project_id(expense: Expense) -> UUID | None:
        return expense.project.public_id if expense.project else None

    @staticmethod
    def resolve_project_name(expense: Expense) -> str | None:
        return expense.project.name if expense.project else None

    @staticmethod
    def resolve_created_by_email(expense: Expense) -> str:
        return expense.created_by.email


class ExpenseFilterIn(Schema):
    """Dates are whole days, both ends included; `month` (YYYY-MM) replaces from and to."""

    date_from: dt.date | None = Field(None, alias="from")
    date_to: dt.date | None = Field(None, alias="to")
    month: Month | None = None
    client_id: UUID | None = None
    project_id: UUID | None = None
    category: CategoryCode | None = None
    billable: bool | None = None

    @field_validator("date_to")
    @classmethod
    def _not_before_date_from(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        date_from = info.data.get("date_from")
        if value and date_from and value < date_from:
            raise ValueError("to is before from.")
        return value

    def to_filters(self) -> ExpenseFilters:
        date_from, date_to = self.date_from, self.date_to
        if self.month:
            date_from, date_to = month_range(dt.date.fromisoformat(f"{self.month}-01"))
        return ExpenseFilters(
            date_from=date_from,
            date_to=date_to,
            client_id=self.client_id,
            project_id=self.project_id,
            category=self.category or "",
            billable=self.billable,
        )


class ExpenseIn(Schema):
    date: dt.date
    amount: Amount = Field(description='A decimal string, like "12.50".')
    currency: CurrencyCode | None = Field(
        None, description="Default: the client's currency, else the workspace's."
    )
    category: CategoryCode = "other"
    description: Description = ""
    client_id: UUID | None = Field(None, description="Default: the project's client, if any.")
    project_id: UUID | None = Field(None, description="A project of the client.")
    billable: bool = Field(False, description="To be billed on to the client (needs one).")


class ExpensePatch(Schema):
    """Only the fields sent change; `null` clears the client or the project."""

    date: dt.date = omittable()
    amount: Amount = omittable()
    currency: CurrencyCode = omittable()
    category: CategoryCode = omittable()
    description: Description = omittable()
    client_id: UUID | None = None
    project_id: UUID | None = None
    billable: bool = omittable()


class CurrencyTotalOut(Schema):
    currency: str
    count: int
    amount: DecimalString
    billable_amount: DecimalString


class ExpenseTotalsOut(Schema):
    count: int
    totals: list[CurrencyTotalOut] = Field(description="One per currency: never added up.")


# --- Endpoints ----------------------------------------------------------------------------


@router.get("", response=list[ExpenseOut], url_name="expense_list")
@paginate(CappedLimitOffsetPagination)
def list_expenses(request: HttpRequest, filters: Query[ExpenseFilterIn]) -> QuerySet[Expense]:
    return expense_list(workspace=request.workspace, filters=filters.to_filters())  # type: ignore[attr-defined]


@router.get("/totals", response=ExpenseTotalsOut, url_name="expense_totals")
def expense_totals(request: HttpRequest, filters: Query[ExpenseFilterIn]) -> ExpenseSummary:
    """The number and the totals per currency of the expenses the same filters list."""
    return expense_summary(workspace=request.workspace, filters=filters.to_filters())  # type: ignore[attr-defined]


@router.post("", response={201: ExpenseOut}, url_name="expense_create")
def create_expense(request: HttpRequest, payload: ExpenseIn) -> Status[Expense]:
    workspace = request.workspace  # type: ignore[attr-defined]
    expense = expense_create(
        workspace=workspace,
        created_by=request.user,  # type: ignore[arg-type]
        date=payload.date,
        amount=payload.amount,
        currency=payload.currency,
        category=payload.category,
        description=payload.description,
        client=_client_for_body(workspace, payload.client_id),
        project=_project_for_body(workspace, payload.project_id),
        is_billable=payload.billable,
    )
    return Status(201, expense)


@router.get("/{uuid:expense_id}", response=ExpenseOut, url_name="expense_detail")
def get_expense(request: HttpRequest, expense_id: UUID) -> Expense:
    return expense_get(workspace=request.workspace, public_id=expense_id)  # type: ignore[attr-defined]


@router.patch("/{uuid:expense_id}", response=ExpenseOut)
def update_expense(request: HttpRequest, expense_id: UUID, payload: ExpensePatch) -> Expense:
    workspace = request.workspace  # type: ignore[attr-defined]
    expense = expense_get(workspace=workspace, public_id=expense_id)
    fields: dict[str, Any] = payload.dict(exclude_unset=True)
    if "client_id" in fields:
        fields["client"] = _client_for_body(workspace, fields.pop("client_id"))
    if "project_id" in fields:
        fields["project"] = _project_for_body(workspace, fields.pop("project_id"))
    if "billable" in fields:
        fields["is_billable"] = fields.pop("billable")
    return expense_update(expense=expense, **fields)


@router.delete("/{uuid:expense_id}", response={204: None})
def delete_expense(request: HttpRequest, expense_id: UUID) -> Status[None]:
    expense = expense_get(workspace=request.workspace, public_id=expense_id)  # type: ignore[attr-defined]
    expense_delete(expense=expense)
    return Status(204, None)
