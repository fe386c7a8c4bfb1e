"""Time entries and the running timer in the API: thin adapters over the timetracking
selectors and services."""

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Body, Field, Query, Router, Schema
from ninja.errors import ValidationError as NinjaValidationError
from ninja.responses import Status
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import to_json

from solodesk.accounts.models import Workspace
from solodesk.core.api import (
    CappedCountOut,
    CappedLimitOffsetPagination,
    IsoDatetime,
    omittable,
    referenced,
)
from solodesk.projects.models import Project
from solodesk.projects.selectors import project_get
from solodesk.timetracking.models import MAX_ENTRY_DURATION, RunningTimer, TimeEntry, iso_utc
from solodesk.timetracking.selectors import (
    TimeEntryFilters,
    time_entry_get,
    time_entry_list_rows,
    timer_get,
)
from solodesk.timetracking.services import (
    MAX_TAGS,
    span_from_date_and_duration,
    time_entries_export_start,
    time_entry_create,
    time_entry_delete,
    time_entry_update,
    timer_discard,
    timer_start,
    timer_stop,
)

entries_router = Router(tags=["time entries"])
timer_router = Router(tags=["timer"])

MAX_SECONDS = int(MAX_ENTRY_DURATION.total_seconds())
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
TagName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


def _project_for_body(workspace: Workspace, project_id: UUID) -> Project:
    return referenced(
        project_get,
        field="project_id",
        message="Project not found.",
        workspace=workspace,
        public_id=project_id,
    )


# --- Schemas ------------------------------------------------------------------------------


class _TimeEntryFields(BaseModel):
    """The fields of a time entry in JSON. A plain pydantic model: pydantic reads them
    from an object's attributes itself (`from_attributes`), without ninja's per-field
    getter. (The list and the create write the same JSON without it: the database writes
    the list's, `TimeEntryRows.json_page`; `_time_entry_json`.)"""

    model_config = ConfigDict(from_attributes=True)

    # In the order the list writes them (`TimeEntryRows.json_page`): the entry's own
    # fields as stored (`TimeEntry.own_json`), then the rest.
    id: UUID
    started_at: IsoDatetime
    ended_at: IsoDatetime
    duration_seconds: int
    description: str
    billable: bool
    created_at: IsoDatetime
    updated_at: IsoDatetime
    tags: list[str]
    invoiced: bool = Field(description="Billed on an invoice: it can no longer change.")
    project_id: UUID
    project_name: str
    client_id: UUID
    client_name: str
    user_email: str


# The list's items: the same JSON as `TimeEntryOut`. It documents the list; the handler
# has the database write the items (`TimeEntryRows.json_page`). (A comment, not a docstring: a
# docstring would become the schema's description in the API docs.)
class TimeEntryListItemOut(_TimeEntryFields):
    pass


class TimeEntryOut(Schema, _TimeEntryFields):
    @staticmethod
    def resolve_id(entry: TimeEntry) -> UUID:
        return entry.public_id

    @staticmethod
    def resolve_project_id(entry: TimeEntry) -> UUID:
        return entry.project.public_id

    @staticmethod
    def resolve_project_name(entry: TimeEntry) -> str:
        return entry.project.name

    @staticmethod
    def resolve_client_id(entry: TimeEntry) -> UUID:
        return entry.project.client.public_id

    @staticmethod
    def resolve_client_name(entry: TimeEntry) -> str:
        return entry.project.client.name

    @staticmethod
    def resolve_user_email(entry: TimeEntry) -> str:
        return entry.user.email

    @staticmethod
    def resolve_billable(entry: TimeEntry) -> bool:
        return entry.is_billable

    @staticmethod
    def resolve_invoiced(entry: TimeEntry) -> bool:
        return entry.is_invoiced

    @staticmethod
    def resolve_tags(entry: TimeEntry) -> list[str]:
        return sorted(tag.name for tag in entry.tags.all())  # as stored (`tags_json`)


