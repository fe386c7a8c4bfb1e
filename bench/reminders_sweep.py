"""The payment-reminder sweep over 10,000 issued invoices with reminders due, and the time
until every reminder e-mail has been handed to a local SMTP server.

How to run it (from the project root; nothing else is needed):

    .venv/bin/python bench/reminders_sweep.py                      # SQLite, 10 000 invoices
    .venv/bin/python bench/reminders_sweep.py --invoices 2000      # a smaller run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/reminders_sweep.py                  # PostgreSQL

SQLite runs in a throwaway file under a temporary folder; with a PostgreSQL DATABASE_URL the
script creates a throwaway database `solodesk_bench_<random>` and drops it at the end.

The invoices are seeded with bulk_create, issued, due 8 days ago (so the default stages
−3, 0 and 7 are all due: the sweep's catch-up queues stage 7 and records the two earlier
ones as skipped — 3 rows and one e-mail per invoice). Then, in this process:

1. `reminders_sweep(enqueue=False)` — the sweep itself, timed, with its query count;
2. the send task's work, `reminder_send(reminder_id=…)`, called in-process in a loop for
   every queued reminder (no Celery worker: this measures the per-reminder cost, one SMTP
   connection per e-mail as the worker does), against an aiosmtpd server on 127.0.0.1
   that counts what it receives;
3. a second sweep, which must queue nothing.

The figures are printed and written as JSON to bench/results/reminders_sweep-<db>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _CountingHandler:
    def __init__(self) -> None:
        self.count = 0
        self.recipients: set[str] = set()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        with self.lock:
            self.count += 1
            self.recipients.update(envelope.rcpt_tos)
        return "250 OK"


def _postgres_throwaway(url: str) -> tuple[str, Callable[[], None]]:
    import psycopg

    parts = urlsplit(url)
    name = f"solodesk_bench_{secrets.token_hex(4)}"
    admin_dsn = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", "")), drop


def seed(invoices: int) -> None:
    """One workspace, 100 clients, `invoices` issued invoices of 1,210.00 EUR due 8 days ago."""
    from django.db import transaction
    from django.utils import timezone

    from solodesk.accounts.models import Membership, User, Workspace
    from solodesk.clients.models import Client
    from solodesk.invoicing.models import Invoice

    with transaction.atomic():
        workspace = Workspace.objects.create(name="Bench Studio", time_zone="Europe/Berlin")
        user = User.objects.create_user(email="bench@example.com", password=None)
        Membership.objects.create(workspace=workspace, user=user, role="owner")
        clients = Client.objects.bulk_create(
            Client(
                workspace=workspace,
                name=f"Client {i}",
                email=f"billing{i}@client{i}.example",
                currency="EUR",
            )
            for i in range(100)
        )
    today = timezone.now().astimezone(workspace.tzinfo).date()
    due = today - dt.timedelta(days=8)
    issued = due - dt.timedelta(days=30)
    batch = []
    for index in range(invoices):
        client = clients[index % 100]
        batch.append(
            Invoice(
                workspace=workspace,
                client=client,
                status=Invoice.Status.ISSUED,
                number=f"{issued.year}-{index + 1:05d}",
                number_year=issued.year,
                number_sequence=index + 1,
                currency="EUR",
                issue_date=issued,
                due_date=due,
                seller={"name": "Bench Studio"},
                buyer={"name": client.name, "email": client.email},
                subtotal=Decimal("1000.00"),
                tax_total=Decimal("210.00"),
                total=Decimal("1210.00"),
                issued_at=timezone.now(),
            )
        )
        if len(batch) == 2000:
            Invoice.objects.bulk_create(batch)
            batch = []
    Invoice.objects.bulk_create(batch)


def run(invoices: int, database_url: str | None) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="solodesk-bench-"))
    drop = None
    if database_url and database_url.startswith(("postgres://", "postgresql://")):
        database_url, drop = _postgres_throwaway(database_url)
        vendor = "postgresql"
    elif database_url:
        raise SystemExit("DATABASE_URL must be a PostgreSQL URL, or unset for SQLite")
    else:
        database_url = f"sqlite:///{tmp}/bench.sqlite3"
        vendor = "sqlite"
    smtp_port = _free_port()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="solodesk.config.settings.production",
        DATABASE_URL=database_url,
        SOLODESK_VAR_DIR=str(tmp / "var"),
        MEDIA_ROOT=str(tmp / "media"),
        SECRET_KEY=secrets.token_urlsafe(40),
        LOG_LEVEL="WARNING",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_USE_TLS="0",
        EMAIL_USE_SSL="0",
    )
    from aiosmtpd.controller import Controller

    handler = _CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from solodesk.accounts.models import Workspace
        from solodesk.reminders.models import Reminder
        from solodesk.reminders.services import (
            SWEEP_BATCH_SIZE,
            reminder_send,
            reminder_settings_ensure,
            reminders_sweep,
        )

        call_command("migrate", verbosity=0)
        seeding = time.perf_counter()
        seed(invoices)
        seed_seconds = time.perf_counter() - seeding
        reminder_settings_ensure(workspace=Workspace.objects.get())
        with connection.cursor() as cursor:
            cursor.execute(
                "select sqlite_version()" if vendor == "sqlite" else "show server_version"
            )
            db_version = cursor.fetchone()[0]

        queries = 0

        def count_queries(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count_queries):
            result = reminders_sweep(enqueue=False)
        sweep_seconds = time.perf_counter() - started
        sending = time.perf_counter()
        for reminder_id in result.queued:
            reminder_send(reminder_id=reminder_id)
        while handler.count < len(result.queued) and time.perf_counter() - sending < 60:
            time.sleep(0.01)
        send_seconds = time.perf_counter() - sending
        total_seconds = time.perf_counter() - started
        again = reminders_sweep(enqueue=False)
        statuses = {
            status: Reminder.objects.filter(status=status).count()
            for status in ("queued", "sending", "sent", "skipped", "failed")
        }
        connection.close()
    finally:
        controller.stop()
        if drop:
            from django.db import connections

            connections.close_all()
            drop()
        shutil.rmtree(tmp, ignore_errors=True)
    assert len(result.queued) == invoices, result
    assert handler.count == invoices, handler.count
    assert again.queued == [], again
    return {
        "benchmark": "reminder sweep + send (in-process loop of reminder_send, aiosmtpd)",
        "database": vendor,
        "database_version": db_version,
        "invoices": invoices,
        "batch_size": SWEEP_BATCH_SIZE,
        "seed_s": round(seed_seconds, 1),
        "sweep_s": round(sweep_seconds, 3),
        "sweep_queries": queries,
        "sweep_batches": result.batches,
        "queued": len(result.queued),
        "skipped_recorded": result.skipped,
        "send_s": round(send_seconds, 2),
        "emails_per_s": round(invoices / send_seconds, 1),
        "total_s": round(total_seconds, 2),
        "emails_received": handler.count,
        "distinct_recipients": len(handler.recipients),
        "second_sweep_queued": len(again.queued),
        "rows_by_status": statuses,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    args = parser.parse_args()
    result = run(args.invoices, os.environ.get("DATABASE_URL"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"reminders_sweep-{result['database']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
