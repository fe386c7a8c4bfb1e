from __future__ import annotations

import secrets
import string
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from solodesk.accounts.models import ApiToken, Membership, User, Workspace, token_digest
from solodesk.accounts.selectors import workspace_owner_get
from solodesk.core.exceptions import ApplicationError
from solodesk.core.models import Job
from solodesk.core.services import job_complete, job_create

TOKEN_PREFIX = "sd_"  # noqa: S105 - a prefix, not a secret
# Writing last_used_at on every request would turn each API read into a write; once a
# minute is precise enough to tell which tokens are in use.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)

WORKSPACE_FIELDS = (
    "name",
    "address",
    "tax_id",
    "default_currency",
    "time_zone",
    "locale",
    "payment_terms_days",
    "payment_details",
    "invoice_number_format",
    "credit_note_number_format",
    "time_rounding_mode",
    "time_rounding_minutes",
    "time_rounding_scope",
)
NUMBER_FORMAT_FIELDS = ("invoice_number_format", "credit_note_number_format")
NUMBER_MAX_LENGTH = 40  # Invoice.number


def number_format_error(number_format: str) -> str | None:
    """Why a document number format is unusable, or None: it must contain {seq} (so every
    number differs), may use {year}, and must give a number of at most 40 characters. The
    same str.format call as invoicing's numbering, tried with seq=1 and year=2026."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(number_format) if name}
        example = number_format.format(seq=1, year=2026)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as error:
        return (
            f"This format does not work ({error}): use {{year}} and {{seq}}, "
            "e.g. {year}-{seq:04d}."
        )
    if "seq" not in {name.split(".")[0].split("[")[0] for name in names}:
        return "The format must contain {seq}, the running number, e.g. {year}-{seq:04d}."
    if not example.strip():
        return "The format gives an empty number."
    if len(example) > NUMBER_MAX_LENGTH:
        return (
            f"The format gives a number longer than {NUMBER_MAX_LENGTH} characters "
            f"(“{example[:50]}…”)."
        )
    return None


@transaction.atomic
def workspace_create(*, owner: User, name: str, **fields: Any) -> Workspace:
    workspace = Workspace(name=name)
    for field, value in fields.items():
        if field not in WORKSPACE_FIELDS:
            raise ApplicationError(f"Unknown workspace field {field!r}")
        setattr(workspace, field, value)
    workspace.full_clean()
    workspace.save()
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.OWNER)
    return workspace


@transaction.atomic
def user_create(*, email: str, password: str, business_name: str, **workspace_fields: Any) -> User:
    """A new user always comes with a workspace they own."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ApplicationError.for_field("email", "A user with this e-mail address already exists.")
    user = User.objects.create_user(email=email, password=password)
    workspace_create(owner=user, name=business_name, **workspace_fields)
    return user


def workspace_update(*, workspace: Workspace, user: User | None = None, **fields: Any) -> Workspace:
    """Nothing is changed on `workspace` unless every value is valid. A new time zone
    commits with a `Job` that recounts the time totals in it (decision 0007), started by
    `user` (None: the workspace's owner) and handed to a worker after commit: at a million
    entries the recount is too slow for a request."""
    errors: dict[str, list[str]] = {}
    for field, value in fields.items():
        if field not in WORKSPACE_FIELDS:
            raise ApplicationError(f"Unknown workspace field {field!r}")
        if field in NUMBER_FORMAT_FIELDS:
            problem = number_format_error(str(value or ""))
            if problem:
                errors[field] = [problem]
    if errors:
        raise ApplicationError("Please correct the number formats.", errors=errors)
    time_zone_before = workspace.time_zone
    for field, value in fields.items():
        setattr(workspace, field, value)
    workspace.full_clean(validate_unique=False)
    # The refusals above come before the transaction; it takes no savepoint of its own.
    with transaction.atomic(savepoint=False):
        workspace.save()
        if workspace.time_zone != time_zone_before:
            time_totals_recount_start(
                workspace=workspace, user=user, time_zone_before=time_zone_before
            )
    return workspace


