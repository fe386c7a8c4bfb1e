"""The web tier is stateless: two gunicorn processes and one worker share the database,
the broker and the files, and nothing else. A user logs in on A, carries on on B, and when
A dies nothing is lost."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

from solodesk.core.models import Job
from solodesk.tests.factories import (
    ClientFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
    WorkspaceFactory,
)
from solodesk.timetracking.models import RunningTimer, TimeEntry
from tests.integration.helpers import read_csv
from tests.processes import wait_until

pytestmark = pytest.mark.integration

EMAIL = "ada@example.com"
PASSWORD = "plum-orchard-42"


def _post(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    """A form POST with Django's CSRF token taken from the cookie, as a browser sends it."""
    token = client.cookies["csrftoken"]
    return client.post(path, data={**data, "csrfmiddlewaretoken": token})


def _log_in(client: httpx.Client) -> None:
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    response = _post(client, "/accounts/login/", {"login": EMAIL, "password": PASSWORD})
    assert response.status_code == 302, response.text
    assert "sessionid" in client.cookies


def _job_id(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    match = re.fullmatch(r"/jobs/([0-9a-f-]{36})/", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def test_a_session_a_timer_and_an_export_move_between_web_processes_and_survive_one_dying(
    transactional_db, web_server, celery_worker_process
):
    workspace = WorkspaceFactory(name="Ada Studio", time_zone="UTC")
    # The web processes run the production settings (Argon2 first, PBKDF2 accepted); the
    # test settings know only MD5, so the hasher is given explicitly.
    user = UserFactory(email=EMAIL)
    user.password = make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    user.save(update_fields=["password"])
    MembershipFactory(workspace=workspace, user=user)
    project = ProjectFactory(
        client=ClientFactory(workspace=workspace, name="Acme Ltd"), name="Lighthouse"
    )
    server_a = web_server(name="web-a")
    server_b = web_server(name="web-b")

    with (
        httpx.Client(base_url=server_a.base_url, timeout=10) as on_a,
        httpx.Client(base_url=server_b.base_url, timeout=10) as on_b,
    ):
        # Log in on A; B gets nothing but the browser's cookies.
        _log_in(on_a)
        on_b.cookies = on_a.cookies

        # Start the timer on A, see it and stop it on B.
        started = _post(
            on_a,
            "/time/timer/start/",
            {"project": str(project.public_id), "description": "Kick-off call"},
        )
        assert started.status_code == 302
        assert RunningTimer.objects.filter(user=user, project=project).count() == 1
        timer_on_b = on_b.get("/time/timer/")
        assert timer_on_b.status_code == 200
        assert "Lighthouse" in timer_on_b.text
        assert 'data-testid="timer-stop"' in timer_on_b.text
        stopped = _post(on_b, "/time/timer/stop/", {})
        assert stopped.status_code == 302
        assert RunningTimer.objects.filter(user=user).count() == 0
        entry = TimeEntry.objects.get(user=user)
        assert (entry.project, entry.description) == (project, "Kick-off call")

        # Start an export on A, follow it and download it on B.
        job_id = _job_id(_post(on_a, "/time/export/", {}))
        assert on_b.get(f"/jobs/{job_id}/").status_code == 200

        def download_link() -> str | None:
            progress = on_b.get(f"/jobs/{job_id}/progress/")
            assert progress.status_code == 200
            assert 'data-status="failed"' not in progress.text, progress.text
            link = f'href="/jobs/{job_id}/download/"'
            return link if link in progress.text else None

        wait_until(download_link, timeout=60, message="the export did not finish")
        download = on_b.get(f"/jobs/{job_id}/download/")
        assert download.status_code == 200
        assert download.headers["content-type"] == "text/csv"
        rows = list(csv.reader(io.StringIO(download.text, newline="")))
        job = Job.objects.get(public_id=job_id)
        assert rows == read_csv(job)
        assert [row[0] for row in rows] == ["id", str(entry.public_id)]

        # A dies without a goodbye; B carries on with the same session.
        server_a.process.kill()
        with pytest.raises(httpx.TransportError):
            on_a.get("/time/timer/")
        assert on_b.get("/time/timer/").status_code == 200
        started = _post(
            on_b,
            "/time/timer/start/",
            {"project": str(project.public_id), "description": "After the crash"},
        )
        assert started.status_code == 302
        assert "Lighthouse" in on_b.get("/time/timer/").text
        assert _post(on_b, "/time/timer/stop/", {}).status_code == 302
        entry_list = on_b.get("/time/")
        assert entry_list.status_code == 200
        assert "After the crash" in entry_list.text
        assert "Kick-off call" in entry_list.text

    assert sorted(TimeEntry.objects.filter(user=user).values_list("description", flat=True)) == [
        "After the crash",
        "Kick-off call",
    ]
    assert RunningTimer.objects.filter(user=user).count() == 0
    assert Job.objects.get(public_id=job_id).status == Job.Status.SUCCEEDED
