"""Projects in the API: thin adapters over the projects' selectors and services."""

from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status
from pydantic import StringConstraints

from solodesk.accounts.models import Workspace
from solodesk.clients.selectors import client_get
from solodesk.core.api import DecimalString, IsoDatetime, omittable, referenced
from solodesk.projects.models import Project
from solodesk.projects.selectors import project_get, project_list
from solodesk.projects.services import project_archive, project_create, project_update

router = Router(tags=["projects"])

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
BillingMethod = Literal["hourly", "fixed", "non_billable"]
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Hours = Annotated[Decimal, Field(ge=0, max_digits=9, decimal_places=2)]
RoundingMode = Literal["none", "up", "nearest"]
RoundingMinutes = Literal[1, 6, 15, 30]
RoundingScope = Literal["entry", "line"]


class ProjectOut(Schema):
    id: UUID
    client_id: UUID
    client_name: str
    name: str
    billing_method: str
    currency: str = Field(description="The client's currency, for every amount below.")
    hourly_rate: DecimalString | None = Field(description="Null: the client's default rate.")
    fixed_fee: DecimalString | None
    budget_hours: DecimalString | None
    budget_amount: DecimalString | None
    time_rounding_mode: str | None = Field(
        description="none, up or nearest; null: the workspace's rule."
    )
    time_rounding_minutes: int | None = Field(description="1, 6, 15 or 30; null: the workspace's.")
    time_rounding_scope: str | None = Field(
        description="entry (each entry) or line (the line's total); null: the workspace's."
    )
    archived: bool
    created_at: IsoDatetime
    updated_at: IsoDatetime

    @staticmethod
    def resolve_id(project: Project) -> UUID:
        return project.public_id

    @staticmethod
    def resolve_client_id(project: Project) -> UUID:
        return project.client.public_id

    @staticmethod
    def resolve_client_name(project: Project) -> str:
        return project.client.name

    @staticmethod
    def resolve_currency(project: Project) -> str:
        return project.client.currency

    @staticmethod
    def resolve_archived(project: Project) -> bool:
        return project.is_archived

    @staticmethod
    def resolve_time_rounding_mode(project: Project) -> str | None:
        return project.time_rounding_mode or None

    @staticmethod
    def resolve_time_rounding_scope(project: Project) -> str | None:
        return project.time_rounding_scope or None


class ProjectIn(Schema):
    client_id: UUID
    name: Name
    billing_method: BillingMethod = "hourly"
    hourly_rate: Amount | None = None
    fixed_fee: Amount | None = None
    budget_hours: Hours | None = None
    budget_amount: Amount | None = None
    time_rounding_mode: RoundingMode | None = None
    time_rounding_minutes: RoundingMinutes | None = None
    time_rounding_scope: RoundingScope | None = None


class ProjectPatch(Schema):
    """Only the fields sent change; `null` clears a nullable field."""

    client_id: UUID = omittable()
    name: Name = omittable()
    billing_method: BillingMethod = omittable()
    hourly_rate: Amount | None = None
    fixed_fee: Amount | None = None
    budget_hours: Hours | None = None
    budget_amount: Amount | None = None
    time_rounding_mode: RoundingMode | None = None
    time_rounding_minutes: RoundingMinutes | None = None
    time_rounding_scope: RoundingScope | None = None


def _fields_with_client(workspace: Workspace, fields: dict[str, Any]) -> dict[str, Any]:
    """Swap the body's `client_id` for this workspace's client (a 400 naming client_id if
    there is none)."""
    if "client_id" in fields:
        fields["client"] = referenced(
            client_get,
            field="client_id",
            message="Client not found.",
            workspace=workspace,
            public_id=fields.pop("client_id"),
        )
    return fields


@router.get("", response=list[ProjectOut], url_name="project_list")
@paginate(LimitOffsetPagination)
def list_projects(
    request: HttpRequest,
    q: str = "",
    include_archived: bool = False,
    client_id: UUID | None = None,
) -> QuerySet[Project]:
    return project_list(
        workspace=request.workspace,  # type: ignore[attr-defined]
        include_archived=include_archived,
        client_public_id=client_id,
        search=q.strip(),
    )


@router.post("", response={201: ProjectOut}, url_name="project_create")
def create_project(request: HttpRequest, payload: ProjectIn) -> Status[Project]:
    workspace = request.workspace  # type: ignore[attr-defined]
    fields = _fields_with_client(workspace, payload.dict())
    project = project_create(workspace=workspace, **fields)
    return Status(201, project)


@router.get("/{uuid:project_id}", response=ProjectOut, url_name="project_detail")
def get_project(request: HttpRequest, project_id: UUID) -> Project:
    return project_get(workspace=request.workspace, public_id=project_id)  # type: ignore[attr-defined]


@router.patch("/{uuid:project_id}", response=ProjectOut)
def update_project(request: HttpRequest, project_id: UUID, payload: ProjectPatch) -> Project:
    workspace = request.workspace  # type: ignore[attr-defined]
    project = project_get(workspace=workspace, public_id=project_id)
    fields = _fields_with_client(workspace, payload.dict(exclude_unset=True))
    return project_update(project=project, **fields)


@router.post("/{uuid:project_id}/archive", response=ProjectOut, url_name="project_archive")
def archive_project(request: HttpRequest, project_id: UUID) -> Project:
    project = project_get(workspace=request.workspace, public_id=project_id)  # type: ignore[attr-defined]
    return project_archive(project=project, archived=True)


@router.post("/{uuid:project_id}/unarchive", response=ProjectOut, url_name="project_unarchive")
def unarchive_project(request: HttpRequest, project_id: UUID) -> Project:
    project = project_get(workspace=request.workspace, public_id=project_id)  # type: ignore[attr-defined]
    return project_archive(project=project, archived=False)