TIME_TOTALS_RECOUNT_TASK = "solodesk.accounts.tasks.time_totals_recount_task"


def time_totals_recount_start(
    *, workspace: Workspace, user: User | None, time_zone_before: str = ""
) -> Job | None:
    """Queue a recount of the workspace's daily and monthly time totals (`TimeEntryDay`,
    `TimeEntryMonth`, `TimeEntryWorkspaceMonth`) in its time zone, as a `Job` written in the caller's transaction and
    sent to the broker after commit. Until it has run, the totals count the older entries
    on the old zone's days (the settings page says so)."""
    if user is None:
        user = workspace_owner_get(workspace_id=workspace.pk)
    if user is None:
        # A workspace with nobody in it (never made by workspace_create): no one to own a
        # job or to wait for it; recount here.
        from solodesk.timetracking.services import time_entry_days_rebuild

        time_entry_days_rebuild(workspace=workspace)
        return None
    return job_create(
        workspace=workspace,
        owner=user,
        kind=Job.Kind.TIME_TOTALS_RECOUNT,
        task_name=TIME_TOTALS_RECOUNT_TASK,
        params={"time_zone_from": time_zone_before, "time_zone_to": workspace.time_zone},
    )


def time_totals_recount_run(*, job: Job) -> Job:
    """Recount the totals of a claimed job's workspace. Idempotent: the recount replaces the
    totals with the aggregate of the entries in the time zone committed last, read under the
    workspace lock that entry writes also take (decision 0007), so a second run, or a run
    for an older change, gives the same rows, and an entry written meanwhile is counted
    once."""
    from solodesk.timetracking.services import time_entry_days_rebuild

    time_entry_days_rebuild(workspace=job.workspace)
    return job_complete(job=job)


@dataclass(frozen=True)
class TotalsCheck:
    """One kind of derived totals of a workspace, before and after a recount."""

    name: str
    rows_before: int
    rows_after: int
    # Rows whose values the rebuild changed, added or removed: the larger of the rows only
    # before and the rows only after (as multisets of their values), so a row whose sums
    # were wrong counts once.
    differing: int
    # Rows the rebuild wrote: all of them (the totals), or only those that differed (the
    # entries' stored JSON).
    rewritten: int | None = None

    @property
    def rows_rewritten(self) -> int:
        return self.rows_after if self.rewritten is None else self.rewritten


def _derived_totals() -> list[tuple[str, type[Any]]]:
    """The five kinds of derived totals, by name, as `derived_totals_recount` reports them."""
    from solodesk.invoicing.models import RevenueMonth
    from solodesk.timetracking.models import (
        TimeEntryDay,
        TimeEntryMonth,
        TimeEntryWorkspaceMonth,
        UnbilledTime,
    )

    return [
        ("daily time totals", TimeEntryDay),
        ("monthly time totals", TimeEntryMonth),
        ("workspace monthly time", TimeEntryWorkspaceMonth),
        ("unbilled time", UnbilledTime),
        ("monthly revenue", RevenueMonth),
    ]


