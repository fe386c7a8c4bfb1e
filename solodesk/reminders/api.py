"""Payment reminders in the API: the workspace's schedule and late-fee rule, the reminders
sent (or skipped), and "send a reminder now" for one invoice. Thin adapters over the
reminder services and selectors; a stranger's invoice is a 404."""

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Body, Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status
from pydantic import StringConstraints

from solodesk.accounts.selectors import workspace_user_is_owner
from solodesk.accounts.workspace import request_user as _user
from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.core.api import DecimalString, IsoDatetime
from solodesk.invoicing.selectors import invoice_list
from solodesk.reminders import selectors, services
from solodesk.reminders.models import Reminder, ReminderSettings, ReminderStage

router = Router(tags=["reminders"])

if TYPE_CHECKING:
    LateFeeType = str
else:
    LateFeeType = Literal[tuple(ReminderSettings.LateFeeType.values)]

Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body_ = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class StageSchema(Schema):
    offset_days: int = Field(
        ge=-60, le=365, description="Days from the due date: −3 before, 0 on it, 7 after."
    )
    subject: Subject
    body: Body_ = Field(
        description="Placeholders: {client}, {number}, {amount_due}, "
        "{due_date}, {days_overdue}, {portal_link}, {business}."
    )
    is_enabled: bool = True


class LateFeeSchema(Schema):
    type: LateFeeType = "none"
    value: DecimalString = Field(
        Decimal("0.00"),
        ge=0,
        max_digits=14,
        decimal_places=2,
        description="An amount in the invoice's currency, or a percentage.",
    )
    after_days: int = Field(14, ge=0, le=365)


class SettingsSchema(Schema):
    stages: list[StageSchema] = Field(max_length=12)
    late_fee: LateFeeSchema


class ReminderOut(Schema):
    id: UUID
    invoice_id: UUID
    invoice_number: str | None
    stage_offset_days: int | None = Field(description="None for a reminder sent by hand.")
    status: str
    to_email: str
    subject: str
    error: str
    created_at: IsoDatetime
    sent_at: IsoDatetime | None

    @staticmethod
    def resolve_id(reminder: Reminder) -> UUID:
        return reminder.public_id

    @staticmethod
    def resolve_invoice_id(reminder: Reminder) -> UUID:
        return reminder.invoice.public_id

    @staticmethod
    def resolve_invoice_number(reminder: Reminder) -> str | None:
        return reminder.invoice.number

    @staticmethod
    def resolve_stage_offset_days(reminder: Reminder) -> int | None:
        return reminder.offset_days


class ReminderFilterIn(Schema):
    invoice_id: UUID | None = None


class SendIn(Schema):
    to_email: str | None = Field(None, description="Defaults to the client's e-mail address.")


class SendOut(Schema):
    reminder_id: UUID


def _settings_out(row: ReminderSettings, stages: list[ReminderStage]) -> dict:
    return {
        "stages": [
            {
                "offset_days": s.offset_days,
                "subject": s.subject,
                "body": s.body,
                "is_enabled": s.is_enabled,
            }
            for s in stages
        ],
        "late_fee": {
            "type": row.late_fee_type,
            "value": row.late_fee_value,
            "after_days": row.late_fee_after_days,
        },
    }


@router.get("/settings", response=SettingsSchema, url_name="reminder_settings")
def get_settings(request: HttpRequest) -> dict:
    """The schedule (created with the defaults on first use) and the late-fee rule."""
    workspace = _workspace(request)
    services.reminder_settings_ensure(workspace=workspace)
    return _settings_out(*selectors.reminder_settings_get(workspace=workspace))


@router.put("/settings", response=SettingsSchema, url_name="reminder_settings_update")
def put_settings(request: HttpRequest, payload: SettingsSchema) -> dict:
    """Replace the schedule and the late-fee rule (the workspace owner only)."""
    workspace = _workspace(request)
    if not workspace_user_is_owner(workspace=workspace, user=_user(request)):
        raise HttpError(403, "Only the workspace owner can change the reminder settings.")
    services.reminder_settings_update(
        workspace=workspace,
        stages=[stage.dict() for stage in payload.stages],
        late_fee_type=payload.late_fee.type,
        late_fee_value=payload.late_fee.value,
        late_fee_after_days=payload.late_fee.after_days,
    )
    return _settings_out(*selectors.reminder_settings_get(workspace=workspace))


@router.get("", response=list[ReminderOut], url_name="reminder_list")
@paginate(LimitOffsetPagination)
def list_reminders(request: HttpRequest, filters: Query[ReminderFilterIn]) -> QuerySet[Reminder]:
    """Reminders of the workspace, newest first; `invoice_id` keeps one invoice's."""
    return selectors.reminder_list(
        workspace=_workspace(request), invoice_public_id=filters.invoice_id
    )


@router.post(
    "/invoices/{uuid:invoice_id}/send", response={202: SendOut}, url_name="reminder_invoice_send"
)
def send_now(
    request: HttpRequest, invoice_id: UUID, payload: Body[SendIn | None] = None
) -> Status[dict[str, UUID]]:
    """Queue one payment reminder for this invoice now; answers at once."""
    invoice = get_object_or_404(
        invoice_list(workspace=_workspace(request), kind=None).select_related("workspace"),
        public_id=invoice_id,
    )
    reminder = services.reminder_send_now(
        invoice=invoice, user=_user(request), to_email=payload.to_email if payload else None
    )
    return Status(202, {"reminder_id": reminder.public_id})
