"""Clients in the API: thin adapters over the clients' selectors and services."""

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status
from pydantic import StringConstraints, field_validator

from solodesk.clients.models import Client
from solodesk.clients.selectors import client_get, client_list
from solodesk.clients.services import client_archive, client_create, client_update
from solodesk.core.api import DecimalString, IsoDatetime, omittable
from solodesk.core.money import CURRENCIES

router = Router(tags=["clients"])

if TYPE_CHECKING:
    CurrencyCode = str
else:
    CurrencyCode = Literal[tuple(CURRENCIES)]  # an enum of the codes in the OpenAPI schema

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)]
TaxId = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
Rate = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
PaymentTerms = Annotated[int, Field(ge=0, le=365)]


def _email_or_blank(value: str | None) -> str | None:
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("Enter a valid e-mail address.") from None
    return value


class ClientOut(Schema):
    id: UUID
    name: str
    email: str
    address: str
    tax_id: str
    currency: str
    payment_terms_days: int | None = Field(description="Null: the workspace's terms.")
    default_hourly_rate: DecimalString | None
    archived: bool
    created_at: IsoDatetime
    updated_at: IsoDatetime

    @staticmethod
    def resolve_id(client: Client) -> UUID:
        return client.public_id

    @staticmethod
    def resolve_archived(client: Client) -> bool:
        return client.is_archived


class ClientIn(Schema):
    name: Name
    email: Email = ""
    address: str = ""
    tax_id: TaxId = ""
    currency: CurrencyCode | None = Field(None, description="Default: the workspace's currency.")
    payment_terms_days: PaymentTerms | None = Field(None, description="Null: the workspace's.")
    default_hourly_rate: Rate | None = None

    _check_email = field_validator("email")(_email_or_blank)


class ClientPatch(Schema):
    """Only the fields sent change; `null` clears a nullable field."""

    name: Name = omittable()
    email: Email = omittable()
    address: str = omittable()
    tax_id: TaxId = omittable()
    currency: CurrencyCode = omittable()
    payment_terms_days: PaymentTerms | None = None
    default_hourly_rate: Rate | None = None

    _check_email = field_validator("email")(_email_or_blank)


@router.get("", response=list[ClientOut], url_name="client_list")
@paginate(LimitOffsetPagination)
def list_clients(
    request: HttpRequest, q: str = "", include_archived: bool = False
) -> QuerySet[Client]:
    return client_list(
        workspace=request.workspace,  # type: ignore[attr-defined]
        include_archived=include_archived,
        search=q.strip(),
    )


@router.post("", response={201: ClientOut}, url_name="client_create")
def create_client(request: HttpRequest, payload: ClientIn) -> Status[Client]:
    # Nulls mean "the default" here, which is what leaving them out gives.
    client = client_create(workspace=request.workspace, **payload.dict(exclude_none=True))  # type: ignore[attr-defined]
    return Status(201, client)


@router.get("/{uuid:client_id}", response=ClientOut, url_name="client_detail")
def get_client(request: HttpRequest, client_id: UUID) -> Client:
    return client_get(workspace=request.workspace, public_id=client_id)  # type: ignore[attr-defined]


@router.patch("/{uuid:client_id}", response=ClientOut)
def update_client(request: HttpRequest, client_id: UUID, payload: ClientPatch) -> Client:
    client = client_get(workspace=request.workspace, public_id=client_id)  # type: ignore[attr-defined]
    return client_update(client=client, **payload.dict(exclude_unset=True))


@router.post("/{uuid:client_id}/archive", response=ClientOut, url_name="client_archive")
def archive_client(request: HttpRequest, client_id: UUID) -> Client:
    client = client_get(workspace=request.workspace, public_id=client_id)  # type: ignore[attr-defined]
    return client_archive(client=client, archived=True)


@router.post("/{uuid:client_id}/unarchive", response=ClientOut, url_name="client_unarchive")
def unarchive_client(request: HttpRequest, client_id: UUID) -> Client:
    client = client_get(workspace=request.workspace, public_id=client_id)  # type: ignore[attr-defined]
    return client_archive(client=client, archived=False)
