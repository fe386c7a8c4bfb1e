"""Payment reminders: the schedule, the sweep that finds due stages, the send, late fees.

Why each stage goes out once, ever, however often and however concurrently things run:

1. The sweep *inserts* one `Reminder` row per (invoice, stage offset) under a unique
   constraint, with INSERT … ON CONFLICT DO NOTHING (`bulk_create(ignore_conflicts=True)`).
   Two sweeps at the same moment insert the same row once; each then reads back only the
   rows stamped with its own `sweep_run`, so only one of them fans the row out and logs it.
2. The send task *claims* the row with a conditional UPDATE (queued → sending) right before
   talking to the mail server: a task delivered twice, or a row enqueued twice, finds nothing
   left to claim and sends nothing.
3. A row left `queued` (the broker was down) is handed to the broker again by the next sweep;
   a row stuck in `sending` (its worker died mid-SMTP) is marked failed with a message, never
   re-sent: we cannot know whether that e-mail left, and a duplicate is worse than a visible
   "check with your client".

Catch-up: when several stages are due at once for an invoice (the scheduler was down), only
the latest is queued; the earlier ones are recorded `skipped` with an activity row, so the
client gets one e-mail, not a burst.

The sweep runs in bounded batches (keyset on the invoice pk) with a fixed number of queries
per batch, whatever the number of invoices.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from email.utils import formataddr, parseaddr
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from solodesk.core.exceptions import ApplicationError
from solodesk.core.l10n import format_date, format_money
from solodesk.core.money import quantize
from solodesk.core.services import job_heartbeat_timeout, tasks_send
from solodesk.invoicing import sending
from solodesk.invoicing.models import Invoice, InvoiceActivity
from solodesk.invoicing.services import invoice_create_draft
from solodesk.reminders.models import (
    PLACEHOLDERS,
    LateFee,
    Reminder,
    ReminderSettings,
    ReminderStage,
    stage_label,
)

if TYPE_CHECKING:
    from django.core.mail.backends.base import BaseEmailBackend

    from solodesk.accounts.models import User, Workspace

logger = logging.getLogger(__name__)

SEND_TASK = "solodesk.reminders.tasks.reminder_send_task"
SWEEP_BATCH_SIZE = 500
OPEN_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)

_CLOSING = (
    "You can see the invoice, its payments and a PDF here:\n{portal_link}\n\n"
    "If you have already paid, thank you, and please ignore this message.\n\n"
    "Kind regards,\n{business}"
)
DEFAULT_STAGES: tuple[tuple[int, str, str], ...] = (
    (
        -3,
        "Invoice {number} is due on {due_date}",
        "Hello {client},\n\nA friendly reminder that invoice {number} for {amount_due} is due "
        "on {due_date}.\n\n" + _CLOSING,
    ),
    (
        0,
        "Invoice {number} is due today",
        "Hello {client},\n\nInvoice {number} for {amount_due} is due today, {due_date}.\n\n"
        + _CLOSING,
    ),
    (
        7,
        "Invoice {number} is {days_overdue} days overdue",
        "Hello {client},\n\nInvoice {number} for {amount_due} was due on {due_date} and is "
        "now {days_overdue} days overdue. Could you let me know when I can expect the "
        "payment?\n\n" + _CLOSING,
    ),
    (
        14,
        "Second reminder: invoice {number} is overdue",
        "Hello {client},\n\nInvoice {number} for {amount_due} is {days_overdue} days past its "
        "due date ({due_date}), and I have not received the payment yet. Please pay it as soon "
        "as possible, or reply if something is wrong with it.\n\n" + _CLOSING,
    ),
)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


# --- the schedule ----------------------------------------------------------------------------


def _default_rows(workspace_id: int) -> tuple[ReminderSettings, list[ReminderStage]]:
    return ReminderSettings(workspace_id=workspace_id), [
        ReminderStage(workspace_id=workspace_id, offset_days=offset, subject=subject, body=body)
        for offset, subject, body in DEFAULT_STAGES
    ]


def _create_defaults(workspace_ids: Iterable[int]) -> None:
    """The default schedule for these workspaces; a concurrent creation is harmless (the
    unique constraints turn the second into no-ops)."""
    all_settings: list[ReminderSettings] = []
    all_stages: list[ReminderStage] = []
    for workspace_id in workspace_ids:
        row, stages = _default_rows(workspace_id)
        all_settings.append(row)
        all_stages.extend(stages)
    if not all_settings:
        return
    created = ReminderSettings.objects.bulk_create(all_settings, ignore_conflicts=True)
    if created:
        ReminderStage.objects.bulk_create(all_stages, ignore_conflicts=True)


def reminder_settings_ensure(*, workspace: Workspace) -> ReminderSettings:
    """The workspace's reminder settings, created with the default schedule on first use."""
    row = ReminderSettings.objects.filter(workspace=workspace).first()
    if row is None:
        with transaction.atomic():
            _create_defaults([workspace.pk])
        row = ReminderSettings.objects.get(workspace=workspace)
    return row


