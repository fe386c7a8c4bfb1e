"""The lookups that take the workspace lock of decision 0007 with the row a write reads
first (`_project_locked`, `_locked_timer`): compiled once per process
(`core.prepared.PreparedQuery`), they must return what the ORM returns, lock the workspace
FOR SHARE and nothing more, and refuse another workspace's project."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from solodesk.core.exceptions import ApplicationError
from solodesk.projects.models import Project
from solodesk.tests.factories import ProjectFactory, RunningTimerFactory
from solodesk.timetracking import services
from solodesk.timetracking.models import RunningTimer


def _fields(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


@pytest.mark.parametrize("by", ["instance", "public id", "public id as text"])
def test_the_locked_project_is_the_orms_in_one_query(owner, by, django_assert_num_queries):
    ProjectFactory(client__workspace=owner.workspace)  # another row of the same workspace
    project = ProjectFactory(client__workspace=owner.workspace, name="Website")
    expected = Project.objects.select_related("client", "workspace").get(pk=project.pk)
    given = {
        "instance": project,
        "public id": project.public_id,
        "public id as text": str(project.public_id),
    }[by]

    with transaction.atomic(), django_assert_num_queries(1):
        found = services._project_locked(workspace=owner.workspace, project=given)
        assert _fields(found) == _fields(expected)
        assert _fields(found.client) == _fields(expected.client)
        assert _fields(found.workspace) == _fields(expected.workspace)


def test_another_workspaces_project_is_not_found_by_either_lookup(owner, stranger):
    theirs = ProjectFactory(client__workspace=stranger.workspace)

    for given in (theirs, theirs.public_id):
        with transaction.atomic(), pytest.raises(ApplicationError) as error:
            services._project_locked(workspace=owner.workspace, project=given)
        assert error.value.errors == {"project_id": ["Project not found."]}


def test_the_locked_timer_is_the_orms(owner, django_assert_num_queries):
    timer = RunningTimerFactory(user=owner.user, project__client__workspace=owner.workspace)
    expected = RunningTimer.objects.select_related("project", "workspace").get(pk=timer.pk)

    with transaction.atomic(), django_assert_num_queries(1):
        found = services._locked_timer(owner.user, share_workspace=True)
        assert found is not None
        assert _fields(found) == _fields(expected)
        assert _fields(found.project) == _fields(expected.project)
        assert _fields(found.workspace) == _fields(expected.workspace)
    timer.delete()
    with transaction.atomic():
        assert services._locked_timer(owner.user, share_workspace=True) is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no row locks")
def test_the_lookups_lock_the_workspace_for_share_and_the_timer_for_update(owner):
    project = ProjectFactory(client__workspace=owner.workspace)
    RunningTimerFactory(user=owner.user, project=project)

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        services._project_locked(workspace=owner.workspace, project=project.public_id)
        services._locked_timer(owner.user, share_workspace=True)

    project_sql, timer_sql = (query["sql"] for query in queries.captured_queries)
    assert project_sql.endswith(' LIMIT 1 FOR SHARE OF "accounts_workspace"')
    assert timer_sql.endswith(
        ' FOR UPDATE OF "timetracking_runningtimer" FOR SHARE OF "accounts_workspace"'
    )
