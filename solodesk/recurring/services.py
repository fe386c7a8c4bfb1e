"""Every write to recurring profiles and their runs.

Why each period's invoice is created exactly once, whatever runs twice:
- The sweeper (`recurring_runs_schedule`) locks a batch of due profiles (skip_locked, so a
  second sweeper running at the same moment takes other profiles or none), inserts one
  RecurringRun row per due period with `ignore_conflicts` — the unique (profile,
  period_start) constraint is the last guard — and moves the profile's next period on in
  the same transaction. The runs reach the broker only after commit.
- The run task claims its run with a conditional UPDATE (queued → running, or a running
  run whose heartbeat is stale, i.e. whose worker died); a duplicate delivery finds nothing
  to claim.
- The invoice is created in one transaction that first locks the profile row and the run
  row, checks the run is still running without an invoice, and ends by marking it
  succeeded: a second runner (a stale reclaim racing a slow first one) waits on the lock,
  then sees `succeeded` and stops. A killed worker's transaction is rolled back by the
  database, so the run is either done with its invoice or not done at all.

Pausing skips: the periods that start while a profile is paused are not billed when it is
resumed (resuming moves the next period to the first one starting on or after that day).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from solodesk.accounts.models import Membership, User, Workspace
from solodesk.accounts.selectors import workspace_owner_get
from solodesk.clients.models import Client
from solodesk.core.exceptions import ApplicationError
from solodesk.core.money import CURRENCIES
from solodesk.core.services import tasks_send
from solodesk.invoicing import services as invoicing
from solodesk.invoicing.calculation import line_total
from solodesk.invoicing.models import Invoice, InvoiceActivity
from solodesk.invoicing.sending import invoice_send_start
from solodesk.projects.models import Project
from solodesk.recurring import periods
from solodesk.recurring.models import (
    RecurringActivity,
    RecurringLine,
    RecurringProfile,
    RecurringRun,
)

logger = logging.getLogger(__name__)

RUN_TASK = "solodesk.recurring.tasks.recurring_run_task"
# A running run whose heartbeat (`updated_at`, set at the claim) is older than this lost
# its worker: creating one invoice takes well under a second, so two minutes is generous.
RUN_HEARTBEAT_TIMEOUT = dt.timedelta(seconds=120)
# How many profiles one sweep transaction handles, and how many periods per profile
# (a profile further behind is caught up by the next batch or sweep).
SWEEP_BATCH_SIZE = 100
PERIODS_PER_PROFILE = 60
REQUEUE_LIMIT = 500
PROFILE_FIELDS = (
    "name",
    "currency",
    "discount_type",
    "discount_value",
    "notes",
    "frequency",
    "day_of_month",
    "start_date",
    "end_date",
    "occurrences",
    "action",
    "bill_time",
)
SCHEDULE_FIELDS = ("frequency", "day_of_month", "start_date", "end_date", "occurrences")


# --- helpers ---------------------------------------------------------------------------------


def _today(workspace: Workspace) -> dt.date:
    return timezone.localdate(timezone=workspace.tzinfo)


def _activity(
    profile: RecurringProfile,
    user: User | None,
    action: str,
    message: str = "",
    invoice: Invoice | None = None,
) -> None:
    RecurringActivity.objects.create(
        profile=profile, actor=user, action=action, message=message[:500], invoice=invoice
    )


def _lock(profile: RecurringProfile) -> RecurringProfile:
    return (
        RecurringProfile.objects.select_for_update(of=("self",))
        .select_related("workspace", "client")
        .get(pk=profile.pk)
    )


def _clean_fields(profile: RecurringProfile, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown profile fields: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.name = " ".join(str(profile.name or "").split())
    if not profile.name:
        raise ApplicationError.for_field("name", "Give the profile a name, e.g. “Retainer”.")
    if len(profile.name) > 200:
        raise ApplicationError.for_field("name", "The name is longer than 200 characters.")
    profile.notes = str(profile.notes or "").strip()
    profile.currency = profile.currency or profile.client.currency
    if profile.currency not in CURRENCIES:
        raise ApplicationError.for_field("currency", "Choose a currency.")
    if profile.currency != profile.client.currency:
        raise ApplicationError.for_field(
            "currency",
            f"Invoices are in the client's currency ({profile.client.currency}); "
            "change the client's currency first.",
        )
    if profile.frequency not in RecurringProfile.Frequency.values:
        raise ApplicationError.for_field(
            "frequency", "Choose weekly, monthly, quarterly or yearly."
        )
    if profile.day_of_month is None:
        profile.day_of_month = 1
    if not (1 <= int(profile.day_of_month) <= 28 or profile.day_of_month == periods.LAST_DAY):
        raise ApplicationError.for_field(
            "day_of_month", "Choose a day from 1 to 28, or the last day of the month."
        )
    if profile.start_date is None:
        raise ApplicationError.for_field("start_date", "The start date is required.")
    if profile.end_date is not None and profile.end_date < profile.start_date:
        raise ApplicationError.for_field("end_date", "The end date is before the start date.")
    if profile.occurrences is not None and not 1 <= profile.occurrences <= 10000:
        raise ApplicationError.for_field(
            "occurrences", "The number of periods is between 1 and 10000."
        )
    if profile.action not in RecurringProfile.Action.values:
        raise ApplicationError.for_field("action", "Create a draft, or issue and send.")
    if profile.discount_type not in Invoice.DiscountType.values:
        raise ApplicationError.for_field("discount_type", "Choose no discount, percent or amount.")
    if profile.discount_type == Invoice.DiscountType.NONE:
        profile.discount_value = Decimal("0.00")
    value = invoicing.decimal_from_input(
        profile.discount_value if profile.discount_value is not None else "0",
        "discount_value",
        "The discount",
    )
    if value < 0 or value >= 10**12 or value != value.quantize(Decimal("0.01")):
        raise ApplicationError.for_field(
            "discount_value", "The discount is positive, with at most 2 decimals."
        )
    if profile.discount_type == Invoice.DiscountType.PERCENT and value > 100:
        raise ApplicationError.for_field(
            "discount_value", "A percentage discount is at most 100 %."
        )
    profile.discount_value = value


def _clean_projects(
    profile: RecurringProfile, projects: Iterable[Project] | None
) -> list[Project] | None:
    if projects is None:
        return None
    chosen = list(projects)
    for project in chosen:
        if project.workspace_id != profile.workspace_id or project.client_id != profile.client_id:
            raise ApplicationError.for_field("project_ids", "Project not found for this client.")
    return chosen


def _line_rows(profile: RecurringProfile, lines: Iterable[dict[str, Any]]) -> list[RecurringLine]:
    cleaned = invoicing.document_lines_clean(
        workspace=profile.workspace,
        currency=profile.currency,
        lines=lines,
        document="A recurring profile",
    )
    return [
        RecurringLine(
            profile=profile,
            position=position,
            description=data.description,
            quantity=data.quantity,
            unit=data.unit,
            unit_price=data.unit_price,
            tax_rate=data.tax_rate,
            total=line_total(
                quantity=data.quantity, unit_price=data.unit_price, currency=profile.currency
            ),
        )
        for position, data in enumerate(cleaned)
    ]


def _check_something_to_bill(profile: RecurringProfile, line_count: int) -> None:
    if not line_count and not profile.bill_time:
        raise ApplicationError.for_field(
            "lines", "Add at least one line, or bill the period's unbilled time."
        )


def _reset_schedule(profile: RecurringProfile) -> None:
    """Point the profile at its next period after a schedule change: the first period
    starting after the last one already run (or the first of all), never one that was
    billed already."""
    schedule = profile.schedule
    last_start = (
        RecurringRun.objects.filter(profile=profile)
        .order_by("-period_start")
        .values_list("period_start", flat=True)
        .first()
        if profile.pk
        else None
    )
    index = 0
    if last_start is not None:
        index = periods.next_index_on_or_after(
            schedule, from_index=0, day=last_start + dt.timedelta(days=1)
        )
    profile.next_period_index = index
    profile.next_period_start = periods.next_start(schedule, index)


# --- profiles --------------------------------------------------------------------------------


@transaction.atomic
def recurring_profile_create(
    *,
    workspace: Workspace,
    user: User,
    client: Client,
    name: str,
    start_date: dt.date,
    lines: Iterable[dict[str, Any]] = (),
    frequency: str = RecurringProfile.Frequency.MONTHLY,
    day_of_month: int = 1,
    end_date: dt.date | None = None,
    occurrences: int | None = None,
    action: str = RecurringProfile.Action.DRAFT,
    bill_time: bool = False,
    projects: Iterable[Project] = (),
    currency: str | None = None,
    discount_type: str = Invoice.DiscountType.NONE,
    discount_value: Decimal = Decimal("0"),
    notes: str = "",
) -> RecurringProfile:
    """A profile whose start date is in the past catches up: the next sweep creates the
    invoices of every period since then, each with its own dates."""
    if client.workspace_id != workspace.pk:
        raise ApplicationError.for_field("client_id", "Client not found.")
    profile = RecurringProfile(workspace=workspace, client=client, created_by=user)
    _clean_fields(
        profile,
        {
            "name": name,
            "currency": currency or client.currency,
            "discount_type": discount_type,
            "discount_value": discount_value,
            "notes": notes,
            "frequency": frequency,
            "day_of_month": day_of_month,
            "start_date": start_date,
            "end_date": end_date,
            "occurrences": occurrences,
            "action": action,
            "bill_time": bill_time,
        },
    )
    chosen = _clean_projects(profile, projects) or []
    rows = _line_rows(profile, lines)
    _check_something_to_bill(profile, len(rows))
    _reset_schedule(profile)
    profile.save()
    RecurringLine.objects.bulk_create(rows)
    if chosen:
        profile.projects.set(chosen)
    _activity(profile, user, RecurringActivity.Action.CREATED, f"Created: {_describe(profile)}.")
    return profile


def _describe(profile: RecurringProfile) -> str:
    if profile.frequency == RecurringProfile.Frequency.WEEKLY:
        text = f"weekly from {profile.start_date.isoformat()}"
    else:
        text = (
            f"{profile.get_frequency_display().lower()} on day {profile.day_of_month_label}, "
            f"from {profile.start_date.isoformat()}"
        )
    if profile.end_date:
        text += f" until {profile.end_date.isoformat()}"
    if profile.occurrences:
        text += f", {profile.occurrences} periods"
    return f"{text}; {profile.get_action_display().lower()}"


@transaction.atomic
def recurring_profile_update(
    *,
    profile: RecurringProfile,
    user: User,
    lines: Iterable[dict[str, Any]] | None = None,
    projects: Iterable[Project] | None = None,
    **fields: Any,
) -> RecurringProfile:
    """`lines`, when given, replace all the lines. A schedule change applies from the next
    period that has not been run; periods already run are never billed again."""
    locked = _lock(profile)
    before = {name: getattr(locked, name) for name in SCHEDULE_FIELDS}
    _clean_fields(locked, fields)
    chosen = _clean_projects(locked, projects)
    rows = _line_rows(locked, lines) if lines is not None else None
    line_count = len(rows) if rows is not None else locked.lines.count()
    _check_something_to_bill(locked, line_count)
    if any(getattr(locked, name) != value for name, value in before.items()):
        _reset_schedule(locked)
    locked.save()
    if rows is not None:
        RecurringLine.objects.filter(profile=locked).delete()
        RecurringLine.objects.bulk_create(rows)
    if chosen is not None:
        locked.projects.set(chosen)
    _activity(locked, user, RecurringActivity.Action.UPDATED, f"Updated: {_describe(locked)}.")
    return locked


@transaction.atomic
def recurring_profile_delete(*, profile: RecurringProfile, user: User) -> None:
    """Deleting stops the schedule and removes its runs and log; the invoices it created
    stay (their activity still names the profile)."""
    locked = _lock(profile)
    locked.delete()


@transaction.atomic
def recurring_profile_pause(*, profile: RecurringProfile, user: User) -> RecurringProfile:
    locked = _lock(profile)
    if locked.is_paused:
        raise ApplicationError("This profile is already paused.")
    locked.is_paused = True
    locked.paused_at = timezone.now()
    locked.save(update_fields=["is_paused", "paused_at", "updated_at"])
    _activity(
        locked,
        user,
        RecurringActivity.Action.PAUSED,
        "Paused: no invoices until it is resumed; periods starting meanwhile are skipped.",
    )
    return locked


@transaction.atomic
def recurring_profile_resume(*, profile: RecurringProfile, user: User) -> RecurringProfile:
    """Periods that started while the profile was paused are skipped, not billed: the next
    period becomes the first one starting today or later."""
    locked = _lock(profile)
    if not locked.is_paused:
        raise ApplicationError("This profile is not paused.")
    schedule = locked.schedule
    today = _today(locked.workspace)
    skipped_from = locked.next_period_index
    index = periods.next_index_on_or_after(schedule, from_index=skipped_from, day=today)
    skipped = [
        periods.period(schedule, i)
        for i in range(skipped_from, index)
        if periods.period_exists(schedule, i)
    ]
    locked.is_paused = False
    locked.paused_at = None
    locked.next_period_index = index
    locked.next_period_start = periods.next_start(schedule, index)
    locked.save()
    message = "Resumed."
    if skipped:
        message += (
            f" {len(skipped)} period{'s' if len(skipped) != 1 else ''} skipped while paused "
            f"({skipped[0].start.isoformat()} – {skipped[-1].end.isoformat()})."
        )
    if locked.next_period_start:
        message += f" Next invoice on {locked.next_period_start.isoformat()}."
    _activity(locked, user, RecurringActivity.Action.RESUMED, message)
    return locked


# --- the sweeper -----------------------------------------------------------------------------


def _send_runs(run_ids: Sequence[int]) -> None:
    """Hand runs to the broker. A broker outage is not fatal: the runs are committed and
    the next sweep re-sends the ones that stayed queued (see `recurring_runs_requeue_stale`)."""
    sent = tasks_send(RUN_TASK, run_ids, label="recurring run {id}")
    if sent:
        RecurringRun.objects.filter(pk__in=sent, status=RecurringRun.Status.QUEUED).update(
            enqueued_at=timezone.now()
        )


def recurring_runs_schedule(
    *, batch_size: int = SWEEP_BATCH_SIZE, periods_per_profile: int = PERIODS_PER_PROFILE
) -> int:
    """One sweep batch: insert a run for every due period of up to `batch_size` active
    profiles (oldest due first) and hand them to the broker after commit. Returns the
    number of profiles handled; the caller repeats while a batch comes back full. A
    constant number of queries per batch, whatever the number of periods."""
    now = timezone.now()
    # Every time zone's "today" is at most one day after UTC's.
    horizon = now.date() + dt.timedelta(days=1)
    with transaction.atomic():
        profiles = list(
            RecurringProfile.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(is_paused=False, next_period_start__lte=horizon)
            .select_related("workspace")
            .order_by("next_period_start", "pk")[:batch_size]
        )
        runs: list[RecurringRun] = []
        moved: list[RecurringProfile] = []
        for profile in profiles:
            schedule = profile.schedule
            due = periods.periods_due(
                schedule,
                from_index=profile.next_period_index,
                today=_today(profile.workspace),
                limit=periods_per_profile,
            )
            if not due:
                continue
            runs += [
                RecurringRun(
                    profile=profile,
                    period_index=item.index,
                    period_start=item.start,
                    period_end=item.end,
                    created_at=now,
                    updated_at=now,
                )
                for item in due
            ]
            profile.next_period_index = due[-1].index + 1
            profile.next_period_start = periods.next_start(schedule, profile.next_period_index)
            profile.updated_at = now
            moved.append(profile)
        if runs:
            # The unique (profile, period_start) constraint is the last guard: a run that
            # exists already is silently left as it is.
            RecurringRun.objects.bulk_create(runs, ignore_conflicts=True)
            RecurringProfile.objects.bulk_update(
                moved, ["next_period_index", "next_period_start", "updated_at"]
            )
            run_ids = list(
                RecurringRun.objects.filter(
                    profile__in=moved, status=RecurringRun.Status.QUEUED, enqueued_at=None
                )
                .order_by("period_start", "pk")
                .values_list("pk", flat=True)
            )
            transaction.on_commit(lambda: _send_runs(run_ids))
    return len(profiles)


def recurring_runs_requeue_stale(*, older_than: dt.timedelta, limit: int = REQUEUE_LIMIT) -> int:
    """Send again the runs nobody picked up (broker down when they were created, message
    lost) and the running runs whose worker died. Duplicates are harmless: the claim lets
    one runner through."""
    now = timezone.now()
    stale = Q(status=RecurringRun.Status.QUEUED) & (
        Q(enqueued_at__isnull=True, created_at__lt=now - older_than)
        | Q(enqueued_at__lt=now - older_than)
    )
    stale |= Q(status=RecurringRun.Status.RUNNING, updated_at__lt=now - RUN_HEARTBEAT_TIMEOUT)
    run_ids = list(
        RecurringRun.objects.filter(stale)
        .order_by("period_start", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if run_ids:
        _send_runs(run_ids)
    return len(run_ids)


def recurring_sweep(*, max_batches: int = 20) -> int:
    """What beat runs every five minutes: schedule due periods batch by batch, then re-send
    stale runs. Returns the number of profiles handled."""
    handled = 0
    for _ in range(max_batches):
        count = recurring_runs_schedule()
        handled += count
        if count < SWEEP_BATCH_SIZE:
            break
    recurring_runs_requeue_stale(
        older_than=dt.timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS)
    )
    return handled


# --- running one period ----------------------------------------------------------------------


def recurring_run_claim(*, run_id: int) -> bool:
    """queued → running, or take over a running run whose worker died (stale heartbeat).
    False when the run is finished or a live runner has it."""
    now = timezone.now()
    claimable = Q(status=RecurringRun.Status.QUEUED) | Q(
        status=RecurringRun.Status.RUNNING, updated_at__lt=now - RUN_HEARTBEAT_TIMEOUT
    )
    claimed = RecurringRun.objects.filter(claimable, pk=run_id).update(
        status=RecurringRun.Status.RUNNING,
        started_at=now,
        updated_at=now,
        attempts=F("attempts") + 1,
    )
    return bool(claimed)


def _actor(profile: RecurringProfile) -> User:
    """Who the invoice's activity and the send job belong to: the profile's author while
    they are a member, else the workspace's owner."""
    memberships = Membership.objects.filter(workspace_id=profile.workspace_id).select_related(
        "user"
    )
    if profile.created_by_id is not None:
        mine = memberships.filter(user_id=profile.created_by_id).first()
        if mine is not None:
            return mine.user
    owner = workspace_owner_get(workspace_id=profile.workspace_id)
    if owner is None:
        raise ApplicationError("The workspace has no owner to create the invoice for.")
    return owner


