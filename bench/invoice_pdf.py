"""How long an invoice PDF takes to render, and how long the send request takes instead.

How to run it (from the project root; nothing else is needed):

    .venv/bin/python bench/invoice_pdf.py                    # SQLite, N=30
    .venv/bin/python bench/invoice_pdf.py -n 50              # more samples
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/invoice_pdf.py                # PostgreSQL

Everything runs in one process with the test settings (locmem e-mail, files under a
temporary folder) against a throwaway database: Django's test database machinery creates
`test_<name>` (SQLite: a file in the temporary folder) and drops it at the end. The real
filesystem broker is used, in the temporary folder, so the send request pays for the
enqueue after commit exactly as in `solodesk run`; no worker consumes it.

Measured:
- `render_10_lines` / `render_60_lines`: `invoice_pdf_render` on an issued invoice with 10
  (one page) and 60 lines (several pages: laid out twice, see pdf.py), N times each after
  two warm-up renders (the very first render loads fonts; reported as `cold_first_render_ms`).
  PDFs per second per worker process = 1000 / mean ms (a worker renders one at a time).
- `task_10_lines`: the whole PDF task as a worker runs it (job_claim, load, render, store,
  targeted UPDATE, copy to the job's result), the stored PDF made stale before each run.
- `send_request`: `POST /api/v1/invoices/{id}/send` through Django's test Client with a
  bearer token, N times: authentication, the lock, the delivery and job rows, the commit
  and the enqueue. Compared with rendering the same invoice synchronously.
Results are printed and written to bench/results/invoice_pdf-<sqlite|postgresql>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import common


def _stats(samples_ms: list[float]) -> dict[str, float]:
    # A worker renders one PDF at a time: per second = 1000 / mean ms.
    return {
        **common.stats_ms(samples_ms),
        "per_second": round(1000 / statistics.fmean(samples_ms), 2),
    }


def _timed(action, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _seed(lines: int, *, workspace, user, client, issue_date: dt.date):
    from solodesk.invoicing import services

    descriptions = [
        "Website redesign: discovery workshop, wireframes and design review",
        "Backend development: invoicing API endpoints and tests",
        "Project management and client meetings",
        "Hosting and deployment setup",
    ]
    draft = services.invoice_create_draft(
        workspace=workspace,
        user=user,
        client=client,
        lines=[
            {
                "description": f"{descriptions[index % 4]} (week {index + 1})",
                "quantity": Decimal("3.25") + index % 5,
                "unit": "hours",
                "unit_price": Decimal("95.00"),
                "tax_rate": Decimal("21") if index % 4 else Decimal("0"),
            }
            for index in range(lines)
        ],
        discount_type="percent",
        discount_value=Decimal("5"),
        notes="Thank you for your business.",
    )
    return services.invoice_issue(invoice=draft, user=user, issue_date=issue_date)


def run(n: int) -> dict[str, object]:
    from django.test import Client as DjangoClient

    from solodesk.accounts.models import Membership, User, Workspace
    from solodesk.clients.models import Client
    from solodesk.core.models import Job
    from solodesk.core.services import job_create
    from solodesk.invoicing import pdf
    from solodesk.invoicing.models import Invoice, InvoiceDelivery
    from solodesk.invoicing.tasks import invoice_pdf_task
    from solodesk.tests.factories import make_api_token

    workspace = Workspace.objects.create(
        name="Bench Studio",
        address="Calle Mayor 12\n28013 Madrid\nSpain",
        tax_id="ESB12345678",
        payment_details="IBAN ES91 2100 0418 4502 0005 1332\nBIC CAIXESBBXXX",
    )
    user = User.objects.create_user(email="bench@example.com", password=None)
    Membership.objects.create(workspace=workspace, user=user, role="owner")
    client = Client.objects.create(
        workspace=workspace,
        name="Acme Robotics GmbH",
        email="accounts@acme.example",
        address="Hauptstrasse 5\n10115 Berlin",
        tax_id="DE123456789",
        currency="EUR",
    )
    ten = _seed(10, workspace=workspace, user=user, client=client, issue_date=dt.date(2026, 3, 2))
    sixty = _seed(60, workspace=workspace, user=user, client=client, issue_date=dt.date(2026, 3, 3))

    started = time.perf_counter()
    pdf.invoice_pdf_render(invoice=ten)
    cold_ms = (time.perf_counter() - started) * 1000
    pdf.invoice_pdf_render(invoice=ten)
    pdf.invoice_pdf_render(invoice=sixty)
    render_10 = _timed(lambda: pdf.invoice_pdf_render(invoice=ten), n)
    render_60 = _timed(lambda: pdf.invoice_pdf_render(invoice=sixty), n)
    pdf_bytes_10 = len(pdf.invoice_pdf_render(invoice=ten))
    pdf_bytes_60 = len(pdf.invoice_pdf_render(invoice=sixty))

    def task_once() -> None:
        Invoice.objects.filter(pk=ten.pk).update(pdf_state="stale")
        job = job_create(
            workspace=workspace,
            owner=user,
            kind=Job.Kind.INVOICE_PDF,
            task_name=pdf.PDF_TASK,
            params={"invoice_id": ten.pk},
        )
        invoice_pdf_task(job.pk)

    # Jobs are enqueued on commit; outside a transaction (autocommit) that is at once, into
    # the filesystem broker nobody reads: the task is called here directly.
    task_10 = _timed(task_once, max(5, n // 3))
    assert Job.objects.filter(kind=Job.Kind.INVOICE_PDF, status=Job.Status.SUCCEEDED).count() == (
        len(task_10)
    )

    api = DjangoClient(
        HTTP_AUTHORIZATION=f"Bearer {make_api_token(user=user, workspace=workspace)}"
    )
    url = f"/api/v1/invoices/{ten.public_id}/send"

    def send_once() -> None:
        response = api.post(url, data={}, content_type="application/json")
        assert response.status_code == 202, response.content

    send_once()  # warm-up: URL resolving, the first token lookup
    send = _timed(send_once, n)
    deliveries = InvoiceDelivery.objects.filter(invoice=ten).count()
    assert deliveries == n + 1, deliveries

    from django.conf import settings

    queue = Path(settings.CELERY_BROKER_DIR) / "queue"
    broker_messages = sum(1 for _ in queue.iterdir()) if queue.is_dir() else 0
    render_10_stats = _stats(render_10)
    send_stats = _stats(send)
    return {
        "cold_first_render_ms": round(cold_ms, 1),
        "render_10_lines": {**render_10_stats, "pdf_bytes": pdf_bytes_10},
        "render_60_lines": {**_stats(render_60), "pdf_bytes": pdf_bytes_60},
        "task_10_lines": _stats(task_10),
        "send_request": {**send_stats, "broker_messages_written": broker_messages},
        "send_p50_vs_render_p50": (
            f"{send_stats['p50_ms']} ms vs {render_10_stats['p50_ms']} ms "
            f"({render_10_stats['p50_ms'] / send_stats['p50_ms']:.0f}x faster)"
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=30, help="samples per measurement (30)")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="solodesk-bench-pdf-") as folder,
        common.test_database(Path(folder)) as vendor,
    ):
        result = run(args.n)

    import weasyprint

    result = {
        "benchmark": "invoice_pdf",
        "database": vendor,
        "n": args.n,
        **common.machine_info(at="recorded_at", weasyprint=weasyprint.__version__),
        **result,
    }
    common.write_result(f"invoice_pdf-{vendor}", result)


if __name__ == "__main__":
    main()
