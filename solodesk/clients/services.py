from __future__ import annotations

from typing import Any

from solodesk.accounts.models import Workspace
from solodesk.clients.models import Client
from solodesk.core.exceptions import ApplicationError

CLIENT_FIELDS = (
    "name",
    "email",
    "address",
    "tax_id",
    "currency",
    "payment_terms_days",
    "default_hourly_rate",
    "is_archived",
    "reminders_enabled",
)


def _apply(client: Client, fields: dict[str, Any]) -> None:
    for field, value in fields.items():
        if field not in CLIENT_FIELDS:
            raise ApplicationError(f"Unknown client field {field!r}")
        setattr(client, field, value)
    if isinstance(client.name, str):
        client.name = client.name.strip()
    client.full_clean(exclude=["workspace"])


def client_create(*, workspace: Workspace, name: str, **fields: Any) -> Client:
    fields.setdefault("currency", workspace.default_currency)
    client = Client(workspace=workspace)
    _apply(client, {"name": name, **fields})
    client.save()
    return client


def client_update(*, client: Client, **fields: Any) -> Client:
    _apply(client, fields)
    client.save()
    return client


def client_archive(*, client: Client, archived: bool = True) -> Client:
    client.is_archived = archived
    client.save(update_fields=["is_archived", "updated_at"])
    return client
