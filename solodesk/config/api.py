"""The REST API under /api/v1/: one NinjaAPI, a router per app, errors as JSON.

Every error body has a `message`; validation errors add `errors`, a map from field name to
messages, so a client can show them beside its fields.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import HttpError as NinjaHttpError
from ninja.errors import ValidationError as NinjaValidationError

from solodesk.accounts.api_auth import API_AUTH
from solodesk.core.exceptions import ApplicationError

api = NinjaAPI(
    title="Solodesk API",
    version="1.0.0",
    description=(
        "Time tracking, clients, projects and invoices for freelancers. Authenticate with "
        "`Authorization: Bearer <token>` (create tokens under Settings → API tokens). "
        "Amounts are decimal strings, times ISO 8601 with an offset, ids are UUIDs."
    ),
    auth=API_AUTH,
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _field_name(loc: list | tuple) -> str:
    # ninja reports ("body", "payload", "field") or ("query", "field"): keep the field path.
    parts = [str(p) for p in loc if p not in {"body", "query", "path", "form", "payload"}]
    return ".".join(parts) or "__all__"


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_field_name(error.get("loc", ())), []).append(str(error.get("msg", "")))
    return api.create_response(request, {"message": "Invalid input.", "errors": errors}, status=422)


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return api.create_response(request, {"message": exc.message, "errors": exc.errors}, status=400)


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
    else:
        errors = {"__all__": [str(m) for m in exc.messages]}
    return api.create_response(request, {"message": "Invalid input.", "errors": errors}, status=400)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"message": "Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request, {"message": "Missing or invalid API token."}, status=401
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(NinjaHttpError)
def _http_error(request: HttpRequest, exc: NinjaHttpError) -> HttpResponse:
    return api.create_response(request, {"message": str(exc)}, status=exc.status_code)


def _register_routers() -> None:
    from solodesk.clients.api import router as clients_router
    from solodesk.core.api import health_router
    from solodesk.core.api import router as jobs_router
    from solodesk.expenses.api import router as expenses_router
    from solodesk.invoicing.api import router as invoicing_router
    from solodesk.projects.api import router as projects_router
    from solodesk.prompts.api import router as prompts_router
    from solodesk.quotes.api import router as quotes_router
    from solodesk.recurring.api import router as recurring_router
    from solodesk.reminders.api import router as reminders_router
    from solodesk.reports.api import router as reports_router
    from solodesk.timetracking.api import entries_router, timer_router
    from solodesk.webhooks.api import router as webhooks_router

    api.add_router("/clients", clients_router)
    api.add_router("/projects", projects_router)
    api.add_router("/time-entries", entries_router)
    api.add_router("/timer", timer_router)
    api.add_router("/jobs", jobs_router)
    api.add_router("/health", health_router)
    api.add_router("/invoices", invoicing_router)
    api.add_router("/quotes", quotes_router)
    api.add_router("/reminders", reminders_router)
    api.add_router("/recurring-invoices", recurring_router)
    api.add_router("/webhooks", webhooks_router)
    api.add_router("/prompts", prompts_router)
    api.add_router("/expenses", expenses_router)
    api.add_router("/reports", reports_router)


_register_routers()