def _check_placeholders(text: str, field_name: str, errors: dict[str, list[str]]) -> None:
    unknown = sorted({name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})
    if unknown:
        allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        names = ", ".join("{" + name + "}" for name in unknown)
        errors.setdefault(field_name, []).append(
            f"Unknown placeholder {names}. You can use {allowed}."
        )


def reminder_settings_update(
    *,
    workspace: Workspace,
    stages: list[dict[str, Any]],
    late_fee_type: str,
    late_fee_value: Decimal,
    late_fee_after_days: int,
) -> ReminderSettings:
    """Replace the schedule with `stages` (dicts of offset_days, subject, body, is_enabled)
    and set the late-fee rule. Removing a stage does not forget what it sent: reminder rows
    are keyed by offset, so re-adding it later never sends it again."""
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    cleaned: list[dict[str, Any]] = []
    for index, stage in enumerate(stages):
        prefix = f"stages.{index}"
        offset = int(stage["offset_days"])
        subject = str(stage.get("subject") or "").strip()
        body = str(stage.get("body") or "").strip()
        if offset in seen:
            errors.setdefault(f"{prefix}.offset_days", []).append(
                "Two stages cannot have the same number of days."
            )
        if not -60 <= offset <= 365:
            errors.setdefault(f"{prefix}.offset_days", []).append(
                "Use a number of days between -60 and 365."
            )
        seen.add(offset)
        if not subject:
            errors.setdefault(f"{prefix}.subject", []).append("Write a subject.")
        if len(subject) > 200:
            errors.setdefault(f"{prefix}.subject", []).append("At most 200 characters.")
        if not body:
            errors.setdefault(f"{prefix}.body", []).append("Write the text of the e-mail.")
        _check_placeholders(subject, f"{prefix}.subject", errors)
        _check_placeholders(body, f"{prefix}.body", errors)
        cleaned.append(
            {
                "offset_days": offset,
                "subject": subject,
                "body": body,
                "is_enabled": bool(stage.get("is_enabled", True)),
            }
        )
    if late_fee_type not in ReminderSettings.LateFeeType.values:
        errors.setdefault("late_fee_type", []).append("Choose none, fixed or percent.")
    elif late_fee_type != ReminderSettings.LateFeeType.NONE and late_fee_value <= 0:
        errors.setdefault("late_fee_value", []).append("Enter an amount above zero.")
    if late_fee_type == ReminderSettings.LateFeeType.PERCENT and late_fee_value > 100:
        errors.setdefault("late_fee_value", []).append("A percentage is at most 100.")
    if late_fee_value < 0:
        errors.setdefault("late_fee_value", []).append("Enter zero or more.")
    if not 0 <= late_fee_after_days <= 365:
        errors.setdefault("late_fee_after_days", []).append("Use 0 to 365 days.")
    if errors:
        first = next(iter(errors.values()))[0]
        raise ApplicationError(f"The reminder settings were not saved: {first}", errors=errors)

    with transaction.atomic():
        row = reminder_settings_ensure(workspace=workspace)
        row.late_fee_type = late_fee_type
        row.late_fee_value = quantize(late_fee_value, "EUR")
        row.late_fee_after_days = late_fee_after_days
        row.save()
        ReminderStage.objects.filter(workspace=workspace).exclude(
            offset_days__in=[s["offset_days"] for s in cleaned]
        ).delete()
        existing = {
            stage.offset_days: stage for stage in ReminderStage.objects.filter(workspace=workspace)
        }
        changed: list[ReminderStage] = []
        added: list[ReminderStage] = []
        for data in cleaned:
            current = existing.get(data["offset_days"])
            if current is None:
                added.append(ReminderStage(workspace=workspace, **data))
                continue
            current.subject, current.body = data["subject"], data["body"]
            current.is_enabled = data["is_enabled"]
            changed.append(current)
        ReminderStage.objects.bulk_update(changed, ["subject", "body", "is_enabled"])
        ReminderStage.objects.bulk_create(added)
    return row


