"""The `clients` family's per-client sums from the dashboard's per-project rows: Σ seconds ×
rate summed in cents, and with Decimals for a rate that is not whole cents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from uuid import UUID

from solodesk.accounts.models import User, Workspace
from solodesk.projects.models import Project
from solodesk.prompts.registry import Context
from solodesk.prompts.rules.families import UnbilledProject, _clients_from_projects

ACME = UUID("00000000-0000-4000-8000-000000000001")
NOW = dt.datetime(2026, 3, 30, tzinfo=dt.UTC)


def _row(project_id: int, *, method: str, seconds: int, rate: Decimal | None) -> UnbilledProject:
    return UnbilledProject(
        project_id=project_id,
        client_id=1,
        billing_method=method,
        hourly_rate=rate,
        time_rounding_mode="",
        time_rounding_minutes=None,
        time_rounding_scope="",
        client_public_id=ACME,
        client_name="Acme",
        client_email="a@example.com",
        client_terms=30,
        client_currency="EUR",
        client_rate=None,
        client_archived=False,
        entries=2,
        seconds=seconds,
        up_seconds=seconds,
        nearest_seconds=seconds,
        first_at=dt.datetime(2026, 3, project_id, tzinfo=dt.UTC),
    )


def test_a_clients_rate_seconds_add_whole_cents_and_other_rates_exactly():
    ctx = Context(workspace=Workspace(), user=User(), now=NOW)
    hourly, fixed = Project.BillingMethod.HOURLY, Project.BillingMethod.FIXED
    rows = [
        _row(1, method=hourly, seconds=3600, rate=Decimal("80.00")),
        _row(2, method=hourly, seconds=1800, rate=Decimal("33.333")),
        _row(3, method=hourly, seconds=60, rate=None),  # no rate: time, no money
        _row(4, method=fixed, seconds=600, rate=Decimal("50.00")),  # fixed fee: time only
    ]

    [client] = _clients_from_projects(ctx, rows, 100)

    assert client.public_id == ACME
    assert client.unbilled_entries == 8
    assert client.unbilled_seconds == 6060
    assert client.unbilled_rate_seconds == Decimal("288000.00") + Decimal("59999.400")
    assert client.first_unbilled_at == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def test_a_client_without_a_rate_has_no_rate_seconds():
    ctx = Context(workspace=Workspace(), user=User(), now=NOW)

    [client] = _clients_from_projects(
        ctx, [_row(1, method=Project.BillingMethod.HOURLY, seconds=60, rate=None)], 100
    )

    assert client.unbilled_rate_seconds == 0
    assert not client.unbilled_rate_seconds
