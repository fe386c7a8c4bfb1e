"""Webhook endpoints in the API, owner only: a member, like a stranger, gets 404s.

The signing secret is part of every endpoint answer: the owner can read it in the web UI
too, and a receiver cannot verify anything without it (rotate with POST /{id}/secret).
"""

from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status
from pydantic import StringConstraints

from solodesk.accounts.models import Workspace
from solodesk.accounts.selectors import workspace_user_is_owner
from solodesk.accounts.workspace import request_user as _user
from solodesk.accounts.workspace import request_workspace as _workspace
from solodesk.core.api import IsoDatetime, omittable
from solodesk.webhooks import selectors, services
from solodesk.webhooks.models import EVENT_TYPE_NAMES, WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks"])

if TYPE_CHECKING:
    EventType = str
else:
    EventType = Literal[EVENT_TYPE_NAMES]  # an enum of the event names in the schema

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class EndpointOut(Schema):
    id: UUID
    url: str
    description: str
    events: list[str]
    secret: str = Field(description="Signs every request: see Solodesk-Signature.")
    is_active: bool
    disabled_at: IsoDatetime | None
    disabled_reason: str
    consecutive_failures: int = Field(description="Failed attempts since the last success.")
    created_at: IsoDatetime

    @staticmethod
    def resolve_id(endpoint: WebhookEndpoint) -> UUID:
        return endpoint.public_id


class EndpointIn(Schema):
    url: Url
    events: list[EventType] = Field(min_length=1)
    description: Description = ""


class EndpointPatch(Schema):
    """Only the fields sent change. `is_active: true` re-enables a disabled endpoint (its
    waiting deliveries are sent), `false` disables it."""

    url: Url = omittable()
    events: list[EventType] = omittable(min_length=1)
    description: Description = omittable()
    is_active: bool = omittable()


class DeliveryOut(Schema):
    event_id: UUID
    event_type: str
    status: str
    attempts: int
    next_attempt_at: IsoDatetime | None
    delivered_at: IsoDatetime | None
    last_status_code: int | None
    last_duration_ms: int | None
    last_error: str
    created_at: IsoDatetime

    @staticmethod
    def resolve_event_id(delivery: WebhookDelivery) -> UUID:
        return delivery.event.public_id

    @staticmethod
    def resolve_event_type(delivery: WebhookDelivery) -> str:
        return delivery.event.event_type


class PingOut(Schema):
    event_id: UUID


def _owner_workspace(request: HttpRequest) -> Workspace:
    workspace = _workspace(request)
    if not workspace_user_is_owner(workspace=workspace, user=_user(request)):
        raise Http404("Only the workspace owner manages webhooks.")
    return workspace


def _endpoint(request: HttpRequest, endpoint_id: UUID) -> WebhookEndpoint:
    return selectors.webhook_endpoint_get(
        workspace=_owner_workspace(request), public_id=endpoint_id
    )


@router.get("", response=list[EndpointOut], url_name="webhook_list")
@paginate(LimitOffsetPagination)
def list_endpoints(request: HttpRequest) -> QuerySet[WebhookEndpoint]:
    return selectors.webhook_endpoint_list(workspace=_owner_workspace(request))


@router.post("", response={201: EndpointOut}, url_name="webhook_create")
def create_endpoint(request: HttpRequest, payload: EndpointIn) -> Status[WebhookEndpoint]:
    endpoint = services.webhook_endpoint_create(
        workspace=_owner_workspace(request), user=_user(request), **payload.dict()
    )
    return Status(201, endpoint)


@router.get("/{uuid:endpoint_id}", response=EndpointOut, url_name="webhook_detail")
def get_endpoint(request: HttpRequest, endpoint_id: UUID) -> WebhookEndpoint:
    return _endpoint(request, endpoint_id)


@router.patch("/{uuid:endpoint_id}", response=EndpointOut)
def update_endpoint(
    request: HttpRequest, endpoint_id: UUID, payload: EndpointPatch
) -> WebhookEndpoint:
    endpoint = _endpoint(request, endpoint_id)
    changes = payload.dict(exclude_unset=True)
    is_active = changes.pop("is_active", None)
    if changes:
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, **changes)
    if is_active is True and not endpoint.is_active:
        endpoint = services.webhook_endpoint_enable(endpoint=endpoint)
    elif is_active is False and endpoint.is_active:
        endpoint = services.webhook_endpoint_disable(endpoint=endpoint, user=_user(request))
    return endpoint


@router.delete("/{uuid:endpoint_id}", response={204: None})
def delete_endpoint(request: HttpRequest, endpoint_id: UUID) -> Status[None]:
    services.webhook_endpoint_delete(endpoint=_endpoint(request, endpoint_id))
    return Status(204, None)


@router.post("/{uuid:endpoint_id}/secret", response=EndpointOut)
def regenerate_secret(request: HttpRequest, endpoint_id: UUID) -> WebhookEndpoint:
    return services.webhook_endpoint_secret_regenerate(endpoint=_endpoint(request, endpoint_id))


@router.post("/{uuid:endpoint_id}/ping", response={202: PingOut})
def ping_endpoint(request: HttpRequest, endpoint_id: UUID) -> Status[dict[str, UUID]]:
    event = services.webhook_endpoint_ping(endpoint=_endpoint(request, endpoint_id))
    return Status(202, {"event_id": event.public_id})


@router.get("/{uuid:endpoint_id}/deliveries", response=list[DeliveryOut])
@paginate(LimitOffsetPagination)
def list_deliveries(request: HttpRequest, endpoint_id: UUID) -> QuerySet[WebhookDelivery]:
    return selectors.webhook_delivery_list(endpoint=_endpoint(request, endpoint_id))