def _line_description(template: str, label: str) -> str:
    """ "Retainer" → "Retainer — March 2026"; "{period}" is replaced where it stands."""
    if "{period}" in template:
        return template.replace("{period}", label)[:500]
    return f"{template} — {label}"[:500]


def _create_invoice(
    profile: RecurringProfile, run: RecurringRun, user: User
) -> tuple[Invoice | None, str]:
    """The period's invoice (None when there is nothing to bill) and what to log."""
    label = run.period_label
    if profile.currency != profile.client.currency:
        raise ApplicationError(
            f"The client's currency is now {profile.client.currency}, the profile's "
            f"{profile.currency}: edit the profile."
        )
    template = [
        {
            "description": _line_description(line.description, label),
            "quantity": line.quantity,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "tax_rate": line.tax_rate,
        }
        for line in profile.lines.all()
    ]
    notes = "\n\n".join(
        part
        for part in (
            profile.notes,
            f"Period: {run.period_start.isoformat()} – {run.period_end.isoformat()}.",
        )
        if part
    )
    header: dict[str, Any] = {
        "discount_type": profile.discount_type,
        "discount_value": profile.discount_value,
        "notes": notes,
    }
    invoice: Invoice | None = None
    if profile.bill_time:
        # Time is billed once it has been tracked: the period that just ended.
        window = periods.period(profile.schedule, run.period_index - 1)
        project_ids = [project.public_id for project in profile.projects.all()]
        try:
            invoice = invoicing.invoice_create_from_time(
                workspace=profile.workspace,
                user=user,
                client=profile.client,
                date_from=window.start,
                date_to=window.end,
                project_public_ids=project_ids or None,
            )
        except ApplicationError as error:
            if error.message != invoicing.NO_UNBILLED_TIME_MESSAGE:
                raise
        if invoice is not None:
            time_lines = [
                {
                    "public_id": line.public_id,
                    "project": line.project,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit": line.unit,
                    "unit_price": line.unit_price,
                    "tax_rate": line.tax_rate,
                }
                for line in invoice.lines.select_related("project")
            ]
            invoice = invoicing.invoice_update_draft(
                invoice=invoice, user=user, lines=template + time_lines, **header
            )
    if invoice is None:
        if not template:
            return None, f"{label}: nothing to bill (no unbilled time)."
        invoice = invoicing.invoice_create_draft(
            workspace=profile.workspace,
            user=user,
            client=profile.client,
            lines=template,
            **header,
        )
    InvoiceActivity.objects.create(
        invoice=invoice,
        actor=None,
        action=InvoiceActivity.Action.RECURRING_CREATED,
        message=f"Created by the recurring profile “{profile.name}” for {label} "
        f"({run.period_start.isoformat()} – {run.period_end.isoformat()})."[:500],
    )
    if profile.action == RecurringProfile.Action.ISSUE_AND_SEND:
        invoicing.invoice_issue(invoice=invoice, user=user, issue_date=_today(profile.workspace))
        delivery = invoice_send_start(invoice=invoice, user=user)
        return invoice, f"{label}: invoice {invoice.number} issued and sent to {delivery.to_email}."
    return invoice, f"{label}: draft invoice created."


