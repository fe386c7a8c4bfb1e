"""Webhooks: what an event costs the request that emits it, how fast deliveries reach a
local receiver, and what the sweeper costs over many due deliveries and overdue invoices.

How to run it (from the project root):

    .venv/bin/python bench/webhooks_delivery.py                      # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/webhooks_delivery.py                  # PostgreSQL

The database is made for the run and dropped after it (see bench/common.py).

Everything runs in this process (no Celery worker; the broker hand-off is replaced by a
counter), against an http.server receiver on 127.0.0.1 that answers 200:

1. `webhook_event_record` in a transaction, with no endpoint (the cost every workspace
   without webhooks pays) and with one subscribed endpoint: queries and mean time;
2. `webhook_delivery_attempt` for `--deliveries` deliveries in a loop (claim, sign, POST,
   record): p50 / p95 per delivery and deliveries per second;
3. one sweep with `--deliveries` pending deliveries left by a broker outage: time and
   query count (one batch of 500 is handed over), and the same with 10× fewer;
4. one sweep over `--invoices` overdue invoices: invoice.overdue events emitted (one batch)
   and its query count; a second sweep emits the next batch, none twice.

The figures are printed and written as JSON to bench/results/webhooks_delivery-<db>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import common


class _Handler(BaseHTTPRequestHandler):
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with _Handler.lock:
            _Handler.received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def run(deliveries: int, invoices: int) -> dict[str, object]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    receiver_url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    result: dict[str, object] = {}
    with common.throwaway_database() as bench:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            common.django_setup(migrate=True)
            from django.db import connection, transaction
            from django.utils import timezone

            from solodesk.accounts.models import Membership, User, Workspace
            from solodesk.clients.models import Client
            from solodesk.invoicing.models import Invoice
            from solodesk.webhooks import services
            from solodesk.webhooks.models import WebhookDelivery, WebhookEvent

            quiet = Workspace.objects.create(name="No webhooks")
            workspace = Workspace.objects.create(name="Bench Studio", time_zone="Europe/Berlin")
            user = User.objects.create_user(email="bench@example.com", password=None)
            Membership.objects.create(workspace=workspace, user=user, role="owner")
            endpoint = services.webhook_endpoint_create(
                workspace=workspace, user=user, url=receiver_url, events=["invoice.paid"]
            )
            payload = {"id": "x", "total": Decimal("1210.00"), "currency": "EUR"}
            handed: list[int] = []
            fake_broker = mock.patch.object(
                services, "_send_to_broker", lambda task, ids: handed.extend(ids)
            )
            fake_broker.start()

            def emit(ws: Workspace, count: int) -> tuple[float, int]:
                counter = common.QueryCounter()
                started = time.perf_counter()
                with connection.execute_wrapper(counter):
                    for _ in range(count):
                        with transaction.atomic():
                            services.webhook_event_record(
                                workspace=ws, event_type="invoice.paid", payload=payload
                            )
                return (time.perf_counter() - started) / count * 1000, counter.count // count

            # 1. Emitting. Per call: savepoint/transaction statements are counted by some
            # backends, so the query figure is per emission including them.
            result["emit_no_endpoint_ms"], result["emit_no_endpoint_queries"] = emit(quiet, 1000)
            result["emit_one_endpoint_ms"], result["emit_one_endpoint_queries"] = emit(
                workspace, deliveries
            )
            # 2. Delivering, one after another, in this process.
            ids = list(WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True))
            durations = []
            started = time.perf_counter()
            for delivery_id in ids:
                one = time.perf_counter()
                services.webhook_delivery_attempt(delivery_id=delivery_id)
                durations.append((time.perf_counter() - one) * 1000)
            elapsed = time.perf_counter() - started
            result["deliveries"] = len(ids)
            result["delivery_p50_ms"] = round(statistics.median(durations), 2)
            result["delivery_p95_ms"] = round(statistics.quantiles(durations, n=20)[18], 2)
            result["deliveries_per_s"] = round(len(ids) / elapsed, 1)
            result["received"] = _Handler.received
            result["succeeded"] = WebhookDelivery.objects.filter(status="succeeded").count()
            # 3. The sweep over pending deliveries (a broker outage), at two sizes.
            for label, count in (("small", deliveries // 10), ("large", deliveries)):
                WebhookDelivery.objects.all().delete()
                WebhookEvent.objects.all().delete()
                long_ago = timezone.now() - dt.timedelta(hours=1)
                events = WebhookEvent.objects.bulk_create(
                    WebhookEvent(workspace=workspace, event_type="ping") for _ in range(count)
                )
                WebhookDelivery.objects.bulk_create(
                    WebhookDelivery(event=e, endpoint=endpoint, next_attempt_at=long_ago)
                    for e in events
                )
                handed.clear()
                counter = common.QueryCounter()
                started = time.perf_counter()
                with connection.execute_wrapper(counter):
                    swept = services.webhook_deliveries_sweep()
                result[f"sweep_{label}_pending"] = count
                result[f"sweep_{label}_ms"] = round((time.perf_counter() - started) * 1000, 1)
                result[f"sweep_{label}_queries"] = counter.count
                result[f"sweep_{label}_handed_over"] = swept["deliveries"]
            # 4. invoice.overdue over many overdue invoices.
            services.webhook_endpoint_update(endpoint=endpoint, events=["invoice.overdue"])
            client = Client.objects.create(workspace=workspace, name="Acme", currency="EUR")
            due = timezone.now().date() - dt.timedelta(days=10)
            Invoice.objects.bulk_create(
                Invoice(
                    workspace=workspace,
                    client=client,
                    status=Invoice.Status.ISSUED,
                    number=f"2026-{n + 1:05d}",
                    number_year=2026,
                    number_sequence=n + 1,
                    currency="EUR",
                    issue_date=due - dt.timedelta(days=30),
                    due_date=due,
                    total=Decimal("1210.00"),
                    subtotal=Decimal("1000.00"),
                    tax_total=Decimal("210.00"),
                )
                for n in range(invoices)
            )
            for sweep in (1, 2):
                counter = common.QueryCounter()
                started = time.perf_counter()
                with connection.execute_wrapper(counter):
                    emitted = services.webhook_overdue_events_emit()
                result[f"overdue_sweep{sweep}_emitted"] = emitted
                result[f"overdue_sweep{sweep}_ms"] = round(
                    (time.perf_counter() - started) * 1000, 1
                )
                result[f"overdue_sweep{sweep}_queries"] = counter.count
            result["overdue_events_distinct"] = (
                WebhookEvent.objects.filter(event_type="invoice.overdue")
                .values("invoice_id")
                .distinct()
                .count()
            )
            result["database_version"] = common.database_version()
            fake_broker.stop()
            connection.close()
        finally:
            server.shutdown()
    for key in ("emit_no_endpoint_ms", "emit_one_endpoint_ms"):
        result[key] = round(float(result[key]), 3)  # type: ignore[arg-type]
    return {
        "benchmark": "webhooks: emit, deliver to a local receiver, sweep",
        "database": bench.vendor,
        **result,
        **common.machine_info(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--invoices", type=int, default=2000)
    args = parser.parse_args()
    result = run(args.deliveries, args.invoices)
    common.write_result(f"webhooks_delivery-{result['database']}", result)


if __name__ == "__main__":
    main()
