"""Recurring invoice profiles in the API: thin adapters over the recurring selectors and
services. Amounts are decimal strings; `day_of_month` is 1–28 or "last"."""

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from solodesk.accounts.models import Workspace
from solodesk.accounts.workspace import request_user as _user
from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.clients.selectors import client_get
from solodesk.core.api import DecimalString, IsoDatetime, omittable, referenced
from solodesk.invoicing.api import LineIn, Price, QuantityString
from solodesk.invoicing.models import Invoice
from solodesk.projects.models import Project
from solodesk.projects.selectors import project_get
from solodesk.recurring import periods, selectors, services
from solodesk.recurring.models import (
    RecurringActivity,
    RecurringLine,
    RecurringProfile,
    RecurringRun,
)

router = Router(tags=["recurring invoices"])

if TYPE_CHECKING:
    Frequency = str
    Action = str
    DiscountType = str
    DayOfMonth = Any
else:
    Frequency = Literal[tuple(RecurringProfile.Frequency.values)]
    Action = Literal[tuple(RecurringProfile.Action.values)]
    DiscountType = Literal[tuple(Invoice.DiscountType.values)]
    DayOfMonth = int | Literal["last"]


def _day_out(value: int) -> int | str:
    return "last" if value == periods.LAST_DAY else value


def _day_in(value: int | str) -> int:
    return periods.LAST_DAY if value == "last" else int(value)


# --- Schemas ------------------------------------------------------------------------------


class RecurringLineOut(Schema):
    description: str
    quantity: QuantityString
    unit: str
    unit_price: DecimalString
    tax_rate: DecimalString


class RunOut(Schema):
    id: UUID
    period_start: dt.date
    period_end: dt.date
    status: str
    error: str
    invoice_id: UUID | None
    invoice_number: str | None
    finished_at: IsoDatetime | None

    @staticmethod
    def resolve_id(run: RecurringRun) -> UUID:
        return run.public_id

    @staticmethod
    def resolve_invoice_id(run: RecurringRun) -> UUID | None:
        return run.invoice.public_id if run.invoice_id else None  # type: ignore[union-attr]

    @staticmethod
    def resolve_invoice_number(run: RecurringRun) -> str | None:
        return run.invoice.number if run.invoice_id else None  # type: ignore[union-attr]


class ActivityOut(Schema):
    action: str
    message: str
    created_at: IsoDatetime


class ProfileSummaryOut(Schema):
    id: UUID
    name: str
    client_id: UUID
    client_name: str
    currency: str
    frequency: str
    day_of_month: int | str = Field(description='1–28, or "last".')
    start_date: dt.date
    end_date: dt.date | None
    occurrences: int | None = Field(description="Number of periods, or null for no limit.")
    action: str = Field(description="draft | issue_and_send")
    bill_time: bool
    discount_type: str
    discount_value: DecimalString
    notes: str
    is_paused: bool
    next_period_start: dt.date | None = Field(
        description="When the next invoice is created; null once the schedule has ended."
    )
    created_at: IsoDatetime

    @staticmethod
    def resolve_id(profile: RecurringProfile) -> UUID:
        return profile.public_id

    @staticmethod
    def resolve_client_id(profile: RecurringProfile) -> UUID:
        return profile.client.public_id

    @staticmethod
    def resolve_client_name(profile: RecurringProfile) -> str:
        return profile.client.name

    @staticmethod
    def resolve_day_of_month(profile: RecurringProfile) -> int | str:
        return _day_out(profile.day_of_month)


class ProfileOut(ProfileSummaryOut):
    lines: list[RecurringLineOut]
    project_ids: list[UUID]
    runs: list[RunOut] = Field(description="The latest runs, newest period first.")
    activity: list[ActivityOut]

    @staticmethod
    def resolve_lines(profile: RecurringProfile) -> list[RecurringLine]:
        return list(profile.lines.all())

    @staticmethod
    def resolve_project_ids(profile: RecurringProfile) -> list[UUID]:
        return [project.public_id for project in profile.projects.all()]

    @staticmethod
    def resolve_runs(profile: RecurringProfile) -> list[RecurringRun]:
        return profile.latest_runs  # type: ignore[attr-defined,no-any-return]

    @staticmethod
    def resolve_activity(profile: RecurringProfile) -> list[RecurringActivity]:
        return profile.latest_activities  # type: ignore[attr-defined,no-any-return]


class ProfileIn(Schema):
    client_id: UUID
    name: str = Field(max_length=200)
    lines: list[LineIn] = Field(default_factory=list, max_length=200)
    frequency: Frequency = "monthly"
    day_of_month: DayOfMonth = Field(1, description='1–28, or "last".')
    start_date: dt.date
    end_date: dt.date | None = None
    occurrences: int | None = Field(None, ge=1, le=10000)
    action: Action = "draft"
    bill_time: bool = False
    project_ids: list[UUID] = Field(default_factory=list)
    discount_type: DiscountType = "none"
    discount_value: Price = Decimal("0")
    notes: str = ""


