from __future__ import annotations

from typing import Any

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.core.exceptions import ApplicationError
from solodesk.projects.models import Project

PROJECT_FIELDS = (
    "client",
    "name",
    "billing_method",
    "hourly_rate",
    "fixed_fee",
    "budget_hours",
    "budget_amount",
    "is_archived",
    "time_rounding_mode",
    "time_rounding_minutes",
    "time_rounding_scope",
)
# Blank (or None) means "the workspace's rule"; the text columns store blank as "".
ROUNDING_TEXT_FIELDS = ("time_rounding_mode", "time_rounding_scope")


def _apply(project: Project, fields: dict[str, Any]) -> None:
    for field, value in fields.items():
        if field not in PROJECT_FIELDS:
            raise ApplicationError(f"Unknown project field {field!r}")
        if field in ROUNDING_TEXT_FIELDS and value is None:
            value = ""
        setattr(project, field, value)
    # The client must be one of this workspace's: checked here, not trusted from the caller.
    if project.client.workspace_id != project.workspace_id:
        raise ApplicationError.for_field("client_id", "Client not found.")
    if isinstance(project.name, str):
        project.name = project.name.strip()
    project.full_clean(exclude=["workspace", "client"])


def project_create(*, workspace: Workspace, client: Client, name: str, **fields: Any) -> Project:
    project = Project(workspace=workspace, client=client)
    _apply(project, {"name": name, **fields})
    project.save()
    return project


def project_update(*, project: Project, **fields: Any) -> Project:
    _apply(project, fields)
    project.save()
    return project


def project_archive(*, project: Project, archived: bool = True) -> Project:
    project.is_archived = archived
    project.save(update_fields=["is_archived", "updated_at"])
    return project
