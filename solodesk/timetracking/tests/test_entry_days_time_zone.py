"""A change of the workspace's time zone and the Job that recounts the time totals in it
commit together (decision 0007): if the job cannot be written, the old time zone stays."""

from __future__ import annotations

import pytest

from solodesk.accounts import services as accounts
from solodesk.accounts.models import Workspace
from solodesk.accounts.services import workspace_update
from solodesk.core.models import Job


# A real transaction: workspace_update's own is the outermost one, as in a request.
@pytest.mark.django_db(transaction=True)
def test_a_recount_that_cannot_be_queued_keeps_the_old_time_zone(owner, monkeypatch):
    workspace = owner.workspace
    before = workspace.time_zone
    new = "Pacific/Auckland" if before != "Pacific/Auckland" else "Europe/Berlin"

    def fail(**kwargs: object) -> Job:
        raise RuntimeError("cannot write the job")

    monkeypatch.setattr(accounts, "job_create", fail)
    with pytest.raises(RuntimeError):
        workspace_update(workspace=workspace, user=owner.user, time_zone=new)
    assert Workspace.objects.get(pk=workspace.pk).time_zone == before
    assert not Job.objects.exists()
