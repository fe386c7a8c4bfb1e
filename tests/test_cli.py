"""The `solodesk` console script: administration commands in-process, `run` as a real
process tree."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys

import httpx
import pytest
from django.test import Client as DjangoClient

from solodesk.accounts.models import ApiToken, Membership, User, Workspace
from solodesk.accounts.selectors import api_token_authenticate
from solodesk.cli import DEMO_EMAIL, main
from solodesk.clients.models import Client
from solodesk.projects.models import Project
from solodesk.tests.factories import UserFactory
from solodesk.timetracking.models import Tag, TimeEntry
from tests.processes import (
    children,
    command_line,
    descendants,
    free_port,
    is_alive,
    wait_until,
)

PASSWORD = "plum-orchard-42"


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Workspace, Membership, ApiToken, Client, Project, TimeEntry, Tag)
    }


def test_createuser_with_token_prints_a_working_token_on_its_last_line(db, capsys):
    code = main(
        [
            "createuser",
            "--email",
            "Ada@Example.com",
            "--password",
            PASSWORD,
            "--business-name",
            "  Ada Consulting ",
            "--token",
        ]
    )

    out = capsys.readouterr().out
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "Created ada@example.com with workspace 'Ada Consulting'."
    token = lines[-1]
    assert token.startswith("sd_")
    assert " " not in token
    api_token = api_token_authenticate(raw_token=token)
    assert api_token is not None
    assert api_token.user.email == "ada@example.com"
    assert api_token.workspace.name == "Ada Consulting"
    membership = Membership.objects.get(user=api_token.user)
    assert (membership.workspace, membership.role) == (api_token.workspace, "owner")
    assert api_token.user.check_password(PASSWORD)

    response = DjangoClient().get("/api/v1/timer", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json() is None  # no timer running
    unauthenticated = DjangoClient().get("/api/v1/timer", HTTP_AUTHORIZATION="Bearer sd_wrong")
    assert unauthenticated.status_code == 401


def test_createuser_without_token_creates_no_token(db, capsys):
    code = main(
        ["createuser", "--email", "bo@example.com", "--password", PASSWORD, "--business-name", "Bo"]
    )

    assert code == 0
    assert capsys.readouterr().out == "Created bo@example.com with workspace 'Bo'.\n"
    assert User.objects.filter(email="bo@example.com").count() == 1
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize(
    ("email", "password", "business", "message"),
    [
        ("not-an-email", PASSWORD, "Ada", "error: 'not-an-email' is not a valid e-mail address."),
        (
            "ada@example.com",
            "short",
            "Ada",
            "error: This password is too short. It must contain at least 8 characters.",
        ),
        ("ada@example.com", "12345678901", "Ada", "error: This password is entirely numeric."),
        ("ada@example.com", PASSWORD, "   ", "error: --business-name cannot be empty."),
    ],
)
def test_createuser_rejects_bad_input_and_creates_nothing(
    db, capsys, email, password, business, message
):
    before = _counts()

    code = main(
        ["createuser", "--email", email, "--password", password, "--business-name", business]
    )

    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err.splitlines()
    assert captured.out == ""
    assert _counts() == before


def test_createuser_rejects_an_email_that_is_taken_and_creates_nothing(db, capsys):
    UserFactory(email="ada@example.com")
    before = _counts()

    code = main(
        [
            "createuser",
            "--email",
            "ADA@example.com",
            "--password",
            PASSWORD,
            "--business-name",
            "Ada",
            "--token",
        ]
    )

    captured = capsys.readouterr()
    assert code == 1
    assert captured.err == "error: A user with this e-mail address already exists.\n"
    assert captured.out == ""
    assert _counts() == before


def test_demo_twice_creates_the_data_once(db, capsys):
    assert main(["demo"]) == 0
    first = capsys.readouterr().out
    after_first = _counts()

    assert main(["demo"]) == 0
    second = capsys.readouterr().out

    assert first.splitlines()[0] == "Demo data loaded."
    assert second.splitlines()[0] == "Demo data already present; nothing changed."
    assert _counts() == after_first
    assert after_first["User"] == 1
    assert after_first["Client"] == 4
    assert after_first["Project"] == 7
    assert after_first["TimeEntry"] > 40
    assert User.objects.get().email == DEMO_EMAIL


def test_the_filesystem_broker_url_names_a_host_so_kombu_does_not_warn(caplog):
    """kombu logs "No hostname was supplied" each time it copies a connection without
    one: in every worker, beat and publishing process of `solodesk run` and `demo`."""
    from solodesk.config.celery_app import app

    if not app.conf.broker_url.startswith("filesystem://"):
        pytest.skip("the filesystem broker is not in use")
    with (
        caplog.at_level(logging.WARNING, logger="kombu.connection"),
        app.connection_for_write() as connection,
    ):
        connection.clone().release()

    assert "No hostname was supplied" not in caplog.text


def test_port_and_host_come_from_the_environment_unless_given(monkeypatch):
    from solodesk.cli import build_parser, listen_address

    monkeypatch.setenv("PORT", "8123")
    monkeypatch.setenv("HOST", "127.0.0.2")
    assert listen_address(build_parser().parse_args(["web"])) == ("127.0.0.2", 8123)
    assert listen_address(build_parser().parse_args(["run", "--port", "9000"])) == (
        "127.0.0.2",
        9000,
    )
    monkeypatch.delenv("PORT")
    monkeypatch.delenv("HOST")
    assert listen_address(build_parser().parse_args(["run"])) == ("127.0.0.1", 8000)


def test_run_starts_the_worker_at_nice_10_with_2_processes_unless_told(db, monkeypatch):
    """`solodesk run` starts its worker below the web tier's priority (`WORKER_NICENESS`)
    with `RUN_WORKER_CONCURRENCY` processes; --concurrency overrides it."""
    from solodesk import cli

    started: list[list[str]] = []

    class FakeProcess:
        def __init__(self, command: list[str], **kwargs: object) -> None:
            started.append(command)

    monkeypatch.setattr(cli.subprocess, "Popen", FakeProcess)
    monkeypatch.setattr(cli, "_prepare_embedded", lambda: None)
    monkeypatch.setattr(cli, "_StopSignals", lambda: None)  # keeps pytest's Ctrl-C
    monkeypatch.setattr(cli, "_supervise", lambda processes, stop: 0)

    def worker_line(argv: list[str]) -> list[str]:
        started.clear()
        assert main(argv) == 0
        (line,) = [c for c in started if "worker" in c]
        return line

    line = worker_line(["run"])
    assert line[:3] == ["nice", "-n", "10"]
    assert line[line.index("--concurrency") + 1] == "2"
    line = worker_line(["run", "--concurrency", "3"])
    assert line[line.index("--concurrency") + 1] == "3"


@pytest.mark.parametrize("bad", ["eighty", "0", "70000", "-1"])
def test_a_bad_port_is_a_clear_error(monkeypatch, bad):
    from solodesk.cli import build_parser, listen_address

    monkeypatch.setenv("PORT", bad)
    with pytest.raises(SystemExit, match="PORT must be a number from 1 to 65535"):
        listen_address(build_parser().parse_args(["web"]))


def test_demo_shows_a_living_business(db):
    from solodesk.invoicing.models import Invoice

    assert main(["demo"]) == 0

    invoices = list(Invoice.objects.order_by("pk"))
    statuses = {(invoice.kind, invoice.status) for invoice in invoices}
    assert {
        ("invoice", "issued"),
        ("invoice", "paid"),
        ("invoice", "partially_paid"),
        ("invoice", "draft"),
        ("credit_note", "issued"),
    } <= statuses
    assert any(invoice.is_overdue for invoice in invoices)
    issued = [i for i in invoices if i.kind == "invoice" and i.number]
    # Issued in date order, so the numbers follow the dates without a gap.
    assert [i.number_sequence for i in issued] == list(range(1, len(issued) + 1))
    assert [i.issue_date for i in issued] == sorted(i.issue_date for i in issued)
    from solodesk.quotes.models import Quote

    assert sorted(Quote.objects.values_list("status", flat=True)) == ["accepted", "sent"]


@pytest.mark.integration
def test_run_starts_web_worker_and_scheduler_and_stops_them_on_ctrl_c(tmp_path):
    """The embedded default from scratch: an empty data folder, SQLite, the filesystem
    broker. `solodesk run` migrates, serves pages and static files, and on SIGINT leaves no
    process behind."""
    var_dir = tmp_path / "var"
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "CELERY_", "CACHE_", "SECRET_KEY", "MEDIA_", "STATIC_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="solodesk.config.settings.production",
        SOLODESK_VAR_DIR=str(var_dir),
        DATABASE_URL=f"sqlite:///{var_dir}/db.sqlite3",
        WEB_CONCURRENCY="1",
        PYTHONUNBUFFERED="1",
    )
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        run = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "solodesk.cli",
                "run",
                "--port",
                str(port),
                "--concurrency",
                "1",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    tree: list[int] = []
    try:
        base_url = f"http://127.0.0.1:{port}"

        def printed_url() -> bool:
            assert run.poll() is None, log_path.read_text()
            return f"Solodesk is running at {base_url}/" in log_path.read_text()

        wait_until(printed_url, timeout=60, message="`solodesk run` printed no URL")

        def answers() -> httpx.Response | None:
            try:
                return httpx.get(f"{base_url}/accounts/login/", timeout=2)
            except httpx.TransportError:
                return None

        login_page = wait_until(answers, timeout=30, message="the web server did not answer")
        assert login_page.status_code == 200
        css = httpx.get(f"{base_url}/static/solodesk/app.css", timeout=5)
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        assert (var_dir / "db.sqlite3").exists()

        def three_children() -> list[str] | None:
            commands = [command_line(pid) for pid in descendants(run.pid)]
            wanted = [
                any("gunicorn" in c for c in commands),
                any("celery" in c and " worker" in c for c in commands),
                any("celery" in c and " beat" in c for c in commands),
            ]
            return commands if all(wanted) else None

        wait_until(three_children, timeout=30, message="web, worker and beat are not all up")
        direct = [command_line(pid) for pid in children(run.pid)]
        assert len(direct) == 3, direct
        tree = descendants(run.pid)

        run.send_signal(signal.SIGINT)
        run.wait(timeout=20)

        assert run.returncode == 0, log_path.read_text()
        wait_until(
            lambda: not [pid for pid in tree if is_alive(pid)],
            timeout=5,
            message="processes left after `solodesk run` exited",
        )
        assert "solodesk: stopped" in log_path.read_text()
        assert "No hostname was supplied" not in log_path.read_text()
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait(timeout=10)
        for pid in tree:
            if is_alive(pid):
                os.kill(pid, signal.SIGKILL)