class TimeEntryFilterIn(Schema):
    """The same filters for the list (query string) and the export (body). Dates are whole
    days in the workspace's time zone, both ends included."""

    client_id: UUID | None = None
    project_id: UUID | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    billable: bool | None = None
    unbilled: Annotated[bool, Field(description="Billable and not yet on an invoice.")] = False

    @field_validator("date_to")
    @classmethod
    def _not_before_date_from(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        date_from = info.data.get("date_from")
        if value and date_from and value < date_from:
            raise ValueError("date_to is before date_from.")
        return value

    def to_filters(self) -> TimeEntryFilters:
        return TimeEntryFilters(**self.dict())


class TimeEntryIn(Schema):
    """Either `started_at` and `ended_at`, or `date` and `duration_seconds` (starting at
    `start_time`, 09:00 by default, in the workspace's time zone)."""

    project_id: UUID
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    date: dt.date | None = None
    duration_seconds: int | None = Field(None, gt=0, le=MAX_SECONDS)
    start_time: dt.time | None = None
    description: Description = ""
    billable: bool | None = Field(None, description="Default: whether the project is billable.")
    tags: list[TagName] = Field(default_factory=list, max_length=MAX_TAGS)


class TimeEntryPatch(Schema):
    """Only the fields sent change."""

    project_id: UUID = omittable()
    started_at: AwareDatetime = omittable()
    ended_at: AwareDatetime = omittable()
    description: Description = omittable()
    billable: bool = omittable()
    tags: list[TagName] = omittable(max_length=MAX_TAGS)


class ExportStartedOut(Schema):
    job_id: UUID
    job_url: str = Field(description="Poll it for progress and the result's URL.")


class TimerOut(Schema):
    id: UUID
    project_id: UUID
    project_name: str
    client_id: UUID
    client_name: str
    description: str
    started_at: IsoDatetime
    elapsed_seconds: int

    @staticmethod
    def resolve_id(timer: RunningTimer) -> UUID:
        return timer.public_id

    @staticmethod
    def resolve_project_id(timer: RunningTimer) -> UUID:
        return timer.project.public_id

    @staticmethod
    def resolve_project_name(timer: RunningTimer) -> str:
        return timer.project.name

    @staticmethod
    def resolve_client_id(timer: RunningTimer) -> UUID:
        return timer.project.client.public_id

    @staticmethod
    def resolve_client_name(timer: RunningTimer) -> str:
        return timer.project.client.name

    @staticmethod
    def resolve_elapsed_seconds(timer: RunningTimer) -> int:
        return max(0, int((timezone.now() - timer.started_at).total_seconds()))


class TimerStartIn(Schema):
    project_id: UUID
    description: Description = ""
    switch: bool = Field(False, description="Stop a running timer first (its entry is kept).")


class TimerStartOut(TimerOut):
    stopped_entry: TimeEntryOut | None = Field(
        None, description="The entry of the timer this start switched away from."
    )


class TimerStopIn(Schema):
    ended_at: AwareDatetime | None = Field(None, description="Default: now.")


# --- Time entries -------------------------------------------------------------------------


def _span_from_payload(
    workspace: Workspace, payload: TimeEntryIn
) -> tuple[dt.datetime, dt.datetime]:
    """Pick the entry's start and end from whichever of the two ways the body gives them;
    anything else is a 422 naming the missing or conflicting fields."""
    by_times = payload.started_at is not None or payload.ended_at is not None
    by_duration = any(
        value is not None for value in (payload.date, payload.duration_seconds, payload.start_time)
    )
    errors: dict[str, str] = {}
    if by_times and by_duration:
        for field in ("date", "duration_seconds", "start_time"):
            if getattr(payload, field) is not None:
                errors[field] = (
                    "Give started_at and ended_at, or date and duration_seconds: not both."
                )
    elif by_times:
        for field in ("started_at", "ended_at"):
            if getattr(payload, field) is None:
                errors[field] = "Required with started_at or ended_at."
    elif by_duration:
        for field in ("date", "duration_seconds"):
            if getattr(payload, field) is None:
                errors[field] = "Required with date, duration_seconds or start_time."
    else:
        message = "Give started_at and ended_at, or date and duration_seconds."
        errors = {"started_at": message, "date": message}
    if errors:
        raise NinjaValidationError(
            [{"loc": ("body", "payload", field), "msg": msg} for field, msg in errors.items()]
        )
    if by_times:
        return payload.started_at, payload.ended_at  # type: ignore[return-value]
    return span_from_date_and_duration(
        workspace=workspace,
        date=payload.date,  # type: ignore[arg-type]
        duration=dt.timedelta(seconds=payload.duration_seconds),  # type: ignore[arg-type]
        start_time=payload.start_time,
    )


# A month of a busy workspace in one request: other lists stop at 200 (settings), this one
# at 2,000 rows written by the database (~1 MB of JSON), still bounded (Harvest's API v2
# allows up to 2,000 per page).
TIME_ENTRY_PAGE_MAX = 2000


class TimeEntryListIn(TimeEntryFilterIn):
    """The filters and the page (after them in the query string, as ninja's `@paginate`
    puts them)."""

    limit: int = Field(50, ge=1, le=TIME_ENTRY_PAGE_MAX)
    offset: int = Field(0, ge=0)

    def to_filters(self) -> TimeEntryFilters:
        return TimeEntryFilters(**self.dict(exclude={"limit", "offset"}))


# The list's body, as ninja's `@paginate` documents it (same name, same schema). (A comment,
# not a docstring: a docstring would become the schema's description in the API docs.)
class PagedTimeEntryListItemOut(CappedCountOut):
    items: list[TimeEntryListItemOut]


@entries_router.get("", response=PagedTimeEntryListItemOut, url_name="time_entry_list")
def list_time_entries(request: HttpRequest, query: Query[TimeEntryListIn]) -> HttpResponse:
    # The hot read of the API: the database writes each item's JSON (`TimeEntryRows.json_page`)
    # and the body is those bytes joined, not the schema above, which documents them (the
    # tests compare the items with the detail's JSON).
    rows = time_entry_list_rows(workspace=request.workspace, filters=query.to_filters())  # type: ignore[attr-defined]
    items, found = rows.json_page(slice(query.offset, query.offset + query.limit))
    if found < query.limit and (found or query.offset == 0):
        # The last page: no COUNT needed.
        counted = {"count": query.offset + found, "count_is_capped": False}
    else:
        # A COUNT that stops 1,000 rows past the offset, as the other long lists', or at
        # the end of the page when it is longer (up to 2,000): never below the rows sent.
        cap = CappedLimitOffsetPagination.count_cap
        counted = CappedLimitOffsetPagination.capped_count(
            rows.count_up_to, offset=query.offset + max(0, query.limit - cap)
        )
    return HttpResponse(
        b'{"items":%b,"count":%d,"count_is_capped":%b}'
        % (items, counted["count"], b"true" if counted["count_is_capped"] else b"false"),
        content_type="application/json; charset=utf-8",
    )


@entries_router.post("", response={201: TimeEntryOut}, url_name="time_entry_create")
def create_time_entry(request: HttpRequest, payload: TimeEntryIn) -> HttpResponse:
    workspace = request.workspace  # type: ignore[attr-defined]
    started_at, ended_at = _span_from_payload(workspace, payload)
    entry = time_entry_create(
        workspace=workspace,
        user=request.user,  # type: ignore[arg-type]
        # Looked up by the service, with the workspace lock (one query for both): an
        # unknown project is the same 400 as `_project_for_body`'s.
        project=payload.project_id,
        started_at=started_at,
        ended_at=ended_at,
        description=payload.description,
        is_billable=payload.billable,
        tags=payload.tags,
    )
    # A new entry without tags has none: no query to read them back (bench/peer_timetagger.py).
    tags = sorted(tag.name for tag in entry.tags.all()) if payload.tags else []
    return HttpResponse(
        to_json(_time_entry_json(entry, tags=tags)),
        status=201,
        content_type="application/json; charset=utf-8",
    )


def _time_entry_json(entry: TimeEntry, *, tags: list[str]) -> dict[str, Any]:
    """`TimeEntryOut`'s JSON for an entry whose project and client are loaded, without the
    schema's validation (the create's response; its tests compare it with the detail)."""
    project = entry.project
    return {
        "id": str(entry.public_id),
        "started_at": iso_utc(entry.started_at),
        "ended_at": iso_utc(entry.ended_at),
        "duration_seconds": entry.duration_seconds,
        "description": entry.description,
        "billable": entry.is_billable,
        "created_at": iso_utc(entry.created_at),
        "updated_at": iso_utc(entry.updated_at),
        "tags": tags,
        "invoiced": entry.is_invoiced,
        "project_id": str(project.public_id),
        "project_name": project.name,
        "client_id": str(project.client.public_id),
        "client_name": project.client.name,
        "user_email": entry.user.email,
    }


@entries_router.post("/export", response={202: ExportStartedOut}, url_name="time_entry_export")
def export_time_entries(
    request: HttpRequest, payload: Body[TimeEntryFilterIn | None] = None
) -> Status[dict]:
    """Start a CSV export of the filtered entries (all of them without a body); poll the
    job for its progress and result."""
    filters = (payload or TimeEntryFilterIn()).to_filters()
    job = time_entries_export_start(
        workspace=request.workspace,  # type: ignore[attr-defined]
        user=request.user,  # type: ignore[arg-type]
        filters_params=filters.as_params(),
    )
    job_url = reverse("api-v1:job_detail", kwargs={"job_id": job.public_id})
    return Status(202, {"job_id": job.public_id, "job_url": job_url})


@entries_router.get("/{uuid:entry_id}", response=TimeEntryOut, url_name="time_entry_detail")
def get_time_entry(request: HttpRequest, entry_id: UUID) -> TimeEntry:
    return time_entry_get(workspace=request.workspace, public_id=entry_id)  # type: ignore[attr-defined]


@entries_router.patch("/{uuid:entry_id}", response=TimeEntryOut)
def update_time_entry(request: HttpRequest, entry_id: UUID, payload: TimeEntryPatch) -> TimeEntry:
    workspace = request.workspace  # type: ignore[attr-defined]
    entry = time_entry_get(workspace=workspace, public_id=entry_id)
    fields: dict[str, Any] = payload.dict(exclude_unset=True)
    if "project_id" in fields:
        fields["project"] = fields.pop("project_id")  # looked up by the service, locked
    if "billable" in fields:
        fields["is_billable"] = fields.pop("billable")
    return time_entry_update(entry=entry, **fields)


@entries_router.delete("/{uuid:entry_id}", response={204: None})
def delete_time_entry(request: HttpRequest, entry_id: UUID) -> Status[None]:
    entry = time_entry_get(workspace=request.workspace, public_id=entry_id)  # type: ignore[attr-defined]
    time_entry_delete(entry=entry)
    return Status(204, None)


# --- The running timer --------------------------------------------------------------------


@timer_router.get("", response=TimerOut | None, url_name="timer")
def get_timer(request: HttpRequest) -> RunningTimer | None:
    # No query of its own: authentication loaded the user with the running timer.
    return timer_get(user=request.user)  # type: ignore[arg-type]


@timer_router.post("/start", response={201: TimerStartOut}, url_name="timer_start")
def start_timer(request: HttpRequest, payload: TimerStartIn) -> Status[TimerStartOut]:
    workspace = request.workspace  # type: ignore[attr-defined]
    timer, stopped_entry = timer_start(
        workspace=workspace,
        user=request.user,  # type: ignore[arg-type]
        project=_project_for_body(workspace, payload.project_id),
        description=payload.description,
        switch=payload.switch,
    )
    out = TimerStartOut.from_orm(timer)
    if stopped_entry is not None:
        out.stopped_entry = TimeEntryOut.from_orm(stopped_entry)
    return Status(201, out)


@timer_router.post("/stop", response=TimeEntryOut, url_name="timer_stop")
def stop_timer(request: HttpRequest, payload: Body[TimerStopIn | None] = None) -> TimeEntry:
    ended_at = payload.ended_at if payload else None
    return timer_stop(user=request.user, ended_at=ended_at)  # type: ignore[arg-type]


@timer_router.post("/discard", response={204: None}, url_name="timer_discard")
def discard_timer(request: HttpRequest) -> Status[None]:
    timer_discard(user=request.user)  # type: ignore[arg-type]
    return Status(204, None)