def _finish_failed(run_id: int, error: str) -> None:
    now = timezone.now()
    updated = RecurringRun.objects.filter(pk=run_id, status=RecurringRun.Status.RUNNING).update(
        status=RecurringRun.Status.FAILED, error=error[:2000], finished_at=now, updated_at=now
    )
    if updated:
        run = RecurringRun.objects.select_related("profile").get(pk=run_id)
        _activity(
            run.profile, None, RecurringActivity.Action.RUN_FAILED, f"{run.period_label}: {error}"
        )


def _run_claimed(run_id: int) -> RecurringRun | None:
    """Create the claimed run's invoice and mark it succeeded, in one transaction."""
    with transaction.atomic():
        run = RecurringRun.objects.filter(pk=run_id).only("profile_id").first()
        if run is None:
            return None
        # Profile first, then run: every writer takes them in this order. The profile lock
        # also makes the runs of one profile (and an edit of it) take turns.
        profile = (
            RecurringProfile.objects.select_for_update(of=("self",))
            .select_related("workspace", "client")
            .get(pk=run.profile_id)
        )
        run = RecurringRun.objects.select_for_update().get(pk=run_id)
        if run.status != RecurringRun.Status.RUNNING or run.invoice_id is not None:
            return run  # another runner finished it while this one waited
        invoice, message = _create_invoice(profile, run, _actor(profile))
        now = timezone.now()
        RecurringRun.objects.filter(pk=run.pk).update(
            status=RecurringRun.Status.SUCCEEDED,
            invoice=invoice,
            error="",
            finished_at=now,
            updated_at=now,
        )
        _activity(profile, None, RecurringActivity.Action.RUN_SUCCEEDED, message, invoice=invoice)
        run.refresh_from_db()
        return run


