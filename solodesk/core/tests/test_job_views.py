from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from solodesk.core.models import Job
from solodesk.core.services import job_succeed

CSV = b"date,project,hours\n2026-03-02,Website,1.50\n"


def _job(persona, **fields) -> Job:
    return Job.objects.create(
        workspace=persona.workspace,
        owner=persona.user,
        kind=Job.Kind.TIME_ENTRIES_EXPORT,
        task_name="solodesk.timetracking.tasks.time_entries_export_task",
        **fields,
    )


def _finished_job(persona) -> Job:
    job = _job(persona, status=Job.Status.RUNNING, progress=90)
    return job_succeed(
        job=job, file=ContentFile(CSV), filename="time-entries.csv", content_type="text/csv"
    )


def _url(name: str, job: Job) -> str:
    return reverse(f"core:{name}", kwargs={"public_id": job.public_id})


# --- job_detail -----------------------------------------------------------------------


def test_owner_sees_the_job_page_with_its_progress_bar(owner):
    job = _job(owner, status=Job.Status.RUNNING, progress=40)

    response = owner.client.get(_url("job_detail", job))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Time entries export (CSV)</h1>" in html
    assert '<div class="progress"><span style="width: 40%"></span></div>' in html
    assert f'hx-get="{_url("job_progress", job)}"' in html
    assert "Running · 40%" in html


@pytest.mark.parametrize("persona", ["member", "stranger"])
def test_job_page_is_a_404_for_anyone_but_its_owner(owner, persona, request):
    job = _job(owner)
    other = request.getfixturevalue(persona)

    response = other.client.get(_url("job_detail", job))

    assert response.status_code == 404


def test_job_page_sends_an_anonymous_visitor_to_log_in(client, owner):
    job = _job(owner)
    url = _url("job_detail", job)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={url}"


# --- job_progress ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "progress", "text"),
    [(Job.Status.QUEUED, 0, "Queued · 0%"), (Job.Status.RUNNING, 65, "Running · 65%")],
)
def test_progress_of_an_unfinished_job_keeps_polling(owner, status, progress, text):
    job = _job(owner, status=status, progress=progress)
    url = _url("job_progress", job)

    response = owner.client.get(url, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert [t.name for t in response.templates] == ["core/_job_progress.html"]
    html = response.content.decode()
    assert f'hx-get="{url}" hx-trigger="every 1s" hx-swap="outerHTML"' in html
    assert f'<div class="progress"><span style="width: {progress}%"></span></div>' in html
    assert text in html
    assert "download" not in html


def test_progress_of_a_succeeded_job_links_the_download_and_stops_polling(owner):
    job = _finished_job(owner)

    response = owner.client.get(_url("job_progress", job))

    html = response.content.decode()
    assert f'href="{_url("job_download", job)}"' in html
    assert "Download time-entries.csv" in html
    assert "hx-get" not in html
    assert "hx-trigger" not in html


def test_progress_of_a_failed_job_shows_the_error_and_stops_polling(owner):
    job = _job(
        owner,
        status=Job.Status.FAILED,
        progress=30,
        error="The export stopped: the database was unreachable. Please try again.",
    )

    response = owner.client.get(_url("job_progress", job))

    html = response.content.decode()
    assert (
        '<p class="message error" role="alert">The export stopped: the database was '
        "unreachable. Please try again.</p>"
    ) in html
    assert "hx-get" not in html
    assert "download" not in html


@pytest.mark.parametrize("other_jobs", [3, 50])
def test_progress_poll_costs_the_same_few_queries_however_many_jobs_exist(
    owner, member, django_assert_num_queries, other_jobs
):
    job = _job(owner, status=Job.Status.RUNNING, progress=10)
    for n in range(other_jobs):
        _job(owner if n % 2 else member, status=Job.Status.RUNNING, progress=n % 100)

    # 1 session, 2 user joined with the running timer, 3 membership joined with workspace,
    # 4 the job (by public id, scoped to workspace and owner)
    with django_assert_num_queries(4):
        response = owner.client.get(_url("job_progress", job))

    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["member", "stranger"])
def test_progress_is_a_404_for_anyone_but_the_owner(owner, persona, request):
    job = _job(owner, status=Job.Status.RUNNING, progress=50)
    other = request.getfixturevalue(persona)

    response = other.client.get(_url("job_progress", job))

    assert response.status_code == 404


# --- job_download ---------------------------------------------------------------------


def test_owner_downloads_the_result_as_an_attachment(owner, django_assert_num_queries):
    job = _finished_job(owner)

    # 1 session, 2 user, 3 membership and workspace, 4 the job
    with django_assert_num_queries(4):
        response = owner.client.get(_url("job_download", job))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="time-entries.csv"'
    assert b"".join(response.streaming_content) == CSV


@pytest.mark.parametrize("persona", ["member", "stranger"])
def test_download_is_a_404_for_anyone_but_the_owner(owner, persona, request):
    job = _finished_job(owner)
    other = request.getfixturevalue(persona)

    response = other.client.get(_url("job_download", job))

    assert response.status_code == 404


@pytest.mark.parametrize("status", [Job.Status.QUEUED, Job.Status.RUNNING, Job.Status.FAILED])
def test_download_is_a_404_until_the_job_has_succeeded(owner, status):
    job = _job(owner, status=status)

    response = owner.client.get(_url("job_download", job))

    assert response.status_code == 404


def test_download_is_a_404_when_the_result_file_is_gone(owner):
    job = _finished_job(owner)
    job.result_file.delete(save=False)

    response = owner.client.get(_url("job_download", job))

    assert response.status_code == 404


def test_download_is_a_404_for_an_unknown_job(owner):
    url = reverse("core:job_download", kwargs={"public_id": "00000000-0000-0000-0000-000000000000"})

    response = owner.client.get(url)

    assert response.status_code == 404
