"""Jobs in the API, and the JSON types every router shares.

A job is visible only to the user who started it (`job_get` scopes by owner): anyone
else, a member of the same workspace included, gets the same 404 as for a job that does
not exist.
"""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar
from uuid import UUID

from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination
from ninja.responses import Status
from pydantic import PlainSerializer, WithJsonSchema

from solodesk.core.exceptions import ApplicationError
from solodesk.core.models import Job
from solodesk.core.selectors import job_get
from solodesk.core.services import system_health_check

# --- Shared JSON types ----------------------------------------------------------------
# Amounts leave as strings with exactly two decimals ("95.00"), never as floats, whether
# the value came from the database or was just typed in by the caller.
DecimalString = Annotated[
    Decimal,
    PlainSerializer(lambda value: str(value.quantize(Decimal("0.01"))), return_type=str),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["95.00"]}),
]
# In UTC with an explicit offset ("+00:00"), never a bare "Z" or a naive time, whether
# the value came from the database or was just sent in another offset.
IsoDatetime = Annotated[
    dt.datetime,
    PlainSerializer(lambda value: value.astimezone(dt.UTC).isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


T = TypeVar("T")


def omittable(**kwargs: Any) -> Any:
    """The default of a PATCH field that may be left out but not sent as null: the type
    stays non-nullable, so an explicit null is a 422 naming the field, while pydantic does
    not validate the default. (Typed `Any` so the checker accepts it for any field type.)"""
    return Field(None, **kwargs)


def referenced(getter: Callable[..., T], *, field: str, message: str, **lookup: Any) -> T:
    """Load an object named in a request body (`client_id`, `project_id`) through its
    workspace-scoped selector. Unlike an id in the URL, a bad reference is an error in
    the body, so it is a 400 that names the field, with the same words whether the object
    does not exist or belongs to another workspace."""
    try:
        return getter(**lookup)
    except Http404:
        raise ApplicationError.for_field(field, message) from None


# --- Pagination ---------------------------------------------------------------------------
# An exact COUNT(*) of 60,000 invoices costs more than the page itself (issue 6), on every
# call. The big lists count no further than `count_cap` rows past the page's offset: the
# invoice list page's CappedPaginator, for the API.


class CappedCountOut(Schema):
    """The count of a long list, as every capped list says it."""

    count: int = Field(
        description="How many rows the filters match; when `count_is_capped`, a lower "
        "bound: there are more than `count`."
    )
    count_is_capped: bool = Field(
        description="The list counts at most 1,000 rows past `offset`: true when there "
        "are more (ask for a later `offset` to count further)."
    )


class CappedLimitOffsetPagination(LimitOffsetPagination):
    """`limit`/`offset` pagination whose `count` is exact up to `offset + count_cap` rows.
    Past that, `count` is `offset + count_cap` and `count_is_capped` is true: there are
    more rows than `count`; asking for a later offset counts further (from an offset near
    the end, exact again). One `SELECT COUNT(*) FROM (… LIMIT n)` without ORDER BY, which
    stops after n rows, whatever the size of the list."""

    count_cap = 1000

    class Output(CappedCountOut):
        items: list[Any]

    @classmethod
    def capped_count(cls, count_up_to: Callable[[int], int], *, offset: int) -> dict[str, Any]:
        """`count` and `count_is_capped` from `count_up_to(stop)`, a count of the list's
        rows that stops at `stop` (the time-entry list, which pages its own rows, counts
        the same way)."""
        stop = offset + cls.count_cap + 1
        count = count_up_to(stop)
        if count < stop:
            return {"count": count, "count_is_capped": False}
        return {"count": stop - 1, "count_is_capped": True}

    def _capped_count(self, queryset: QuerySet[Any], offset: int) -> dict[str, Any]:
        return self.capped_count(lambda stop: queryset.order_by()[:stop].count(), offset=offset)

    def paginate_queryset(
        self,
        queryset: QuerySet[Any],
        pagination: LimitOffsetPagination.Input,
        request: HttpRequest,
        **params: Any,
    ) -> Any:
        offset = pagination.offset
        limit: int = min(pagination.limit, self.max_limit)
        return {
            self.items_attribute: self._page(queryset, offset, limit),
            **self._capped_count(queryset, offset),
        }

    @staticmethod
    def _page(queryset: QuerySet[Any], offset: int, limit: int) -> QuerySet[Any]:
        """Past the first page, the page's ids come first (from the list's index, however
        far the offset), then their rows, in the list's order, in the same query: a deep
        page does not read every row it skips (the invoice list page does the same)."""
        if offset == 0:
            return queryset[:limit]
        return queryset.filter(pk__in=queryset.values("pk")[offset : offset + limit])

    async def apaginate_queryset(
        self,
        queryset: QuerySet[Any],
        pagination: LimitOffsetPagination.Input,
        request: HttpRequest,
        **params: Any,
    ) -> Any:
        offset = pagination.offset
        limit: int = min(pagination.limit, self.max_limit)
        stop = offset + self.count_cap + 1
        count = await queryset.order_by()[:stop].acount()
        return {
            self.items_attribute: [row async for row in queryset[offset : offset + limit]],
            "count": min(count, stop - 1),
            "count_is_capped": count >= stop,
        }


# --- Jobs ---------------------------------------------------------------------------------

router = Router(tags=["jobs"])


class JobOut(Schema):
    id: UUID
    kind: str
    status: str
    progress: int
    result_url: str | None
    error: str | None
    created_at: IsoDatetime
    finished_at: IsoDatetime | None

    @staticmethod
    def resolve_id(job: Job) -> UUID:
        return job.public_id

    @staticmethod
    def resolve_result_url(job: Job) -> str | None:
        if job.status != Job.Status.SUCCEEDED or not job.result_file:
            return None
        return reverse("api-v1:job_result", kwargs={"job_id": job.public_id})

    @staticmethod
    def resolve_error(job: Job) -> str | None:
        return job.error or None


@router.get("/{uuid:job_id}", response=JobOut, url_name="job_detail")
def job_detail(request: HttpRequest, job_id: UUID) -> Job:
    return job_get(workspace=request.workspace, owner=request.user, public_id=job_id)  # type: ignore[attr-defined,arg-type]


@router.get(
    "/{uuid:job_id}/result",
    url_name="job_result",
    openapi_extra={
        "responses": {
            200: {
                "description": "The job's result file (a CSV for exports).",
                "content": {"application/octet-stream": {}},
            },
            404: {"description": "No such job of yours, or it has not succeeded."},
        }
    },
)
def job_result(request: HttpRequest, job_id: UUID) -> FileResponse:
    job = job_get(workspace=request.workspace, owner=request.user, public_id=job_id)  # type: ignore[attr-defined,arg-type]
    if job.status != Job.Status.SUCCEEDED or not job.result_file:
        raise Http404("The job has no result yet.")
    try:
        file = job.result_file.open("rb")
    except FileNotFoundError:
        raise Http404("The job's result file is gone.") from None
    return FileResponse(
        file,
        as_attachment=True,
        filename=job.result_name,
        content_type=job.result_content_type or "application/octet-stream",
    )


# --- Health ---------------------------------------------------------------------------------
# Mounted by config/api.py at /api/v1/health. No authentication: a load balancer or an
# uptime monitor asks it, and it shows no data, only which part is down.


class HealthCheckOut(Schema):
    ok: bool
    detail: str
    seen_at: IsoDatetime | None = None


class HealthOut(Schema):
    status: str = Field(description='"ok", or "unhealthy" when any check failed (HTTP 503).')
    message: str
    failing: list[str]
    checks: dict[str, HealthCheckOut]


def build_health_router() -> Router:
    """A router with the health endpoint (a function, so tests can mount a fresh copy)."""
    router = Router(tags=["health"])

    @router.get(
        "",
        auth=None,
        response={200: HealthOut, 503: HealthOut},
        url_name="health",
        summary="Database, broker, worker and scheduler liveness",
    )
    def health(request: HttpRequest, response: HttpResponse) -> Status:
        checks = system_health_check()
        failing = [check.name for check in checks if not check.ok]
        response["Cache-Control"] = "no-store"
        body = {
            "status": "unhealthy" if failing else "ok",
            "message": f"Not healthy: {', '.join(failing)}." if failing else "All is well.",
            "failing": failing,
            "checks": {
                check.name: {"ok": check.ok, "detail": check.detail, "seen_at": check.seen_at}
                for check in checks
            },
        }
        return Status(503 if failing else 200, body)

    return router


health_router = build_health_router()