class ProfilePatch(Schema):
    """Only the fields sent change; `lines` and `project_ids`, when sent, replace all."""

    name: str = omittable(max_length=200)
    lines: list[LineIn] = omittable(max_length=200)
    frequency: Frequency = omittable()
    day_of_month: DayOfMonth = omittable()
    start_date: dt.date = omittable()
    end_date: dt.date | None = None
    occurrences: int | None = Field(None, ge=1, le=10000)
    action: Action = omittable()
    bill_time: bool = omittable()
    project_ids: list[UUID] = omittable()
    discount_type: DiscountType = omittable()
    discount_value: Price = omittable()
    notes: str = omittable()


# --- Helpers ------------------------------------------------------------------------------


def _profile(request: HttpRequest, profile_id: UUID) -> RecurringProfile:
    return selectors.recurring_profile_get(workspace=_workspace(request), public_id=profile_id)


def _target(request: HttpRequest, profile_id: UUID) -> RecurringProfile:
    return selectors.recurring_profile_target(workspace=_workspace(request), public_id=profile_id)


def _lines(lines: list[LineIn]) -> list[dict[str, Any]]:
    return [line.dict(exclude={"project_id"}) for line in lines]


def _projects(workspace: Workspace, project_ids: list[UUID]) -> list[Project]:
    return [
        referenced(
            project_get,
            field=f"project_ids.{index}",
            message="Project not found.",
            workspace=workspace,
            public_id=project_id,
        )
        for index, project_id in enumerate(project_ids)
    ]


# --- Endpoints ----------------------------------------------------------------------------


@router.get("", response=list[ProfileSummaryOut], url_name="recurring_list")
@paginate(LimitOffsetPagination)
def list_profiles(request: HttpRequest) -> QuerySet[RecurringProfile]:
    return selectors.recurring_profile_list(workspace=_workspace(request))


@router.post("", response={201: ProfileOut}, url_name="recurring_create")
def create_profile(request: HttpRequest, payload: ProfileIn) -> Status[RecurringProfile]:
    workspace = _workspace(request)
    client = referenced(
        client_get,
        field="client_id",
        message="Client not found.",
        workspace=workspace,
        public_id=payload.client_id,
    )
    profile = services.recurring_profile_create(
        workspace=workspace,
        user=_user(request),
        client=client,
        name=payload.name,
        lines=_lines(payload.lines),
        frequency=payload.frequency,
        day_of_month=_day_in(payload.day_of_month),
        start_date=payload.start_date,
        end_date=payload.end_date,
        occurrences=payload.occurrences,
        action=payload.action,
        bill_time=payload.bill_time,
        projects=_projects(workspace, payload.project_ids),
        discount_type=payload.discount_type,
        discount_value=payload.discount_value,
        notes=payload.notes,
    )
    return Status(201, _profile(request, profile.public_id))


@router.get("/{uuid:profile_id}", response=ProfileOut, url_name="recurring_detail")
def get_profile(request: HttpRequest, profile_id: UUID) -> RecurringProfile:
    return _profile(request, profile_id)


@router.patch("/{uuid:profile_id}", response=ProfileOut)
def update_profile(
    request: HttpRequest, profile_id: UUID, payload: ProfilePatch
) -> RecurringProfile:
    profile = _target(request, profile_id)
    fields = payload.dict(exclude_unset=True)
    lines = _lines(payload.lines) if "lines" in fields else None
    fields.pop("lines", None)
    projects = (
        _projects(_workspace(request), fields.pop("project_ids"))
        if "project_ids" in fields
        else None
    )
    if "day_of_month" in fields:
        fields["day_of_month"] = _day_in(fields["day_of_month"])
    services.recurring_profile_update(
        profile=profile, user=_user(request), lines=lines, projects=projects, **fields
    )
    return _profile(request, profile_id)


@router.delete("/{uuid:profile_id}", response={204: None})
def delete_profile(request: HttpRequest, profile_id: UUID) -> Status[None]:
    services.recurring_profile_delete(profile=_target(request, profile_id), user=_user(request))
    return Status(204, None)


@router.post("/{uuid:profile_id}/pause", response=ProfileOut, url_name="recurring_pause")
def pause_profile(request: HttpRequest, profile_id: UUID) -> RecurringProfile:
    services.recurring_profile_pause(profile=_target(request, profile_id), user=_user(request))
    return _profile(request, profile_id)


@router.post("/{uuid:profile_id}/resume", response=ProfileOut, url_name="recurring_resume")
def resume_profile(request: HttpRequest, profile_id: UUID) -> RecurringProfile:
    services.recurring_profile_resume(profile=_target(request, profile_id), user=_user(request))
    return _profile(request, profile_id)
