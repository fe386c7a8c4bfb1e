"""Shared by the durability tests (broker outage, killed worker): an owner with issued
invoices, the sweeper run as its own process, and waits on rows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from solodesk.accounts.models import Membership
from solodesk.invoicing.models import Invoice
from solodesk.invoicing.tests.factories import line, make_client, make_issued
from solodesk.tests.factories import (
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
    make_api_token,
)

_SWEEP = """
import datetime as dt, django, sys
django.setup()
from solodesk.core.services import jobs_requeue_stale
print(jobs_requeue_stale(older_than=dt.timedelta(seconds=float(sys.argv[1]))))
"""


def owner_with_invoices(count: int) -> tuple[list[Invoice], str]:
    """`count` issued invoices for a client with an e-mail address, and an API token."""
    workspace = WorkspaceFactory(name="Owner Studio")
    user = UserFactory(email="owner@example.com")
    MembershipFactory(workspace=workspace, user=user, role=Membership.Role.OWNER)
    client = make_client(workspace, name="Acme Robotics", email="billing@acme.test")
    invoices = [
        make_issued(
            workspace=workspace,
            user=user,
            client=client,
            lines=[line(f"Design work, part {n}", quantity="3", unit_price="100.00")],
        )
        for n in range(count)
    ]
    return invoices, make_api_token(user=user, workspace=workspace)


def run_sweeper(env: dict[str, str], *, older_than: float, log_dir: Path) -> int:
    """The stale-job sweeper as the scheduler's worker would run it, in its own process
    with the given environment (its broker), so it publishes where the worker listens."""
    result = subprocess.run(
        [sys.executable, "-c", _SWEEP, str(older_than)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "sweeper.log").open("a") as log:
        log.write(result.stdout + result.stderr)
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stdout.strip().splitlines()[-1])
