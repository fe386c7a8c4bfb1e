"""Jobs in the API: /api/v1/jobs/{id} and its result, for the job's owner only."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.test import Client as DjangoClient

from solodesk.core.models import Job

URL = "/api/v1/jobs"
FINISHED = dt.datetime(2026, 3, 2, 11, 0, 5, tzinfo=dt.UTC)


def make_job(persona, **fields) -> Job:
    return Job.objects.create(
        workspace=persona.workspace,
        owner=persona.user,
        kind=Job.Kind.TIME_ENTRIES_EXPORT,
        task_name="solodesk.timetracking.tasks.time_entries_export_task",
        **fields,
    )


def make_succeeded_job(persona, content: bytes = b"id,date\r\n") -> Job:
    job = make_job(
        persona,
        status=Job.Status.SUCCEEDED,
        progress=100,
        finished_at=FINISHED,
        result_content_type="text/csv",
    )
    job.result_file.save("time-entries.csv", ContentFile(content), save=True)
    return job


def read(response) -> bytes:
    try:
        return b"".join(response.streaming_content)
    finally:
        response.close()


def test_owner_sees_a_queued_job(owner):
    job = make_job(owner)

    response = owner.api().get(f"{URL}/{job.public_id}")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(job.public_id),
        "kind": "time_entries_export",
        "status": "queued",
        "progress": 0,
        "result_url": None,
        "error": None,
        "created_at": job.created_at.isoformat(),
        "finished_at": None,
    }


def test_a_succeeded_job_links_its_result(owner):
    job = make_succeeded_job(owner)

    body = owner.api().get(f"{URL}/{job.public_id}").json()

    assert (body["status"], body["progress"], body["finished_at"]) == (
        "succeeded",
        100,
        "2026-03-02T11:00:05+00:00",
    )
    assert body["result_url"] == f"/api/v1/jobs/{job.public_id}/result"


def test_a_failed_job_shows_its_error(owner):
    job = make_job(owner, status=Job.Status.FAILED, error="The export took too long.")

    body = owner.api().get(f"{URL}/{job.public_id}").json()

    assert (body["status"], body["error"], body["result_url"]) == (
        "failed",
        "The export took too long.",
        None,
    )


def test_result_serves_the_file_to_the_owner(owner):
    job = make_succeeded_job(owner, content=b"id,date\r\nabc,2026-03-02\r\n")

    response = owner.api().get(f"{URL}/{job.public_id}/result")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="time-entries.csv"'
    assert read(response) == b"id,date\r\nabc,2026-03-02\r\n"


def test_result_works_with_the_browser_session(owner):
    job = make_succeeded_job(owner)

    response = owner.client.get(f"{URL}/{job.public_id}/result")

    assert response.status_code == 200
    assert read(response) == b"id,date\r\n"


@pytest.mark.parametrize("status", [Job.Status.QUEUED, Job.Status.RUNNING, Job.Status.FAILED])
def test_result_is_404_until_the_job_succeeded(owner, status):
    job = make_job(owner, status=status)

    response = owner.api().get(f"{URL}/{job.public_id}/result")

    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}


def test_result_is_404_when_the_file_is_gone(owner):
    job = make_succeeded_job(owner)
    job.result_file.storage.delete(job.result_file.name)

    response = owner.api().get(f"{URL}/{job.public_id}/result")

    assert response.status_code == 404


@pytest.mark.parametrize("suffix", ["", "/result"])
def test_a_member_of_the_same_workspace_gets_404(owner, member, suffix):
    job = make_succeeded_job(owner)

    response = member.api().get(f"{URL}/{job.public_id}{suffix}")

    assert response.status_code == 404
    assert response.json() == {"message": "Not found."}


@pytest.mark.parametrize("suffix", ["", "/result"])
def test_the_stranger_gets_404_and_nothing_changes(owner, stranger, suffix):
    job = make_succeeded_job(owner)

    response = stranger.api().get(f"{URL}/{job.public_id}{suffix}")

    assert response.status_code == 404
    job.refresh_from_db()
    assert (job.status, job.result_file.name) == (
        Job.Status.SUCCEEDED,
        f"jobs/{job.public_id}/time-entries.csv",
    )


@pytest.mark.parametrize("suffix", ["", "/result"])
def test_requests_without_a_token_are_401(owner, suffix):
    job = make_succeeded_job(owner)

    assert DjangoClient().get(f"{URL}/{job.public_id}{suffix}").status_code == 401


def test_unknown_job_is_404(owner):
    response = owner.api().get(f"{URL}/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404


@pytest.mark.parametrize("rows", [3, 50])
def test_detail_costs_two_queries_whatever_the_number_of_jobs(
    owner, rows, django_assert_num_queries
):
    jobs = [make_job(owner) for _ in range(rows)]
    api = owner.api()

    # 1. API token joined with its workspace, user and running timer
    # 2. the job, scoped to the workspace and its owner
    with django_assert_num_queries(2):
        response = api.get(f"{URL}/{jobs[-1].public_id}")

    assert response.status_code == 200