# --- rendering -------------------------------------------------------------------------------


def _today(workspace: Workspace, now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(workspace.tzinfo).date()


def reminder_placeholders(invoice: Invoice, *, today: dt.date | None = None) -> dict[str, str]:
    """The values of the placeholders for this invoice, written in the workspace's locale."""
    workspace = invoice.workspace
    locale = workspace.locale
    today = today or _today(workspace)
    seller = invoice.seller or {}
    buyer = invoice.buyer or {}
    due = invoice.due_date
    return {
        "client": buyer.get("name") or invoice.client.name,
        "number": invoice.number or "",
        "amount_due": format_money(invoice.amount_due, invoice.currency, locale),
        "due_date": format_date(due, locale, long=True) if due else "",
        "days_overdue": str(max(0, (today - due).days)) if due else "0",
        "portal_link": sending.portal_url(invoice) or "",
        "business": seller.get("name") or workspace.name,
    }


def reminder_render(text: str, values: dict[str, str]) -> str:
    """Replace the known {placeholders}; anything else in braces stays as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepResult:
    queued: list[int] = field(default_factory=list)  # reminder ids handed to the broker
    skipped: int = 0
    requeued: int = 0
    failed_stale: int = 0
    batches: int = 0


def _send_to_broker(reminder_ids: list[int]) -> None:
    """Hand reminders to the broker. A broker outage is not the caller's problem: the rows
    are committed and the next sweep hands over the ones still queued."""
    tasks_send(SEND_TASK, reminder_ids, label="reminder {id}")


def _open_invoices() -> Any:
    """Invoices that may still get reminders: issued or partly paid, money due, neither the
    invoice nor its client opted out."""
    return Invoice.objects.filter(
        kind=Invoice.Kind.INVOICE,
        status__in=OPEN_STATUSES,
        due_date__isnull=False,
        reminders_enabled=True,
        client__reminders_enabled=True,
        total__gt=F("amount_paid") + F("amount_credited"),
    )


def _ensure_default_schedules(scope: Q) -> None:
    """Workspaces with open invoices that never opened their reminder settings get the
    default schedule: reminders work without any set-up. One query when there are none."""
    missing = list(
        _open_invoices()
        .filter(scope)
        .filter(~Exists(ReminderSettings.objects.filter(workspace=OuterRef("workspace"))))
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    if missing:
        with transaction.atomic():
            _create_defaults(missing)


def _enabled_offsets(scope: Q) -> dict[int, list[int]]:
    offsets: dict[int, list[int]] = defaultdict(list)
    for workspace_id, offset in ReminderStage.objects.filter(scope, is_enabled=True).values_list(
        "workspace_id", "offset_days"
    ):
        offsets[workspace_id].append(offset)
    return offsets


def _due_filter(offsets: Iterable[int], now: dt.datetime) -> Q:
    """Invoices with an enabled stage that is due (by the latest calendar date on Earth, so
    every time zone is covered; the exact local date is checked per workspace) and not yet
    recorded. One OR branch per distinct offset in use (a handful)."""
    latest_today = (now.astimezone(dt.UTC) + dt.timedelta(hours=14)).date()
    due = Q(pk__in=[])
    for offset in sorted(set(offsets)):
        due |= (
            Q(due_date__lte=latest_today - dt.timedelta(days=offset))
            & Exists(
                ReminderStage.objects.filter(
                    workspace=OuterRef("workspace"), offset_days=offset, is_enabled=True
                )
            )
            & ~Exists(Reminder.objects.filter(invoice=OuterRef("pk"), offset_days=offset))
        )
    return due


def reminders_sweep(
    *,
    batch_size: int = SWEEP_BATCH_SIZE,
    enqueue: bool = True,
    max_batches: int | None = None,
    workspace: Workspace | None = None,
) -> SweepResult:
    """Find every due, unrecorded stage of every open invoice and queue it (one row and one
    task per reminder), then re-find rows that stayed queued or sending too long.

    Queries: the default-schedule check, the enabled stages, then per batch of invoices: the
    batch, their recorded stages, the insert, the read-back, the skip activities — and the
    two stale-row queries. The count grows with the number of batches only. `workspace`
    limits everything to one workspace (the demo data)."""
    now = timezone.now()
    result = SweepResult()
    scope = Q(workspace=workspace) if workspace is not None else Q()
    _ensure_default_schedules(scope)
    offsets = _enabled_offsets(scope)
    if offsets:
        candidates = (
            _open_invoices()
            .filter(scope)
            .filter(_due_filter((o for values in offsets.values() for o in values), now))
        )
        cursor = 0
        while max_batches is None or result.batches < max_batches:
            batch = list(
                candidates.filter(pk__gt=cursor)
                .order_by("pk")
                .values("pk", "workspace_id", "due_date", "client__email", "workspace__time_zone")[
                    :batch_size
                ]
            )
            if not batch:
                break
            result.batches += 1
            cursor = batch[-1]["pk"]
            _sweep_batch(batch, offsets, now, result, enqueue=enqueue)
            if len(batch) < batch_size:
                break
    _handle_stale(now, result, scope, enqueue=enqueue)
    return result


def _sweep_batch(
    batch: list[dict[str, Any]],
    offsets: dict[int, list[int]],
    now: dt.datetime,
    result: SweepResult,
    *,
    enqueue: bool,
) -> None:
    invoice_ids = [row["pk"] for row in batch]
    recorded: dict[int, set[int]] = defaultdict(set)
    for invoice_id, offset in Reminder.objects.filter(
        invoice_id__in=invoice_ids, offset_days__isnull=False
    ).values_list("invoice_id", "offset_days"):
        if offset is not None:  # always: filtered above (the type cannot say so)
            recorded[invoice_id].add(offset)
    run = uuid.uuid4()
    rows: list[Reminder] = []
    zones: dict[str, zoneinfo.ZoneInfo] = {}
    for row in batch:
        zone = zones.setdefault(
            row["workspace__time_zone"], zoneinfo.ZoneInfo(row["workspace__time_zone"])
        )
        today = now.astimezone(zone).date()
        done = recorded[row["pk"]]
        due = [
            offset
            for offset in offsets.get(row["workspace_id"], ())
            if offset not in done and row["due_date"] + dt.timedelta(days=offset) <= today
        ]
        if not due:
            continue
        latest = max(due)
        send_latest = not done or latest > max(done)
        for offset in due:
            queue = send_latest and offset == latest
            if queue:
                error = ""
            elif offset == latest:
                error = "A later reminder was already recorded for this invoice."
            else:
                error = (
                    f"Reminder {stage_label(latest)} was due at the same time "
                    "(the scheduler was not running): only that one was sent."
                )
            rows.append(
                Reminder(
                    workspace_id=row["workspace_id"],
                    invoice_id=row["pk"],
                    offset_days=offset,
                    status=Reminder.Status.QUEUED if queue else Reminder.Status.SKIPPED,
                    to_email=row["client__email"] or "",
                    sweep_run=run,
                    enqueued_at=now if queue else None,
                    error=error,
                )
            )
    if not rows:
        return
    with transaction.atomic():
        Reminder.objects.bulk_create(rows, ignore_conflicts=True)
        # Only the rows this run inserted: a concurrent sweep's rows carry its own stamp.
        mine = list(
            Reminder.objects.filter(invoice_id__in=invoice_ids, sweep_run=run).values_list(
                "pk", "invoice_id", "offset_days", "status", "error"
            )
        )
        queued = [pk for pk, _i, _o, status, _e in mine if status == Reminder.Status.QUEUED]
        skipped = [
            InvoiceActivity(
                invoice_id=invoice_id,
                action=InvoiceActivity.Action.REMINDER_SKIPPED,
                message=f"Reminder {stage_label(offset)} not sent. {error}"[:500],
                created_at=now,
            )
            for _pk, invoice_id, offset, status, error in mine
            if status == Reminder.Status.SKIPPED
        ]
        if skipped:
            InvoiceActivity.objects.bulk_create(skipped)
        if enqueue and queued:
            transaction.on_commit(partial(_send_to_broker, queued))
    result.queued.extend(queued)
    result.skipped += len(skipped)


_STUCK_MESSAGE = (
    "The worker stopped while sending to {to_email}, so the reminder may or may not have "
    "arrived. Check with your client before sending another one."
)


def _handle_stale(
    now: dt.datetime, result: SweepResult, scope: Q, *, enqueue: bool, limit: int = 1000
) -> None:
    """Queued rows nobody picked up (broker down, message lost) go to the broker again;
    rows stuck in `sending` past the timeout lost their worker mid-SMTP: failed, not resent."""
    requeue_after = dt.timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS)
    stale = list(
        Reminder.objects.filter(
            scope, status=Reminder.Status.QUEUED, enqueued_at__lt=now - requeue_after
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    if stale:
        Reminder.objects.filter(pk__in=stale, status=Reminder.Status.QUEUED).update(enqueued_at=now)
        if enqueue:
            transaction.on_commit(partial(_send_to_broker, stale))
        result.requeued = len(stale)
    # A row in `sending` past the job heartbeat timeout lost its worker (the claim is taken
    # right before the SMTP conversation, which has a 10 s timeout).
    stuck_filter = Q(status=Reminder.Status.SENDING, updated_at__lt=now - job_heartbeat_timeout())
    if not Reminder.objects.filter(stuck_filter).exists():
        return
    before, after = _STUCK_MESSAGE.split("{to_email}")
    with transaction.atomic():
        # Locked, so a worker finishing one of them meanwhile waits and then finds it failed
        # (its conditional UPDATE changes nothing); one UPDATE for the whole set.
        stuck = list(
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(stuck_filter)
            .order_by("pk")
            .values_list("pk", "invoice_id", "to_email")[:limit]
        )
        Reminder.objects.filter(
            pk__in=[pk for pk, _i, _e in stuck], status=Reminder.Status.SENDING
        ).update(
            status=Reminder.Status.FAILED,
            error=Concat(Value(before), F("to_email"), Value(after)),
            updated_at=now,
        )
        InvoiceActivity.objects.bulk_create(
            InvoiceActivity(
                invoice_id=invoice_id,
                action=InvoiceActivity.Action.REMINDER_FAILED,
                message=_STUCK_MESSAGE.format(to_email=to_email)[:500],
                created_at=now,
            )
            for _pk, invoice_id, to_email in stuck
        )
    result.failed_stale = len(stuck)


# --- "send a reminder now" -------------------------------------------------------------------


def reminder_send_now(*, invoice: Invoice, user: User, to_email: str | None = None) -> Reminder:
    """Queue one reminder of this invoice now, whatever the schedule (and even if automatic
    reminders are off for it: the person asked). Each call is one more e-mail."""
    if invoice.kind != Invoice.Kind.INVOICE or invoice.status not in OPEN_STATUSES:
        message = "Only an issued invoice with money still due can get a payment reminder."
        raise ApplicationError(message, errors={"status": [message]})
    if invoice.amount_due <= 0:
        message = "Nothing is due on this invoice: there is nothing to remind."
        raise ApplicationError(message, errors={"status": [message]})
    address = (to_email or "").strip() or (invoice.client.email or "").strip()
    if not address:
        raise ApplicationError.for_field(
            "to_email", "This client has no e-mail address: enter one to send the reminder to."
        )
    try:
        validate_email(address)
    except ValidationError:
        raise ApplicationError.for_field(
            "to_email", f"“{address[:100]}” is not a valid e-mail address."
        ) from None
    with transaction.atomic():
        reminder = Reminder.objects.create(
            workspace_id=invoice.workspace_id,
            invoice=invoice,
            offset_days=None,
            to_email=address,
            requested_by=user,
            enqueued_at=timezone.now(),
        )
        transaction.on_commit(partial(_send_to_broker, [reminder.pk]))
    return reminder


def invoice_reminders_set(*, invoice: Invoice, user: User, enabled: bool) -> Invoice:
    """Turn automatic reminders on or off for one invoice (an activity row says who)."""
    with transaction.atomic():
        changed = (
            Invoice.objects.filter(pk=invoice.pk)
            .exclude(reminders_enabled=enabled)
            .update(reminders_enabled=enabled)
        )
        if changed:
            InvoiceActivity.objects.create(
                invoice=invoice,
                actor=user,
                action=InvoiceActivity.Action.UPDATED,
                message="Automatic payment reminders turned on."
                if enabled
                else "Automatic payment reminders turned off.",
            )
    invoice.reminders_enabled = enabled
    return invoice


# --- sending (the task's work) ---------------------------------------------------------------


def _skip_reason(reminder: Reminder) -> str | None:
    invoice = reminder.invoice
    if invoice.status == Invoice.Status.PAID:
        return "the invoice is paid"
    if invoice.status == Invoice.Status.VOID:
        return "the invoice is void"
    if invoice.status not in OPEN_STATUSES or invoice.amount_due <= 0:
        return "nothing is due on the invoice any more"
    if reminder.offset_days is not None:
        if not invoice.reminders_enabled:
            return "automatic reminders are turned off for this invoice"
        if not invoice.client.reminders_enabled:
            return "automatic reminders are turned off for this client"
    return None


def _stage_text(reminder: Reminder, today: dt.date) -> tuple[str, str] | None:
    """Subject and body templates: the row's stage for an automatic reminder (None when the
    stage was removed or disabled since); for "send now", the latest stage already due, else
    the first one, else the built-in text."""
    stages = list(
        ReminderStage.objects.filter(
            workspace_id=reminder.workspace_id, is_enabled=True
        ).values_list("offset_days", "subject", "body")
    )
    if reminder.offset_days is not None:
        for offset, subject, body in stages:
            if offset == reminder.offset_days:
                return subject, body
        return None
    due_date = reminder.invoice.due_date or today
    candidates = stages or list(DEFAULT_STAGES)
    passed = [s for s in candidates if due_date + dt.timedelta(days=s[0]) <= today]
    _offset, subject, body = max(passed) if passed else min(candidates)
    return subject, body


def _finish(reminder: Reminder, status: str, error: str, action: str, message: str) -> bool:
    """Move a queued or sending row to its end state and log it, once."""
    now = timezone.now()
    with transaction.atomic():
        changed = Reminder.objects.filter(
            pk=reminder.pk, status__in=[Reminder.Status.QUEUED, Reminder.Status.SENDING]
        ).update(status=status, error=error, updated_at=now)
        if changed:
            InvoiceActivity.objects.create(
                invoice=reminder.invoice,
                actor=reminder.requested_by,
                action=action,
                message=message[:500],
            )
    reminder.status = status
    reminder.error = error
    return bool(changed)


def _ensure_portal_link(invoice: Invoice) -> None:
    """The reminder carries the client link: make one if the invoice has none yet (the same
    kind of token as `invoice_send_start` makes; a concurrent creation keeps the first)."""
    if invoice.portal_token:
        return
    Invoice.objects.filter(pk=invoice.pk, portal_token__isnull=True).update(
        portal_token=sending.new_portal_token()
    )
    invoice.portal_token = (
        Invoice.objects.filter(pk=invoice.pk).values_list("portal_token", flat=True).get()
    )


def reminder_email_message(*, reminder: Reminder, subject: str, body: str) -> EmailMessage:
    invoice = reminder.invoice
    business = (invoice.seller or {}).get("name") or invoice.workspace.name
    _display, from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    reply_to = []
    if reminder.requested_by is not None and reminder.requested_by.email:
        reply_to = [reminder.requested_by.email]
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body.strip() + "\n",
        from_email=formataddr((business, from_address or "solodesk@localhost")),
        to=[reminder.to_email],
        reply_to=reply_to,
    )


def reminder_send(
    *, reminder_id: int, connection: BaseEmailBackend | None = None
) -> Reminder | None:
    """The send task's work. Sends at most one e-mail per row however often it runs, and
    re-checks the invoice at send time: paid, void or opted out since → skipped."""
    reminder = (
        Reminder.objects.select_related("invoice__workspace", "invoice__client", "requested_by")
        .filter(pk=reminder_id)
        .first()
    )
    if reminder is None or reminder.status != Reminder.Status.QUEUED:
        return reminder
    invoice = reminder.invoice
    label = stage_label(reminder.offset_days)
    reason = _skip_reason(reminder)
    today = _today(invoice.workspace)
    texts = _stage_text(reminder, today) if reason is None else None
    if reason is None and texts is None:
        reason = "its stage was removed from the schedule or turned off"
    if reason is not None or texts is None:
        _finish(
            reminder,
            Reminder.Status.SKIPPED,
            f"Not sent: {reason}.",
            InvoiceActivity.Action.REMINDER_SKIPPED,
            f"Reminder {label} not sent: {reason}.",
        )
        return reminder
    if not reminder.to_email:
        message = "The client has no e-mail address: add one to the client to send reminders."
        _finish(
            reminder,
            Reminder.Status.FAILED,
            message,
            InvoiceActivity.Action.REMINDER_FAILED,
            f"Reminder {label} not sent: {message}",
        )
        return reminder
    _ensure_portal_link(invoice)
    values = reminder_placeholders(invoice, today=today)
    subject, body = (reminder_render(text, values) for text in texts)
    now = timezone.now()
    claimed = Reminder.objects.filter(pk=reminder.pk, status=Reminder.Status.QUEUED).update(
        status=Reminder.Status.SENDING, subject=subject[:300], updated_at=now
    )
    if not claimed:
        return reminder  # another run has it (or finished it): never a second e-mail
    email = reminder_email_message(reminder=reminder, subject=subject, body=body)
    if connection is not None:
        email.connection = connection
    try:
        email.send(fail_silently=False)
    except Exception as error:
        logger.warning("Reminder %s failed: %r", reminder.pk, error)
        text = sending.smtp_error_message(error, reminder.to_email)
        _finish(
            reminder,
            Reminder.Status.FAILED,
            text,
            InvoiceActivity.Action.REMINDER_FAILED,
            f"Reminder {label} to {reminder.to_email} failed: {text}",
        )
        return reminder
    now = timezone.now()
    with transaction.atomic():
        Reminder.objects.filter(pk=reminder.pk).update(
            status=Reminder.Status.SENT, sent_at=now, error="", updated_at=now
        )
        InvoiceActivity.objects.create(
            invoice=invoice,
            actor=reminder.requested_by,
            action=InvoiceActivity.Action.REMINDER_SENT,
            message=f"Reminder {label} sent to {reminder.to_email}: “{subject}”."[:500],
        )
    reminder.status, reminder.sent_at, reminder.subject = Reminder.Status.SENT, now, subject
    late_fee_charge(reminder=reminder)
    return reminder


# --- late fees -------------------------------------------------------------------------------


def late_fee_amount(*, rule: ReminderSettings, invoice: Invoice) -> Decimal:
    if rule.late_fee_type == ReminderSettings.LateFeeType.FIXED:
        return quantize(rule.late_fee_value, invoice.currency)
    return quantize(invoice.amount_due * rule.late_fee_value / Decimal(100), invoice.currency)


def late_fee_charge(*, reminder: Reminder) -> LateFee | None:
    """Once per invoice, with the first automatic reminder sent at or after the workspace's
    `late_fee_after_days`: a separate draft invoice to the same client ("Late fee for
    invoice 2026-0007"). A draft, because an issued invoice takes a number forever: the
    freelancer reviews it, then issues and sends it. The one-to-one `LateFee.invoice` is the
    once-only guard, even against a concurrent run."""
    if reminder.offset_days is None:
        return None
    rule = ReminderSettings.objects.filter(workspace_id=reminder.workspace_id).first()
    if (
        rule is None
        or rule.late_fee_type == ReminderSettings.LateFeeType.NONE
        or reminder.offset_days < rule.late_fee_after_days
    ):
        return None
    invoice = reminder.invoice
    amount = late_fee_amount(rule=rule, invoice=invoice)
    if amount <= 0 or LateFee.objects.filter(invoice=invoice).exists():
        return None
    locale = invoice.workspace.locale
    try:
        with transaction.atomic():
            fee = LateFee.objects.create(invoice=invoice, amount=amount)
            draft = invoice_create_draft(
                workspace=invoice.workspace,
                user=reminder.requested_by,  # type: ignore[arg-type]  # None: the system
                client=invoice.client,
                lines=[
                    {
                        "description": f"Late fee for invoice {invoice.number} "
                        f"(due {format_date(invoice.due_date, locale)})"
                        if invoice.due_date
                        else f"Late fee for invoice {invoice.number}",
                        "quantity": Decimal("1"),
                        "unit": "pieces",
                        "unit_price": amount,
                        "tax_rate": Decimal("0"),
                    }
                ],
                notes=f"Late payment fee for invoice {invoice.number}.",
            )
            LateFee.objects.filter(pk=fee.pk).update(fee_invoice=draft)
            fee.fee_invoice = draft
            InvoiceActivity.objects.create(
                invoice=invoice,
                action=InvoiceActivity.Action.LATE_FEE,
                message=f"Late fee of {format_money(amount, invoice.currency, locale)} added "
                "as a draft invoice: review, issue and send it.",
            )
    except IntegrityError:
        return None  # charged by a concurrent run
    return fee
