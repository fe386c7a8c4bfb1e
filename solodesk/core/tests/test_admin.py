from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as DjangoClient
from django.urls import reverse

from solodesk.core.models import Job


@pytest.fixture
def superuser_client(db):
    superuser = get_user_model().objects.create_superuser(
        email="root@example.com", password="root pass 123"
    )
    client = DjangoClient()
    client.force_login(superuser)
    return client


@pytest.fixture
def jobs(owner, member):
    return [
        Job.objects.create(
            workspace=persona.workspace,
            owner=persona.user,
            kind=Job.Kind.TIME_ENTRIES_EXPORT,
            task_name="solodesk.timetracking.tasks.time_entries_export_task",
            status=status,
        )
        for persona, status in [(owner, Job.Status.QUEUED), (member, Job.Status.FAILED)]
    ]


def test_job_list_renders_and_filters_by_status(superuser_client, jobs):
    url = reverse("admin:core_job_changelist")

    response = superuser_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 2

    response = superuser_client.get(url, {"status__exact": "failed"})
    assert response.status_code == 200
    assert [job.pk for job in response.context["cl"].result_list] == [jobs[1].pk]


def test_jobs_are_read_only_in_the_admin(superuser_client, jobs):
    job = jobs[0]

    response = superuser_client.get(reverse("admin:core_job_change", args=[job.pk]))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False

    response = superuser_client.post(
        reverse("admin:core_job_change", args=[job.pk]), {"status": "succeeded"}
    )
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED

    assert superuser_client.get(reverse("admin:core_job_add")).status_code == 403