def derived_totals_recount(*, workspace: Workspace, dry_run: bool = False) -> list[TotalsCheck]:
    """Rebuild every total the services keep with the records they sum, from those records:
    the daily and monthly time totals (decisions 0004, 0005, 0012), the unbilled time per project
    (0008) and the monthly revenue (0006); and the entries' stored JSON (0010), where it
    differs from their columns and tags. The services keep them in the transaction of
    each write; a write made around them (SQL, `QuerySet.update`, a partial restore)
    leaves them out of step until this runs (`solodesk recount`). Each kind is compared
    before and after, and with `dry_run` the rebuild is rolled back: it only says what
    differs. One transaction; the time totals are rebuilt under the workspace lock that
    entry writes take (decision 0007). A write that commits a new project's or client's
    first row at the same moment can make the rebuild fail on that row's key: nothing is
    changed then, and a second run succeeds.

    The rebuild deletes and inserts every row of the workspace, which on PostgreSQL leaves
    as many dead rows and stale statistics; it does not vacuum them itself, so that it can
    run inside a caller's transaction (a test's, a job's): `solodesk recount` calls
    `derived_totals_vacuum` once it has committed."""
    from solodesk.invoicing.services import revenue_months_rebuild
    from solodesk.timetracking.models import TimeEntry
    from solodesk.timetracking.services import (
        time_entries_own_json_stale_rebuild,
        time_entry_days_rebuild,
        unbilled_time_rebuild,
    )

    kinds = _derived_totals()

    def state() -> list[Counter[tuple[Any, ...]]]:
        states = []
        for _name, model in kinds:
            fields = [
                field.attname
                for field in model._meta.concrete_fields
                if not field.primary_key and field.attname not in ("created_at", "updated_at")
            ]
            states.append(Counter(model.objects.filter(workspace=workspace).values_list(*fields)))
        return states

    with transaction.atomic():
        before = state()
        time_entry_days_rebuild(workspace=workspace)
        unbilled_time_rebuild(workspace=workspace)
        revenue_months_rebuild(workspace=workspace)
        after = state()
        # The entries' stored JSON (decision 0010): only the rows that differ are written.
        entries = TimeEntry.objects.filter(workspace=workspace)
        entry_count = entries.count()
        stale_json = time_entries_own_json_stale_rebuild(entries=entries)
        if dry_run:
            transaction.set_rollback(True)
    return [
        *(
            TotalsCheck(
                name=name,
                rows_before=sum(old.values()),
                rows_after=sum(new.values()),
                differing=max(sum((old - new).values()), sum((new - old).values())),
            )
            for (name, _model), old, new in zip(kinds, before, after, strict=True)
        ),
        TotalsCheck(
            name="entries' stored JSON",
            rows_before=entry_count,
            rows_after=entry_count,
            differing=stale_json,
            rewritten=stale_json,
        ),
    ]


def derived_totals_vacuum() -> bool:
    """`VACUUM (ANALYZE)` the five tables of derived totals after a committed rebuild, and
    say whether it ran. A rebuild deletes and re-inserts every row of a workspace: on a copy
    of the `large` seed up to ~213,000 dead rows and the old rows' statistics, and reads
    2-3x slower until autovacuum came round. A plain VACUUM takes no lock that holds up
    reads or writes of those tables.

    Only on PostgreSQL, and only in autocommit: VACUUM cannot run in a transaction block,
    so inside one (a caller's `atomic`, a test's) it is skipped rather than failing the
    caller; autovacuum still comes round. SQLite has no dead rows to reclaim (freed pages
    are reused) and its statistics, when `ANALYZE` was ever run (the seed runs it), are of
    row counts that a rebuild of the same records leaves as they were: nothing to do."""
    if connection.vendor != "postgresql":
        return False
    if connection.in_atomic_block or not connection.get_autocommit():
        return False
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table) for _name, model in _derived_totals()
    )
    with connection.cursor() as cursor:
        if getattr(connection, "pg_version", 0) >= 150000:  # PostgreSQL 15+
            # This connection's counts of the rows it just deleted and inserted are sent to
            # the statistics at most once a second: sent after the VACUUM, they would show
            # (n_dead_tup) and act on (an autovacuum and autoanalyze more) dead rows that
            # are gone. Sent now, when the statement ends.
            cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(f"VACUUM (ANALYZE) {tables}")
    return True


def api_token_create(*, workspace: Workspace, user: User, name: str) -> tuple[ApiToken, str]:
    """Return the token row and the raw token, which is never stored and shown only once."""
    name = name.strip()
    if not name:
        raise ApplicationError.for_field("name", "Give the token a name.")
    raw_token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        workspace=workspace,
        user=user,
        name=name[:100],
        prefix=raw_token[:10],
        digest=token_digest(raw_token),
    )
    return token, raw_token


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


def api_token_touch(*, token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