def recurring_run_execute(*, run_id: int) -> RecurringRun | None:
    """Claim the run and create its invoice; None when there was nothing to claim.

    Earlier queued periods of the same profile go first, so catch-up invoices are created
    in period order even when their tasks arrive out of order."""
    run = RecurringRun.objects.filter(pk=run_id).values("profile_id", "period_start").first()
    if run is None:
        return None
    earlier = list(
        RecurringRun.objects.filter(
            profile_id=run["profile_id"],
            status=RecurringRun.Status.QUEUED,
            period_start__lt=run["period_start"],
        )
        .order_by("period_start")
        .values_list("pk", flat=True)
    )
    result = None
    for pk in [*earlier, run_id]:
        if not recurring_run_claim(run_id=pk):
            continue
        try:
            done = _run_claimed(pk)
        except ApplicationError as error:
            _finish_failed(pk, error.message)
            done = None
        except Exception:
            logger.exception("Recurring run %s failed", pk)
            _finish_failed(pk, "The invoice could not be created. Try again.")
            raise
        if pk == run_id:
            result = done
    return result


@transaction.atomic
def recurring_run_retry(*, run: RecurringRun, user: User) -> RecurringRun:
    """A failed run goes back to the queue (after the person fixed its cause)."""
    updated = RecurringRun.objects.filter(pk=run.pk, status=RecurringRun.Status.FAILED).update(
        status=RecurringRun.Status.QUEUED, error="", enqueued_at=None, updated_at=timezone.now()
    )
    if not updated:
        raise ApplicationError("Only a failed run can be tried again.")
    run_id = run.pk
    transaction.on_commit(lambda: _send_runs([run_id]))
    run.refresh_from_db()
    return run
