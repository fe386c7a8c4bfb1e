"""A change of the workspace's time zone and the daily totals recounted in it commit
together: a failed recount leaves the old time zone (and its totals) in place."""

from __future__ import annotations

import pytest

from solodesk.accounts.models import Workspace
from solodesk.accounts.services import workspace_update
from solodesk.timetracking import services as timetracking


# A real transaction: workspace_update's own is the outermost one, as in a request.
@pytest.mark.django_db(transaction=True)
def test_a_failed_recount_keeps_the_old_time_zone(owner, monkeypatch):
    workspace = owner.workspace
    before = workspace.time_zone
    new = "Pacific/Auckland" if before != "Pacific/Auckland" else "Europe/Berlin"

    def fail(*, workspace: Workspace) -> int:
        raise RuntimeError("recount failed")

    monkeypatch.setattr(timetracking, "time_entry_days_rebuild", fail)
    with pytest.raises(RuntimeError):
        workspace_update(workspace=workspace, time_zone=new)
    assert Workspace.objects.get(pk=workspace.pk).time_zone == before
