"""The payment-reminder sweep over 10,000 issued invoices with reminders due, and the time
until every reminder e-mail has been handed to a local SMTP server.

How to run it (from the project root; nothing else is needed):

    .venv/bin/python bench/reminders_sweep.py                      # SQLite, 10 000 invoices
    .venv/bin/python bench/reminders_sweep.py --invoices 2000      # a smaller run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/reminders_sweep.py                  # PostgreSQL

The database is made for the run and dropped after it (see bench/common.py).

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
import socket
import threading
import time
from decimal import Decimal

import common


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


def seed(invoices: int) -> None:
    """One workspace, 100 clients, `invoices` issued invoices of 1,210.00 EUR due 8 days ago."""
    from django.utils import timezone

    from solodesk.invoicing.models import Invoice

    workspace, _, clients = common.workspace_with_clients(100)
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


def run(invoices: int) -> dict[str, object]:
    smtp_port = _free_port()
    from aiosmtpd.controller import Controller

    handler = _CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    with common.throwaway_database(
        EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp_port), EMAIL_USE_TLS="0", EMAIL_USE_SSL="0"
    ) as bench:
        controller.start()
        try:
            common.django_setup(migrate=True)
            from django.db import connection

            from solodesk.accounts.models import Workspace
            from solodesk.reminders.models import Reminder
            from solodesk.reminders.services import (
                SWEEP_BATCH_SIZE,
                reminder_send,
                reminder_settings_ensure,
                reminders_sweep,
            )

            seeding = time.perf_counter()
            seed(invoices)
            seed_seconds = time.perf_counter() - seeding
            reminder_settings_ensure(workspace=Workspace.objects.get())
            db_version = common.database_version()

            queries = common.QueryCounter()
            started = time.perf_counter()
            with connection.execute_wrapper(queries):
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
    assert len(result.queued) == invoices, result
    assert handler.count == invoices, handler.count
    assert again.queued == [], again
    return {
        "benchmark": "reminder sweep + send (in-process loop of reminder_send, aiosmtpd)",
        "database": bench.vendor,
        "database_version": db_version,
        "invoices": invoices,
        "batch_size": SWEEP_BATCH_SIZE,
        "seed_s": round(seed_seconds, 1),
        "sweep_s": round(sweep_seconds, 3),
        "sweep_queries": queries.count,
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
        **common.machine_info(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    args = parser.parse_args()
    result = run(args.invoices)
    common.write_result(f"reminders_sweep-{result['database']}", result)


if __name__ == "__main__":
    main()
