"""The recurring-invoice sweep over 1,000 due monthly profiles with 6 missed months each,
the query count of one sweep batch at two sizes, and the cost of one run task.

How to run it (from the project root; nothing else is needed):

    .venv/bin/python bench/recurring_sweep.py                      # SQLite, 1 000 profiles
    .venv/bin/python bench/recurring_sweep.py --profiles 200       # a smaller run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/recurring_sweep.py                  # PostgreSQL

The database is made for the run and dropped after it (see bench/common.py).

Everything runs in this process, through the services, with the broker hand-off mocked
(`solodesk.config.celery_app.app.send_task` is replaced by a mock, as in the test suite's
`run_broker` fixture): no Celery worker, no broker. The profiles are created with
`recurring_profile_create` (monthly on the 1st, one 1,000.00 line at 21 %, start date the
1st of the month five months ago, so six periods are due today). Then:

1. `recurring_sweep()` — what beat runs every five minutes — timed once, with its query
   count and the time and queries of each batch (`SWEEP_BATCH_SIZE` profiles each);
2. the run task, `recurring_run_task(run_id)` called in-process (claim, create the draft
   invoice, its activity and the profile's, mark the run succeeded), for the first
   period's run of `--runs` different profiles: mean, p50, p95;
3. the query count of one sweep batch (`recurring_runs_schedule`) captured with Django's
   `CaptureQueriesContext` at two sizes (`--batch-sizes`, fresh due profiles each time),
   the post-commit hand-off included, with the queries listed.

The figures are printed and written as JSON to bench/results/recurring_sweep-<db>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import time
from collections import Counter
from decimal import Decimal
from typing import Any
from unittest import mock

import common

MISSED_MONTHS = 6
SEND_TASK = "solodesk.config.celery_app.app.send_task"


def _describe_query(sql: str) -> str:
    """ "SELECT recurring_recurringprofile", "INSERT recurring_recurringrun", …"""
    verb = sql.split(None, 1)[0].upper() if sql.strip() else "?"
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql, re.IGNORECASE)
    return f"{verb} {table.group(1)}" if table else verb


def seed_profiles(workspace: Any, user: Any, clients: list[Any], count: int, prefix: str) -> None:
    """`count` monthly profiles on the 1st, started MISSED_MONTHS - 1 months before this
    month, so that MISSED_MONTHS periods are due today — created through the service."""
    from django.utils import timezone

    from solodesk.recurring.services import recurring_profile_create

    today = timezone.localdate(timezone=workspace.tzinfo)
    total = today.year * 12 + today.month - 1 - (MISSED_MONTHS - 1)
    start = dt.date(total // 12, total % 12 + 1, 1)
    for index in range(count):
        recurring_profile_create(
            workspace=workspace,
            user=user,
            client=clients[index % len(clients)],
            name=f"{prefix} {index}",
            start_date=start,
            frequency="monthly",
            day_of_month=1,
            lines=[
                {
                    "description": "Retainer",
                    "quantity": Decimal("1"),
                    "unit": "pieces",
                    "unit_price": Decimal("1000.00"),
                    "tax_rate": Decimal("21"),
                }
            ],
        )


def run(profiles: int, runs: int, batch_sizes: list[int]) -> dict:
    send_task = mock.patch(SEND_TASK)
    with common.throwaway_database() as bench:
        try:
            common.django_setup(migrate=True)
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            from solodesk.invoicing.models import Invoice
            from solodesk.recurring import services
            from solodesk.recurring.models import RecurringRun
            from solodesk.recurring.tasks import recurring_run_task

            db_version = common.database_version()
            broker = send_task.start()

            seeding = time.perf_counter()
            workspace, user, clients = common.workspace_with_clients()
            seed_profiles(workspace, user, clients, profiles, "Retainer")
            seed_seconds = time.perf_counter() - seeding

            queries = common.QueryCounter()

            # 1. One sweep, timed, with the time and queries of each batch.
            batches: list[dict[str, object]] = []
            schedule = services.recurring_runs_schedule

            def timed_batch(**kwargs: Any) -> int:
                before, started = queries.count, time.perf_counter()
                handled = schedule(**kwargs)
                batches.append(
                    {
                        "profiles": handled,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                        "queries": queries.count - before,
                    }
                )
                return handled

            with (
                mock.patch.object(services, "recurring_runs_schedule", timed_batch),
                connection.execute_wrapper(queries),
            ):
                started = time.perf_counter()
                handled = services.recurring_sweep()
                sweep_seconds = time.perf_counter() - started
            sweep_queries = queries.count
            runs_created = RecurringRun.objects.count()
            handed_off = broker.call_count
            assert handled == profiles, handled
            assert runs_created == profiles * MISSED_MONTHS, runs_created
            assert handed_off == runs_created, handed_off
            assert not RecurringRun.objects.filter(enqueued_at=None).exists()

            # 2. The run task for the first period of `runs` profiles (no earlier period
            #    queued, so each call creates exactly one invoice).
            run_ids = list(
                RecurringRun.objects.filter(period_index=0)
                .order_by("period_start", "pk")
                .values_list("pk", flat=True)[:runs]
            )
            samples: list[float] = []
            run_queries: list[int] = []
            with connection.execute_wrapper(queries):
                for run_id in run_ids:
                    before, started = queries.count, time.perf_counter()
                    recurring_run_task(run_id)
                    samples.append((time.perf_counter() - started) * 1000)
                    run_queries.append(queries.count - before)
            succeeded = RecurringRun.objects.filter(status=RecurringRun.Status.SUCCEEDED).count()
            drafts = Invoice.objects.filter(status=Invoice.Status.DRAFT).count()
            assert succeeded == len(run_ids) == drafts, (succeeded, drafts)

            # 3. Queries of one sweep batch at two sizes, fresh due profiles each time.
            per_batch: list[dict[str, object]] = []
            for size in batch_sizes:
                seed_profiles(workspace, user, clients, size, f"Batch {size}")
                before_runs = RecurringRun.objects.count()
                with CaptureQueriesContext(connection) as captured:
                    handled_now = services.recurring_runs_schedule()
                assert handled_now == size, handled_now
                new_runs = RecurringRun.objects.count() - before_runs
                assert new_runs == size * MISSED_MONTHS, new_runs
                per_batch.append(
                    {
                        "profiles": size,
                        "runs": new_runs,
                        "queries": len(captured.captured_queries),
                        "what": [_describe_query(q["sql"]) for q in captured.captured_queries],
                    }
                )
            connection.close()
        finally:
            send_task.stop()
    return {
        "benchmark": (
            "recurring sweep + run task, in-process through the services "
            "(broker hand-off mocked: celery app.send_task replaced by unittest.mock)"
        ),
        "database": bench.vendor,
        "database_version": db_version,
        "profiles": profiles,
        "missed_months_per_profile": MISSED_MONTHS,
        "sweep_batch_size": services.SWEEP_BATCH_SIZE,
        "seed_s": round(seed_seconds, 1),
        "sweep": {
            "ms": round(sweep_seconds * 1000, 1),
            "profiles_handled": handled,
            "runs_created": runs_created,
            "runs_handed_to_mocked_broker": handed_off,
            "queries": sweep_queries,
            "batches": len(batches),
            "per_batch": batches,
        },
        "run_task": {
            **common.stats_ms(samples),
            "queries_per_run": dict(Counter(run_queries)),
            "invoices_created": drafts,
        },
        "queries_per_sweep_batch": per_batch,
        **common.machine_info(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--batch-sizes",
        default="10,100",
        help="profiles in the two sweep batches whose queries are counted (default 10,100)",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.batch_sizes.split(",")]
    result = run(args.profiles, args.runs, sizes)
    common.write_result(f"recurring_sweep-{result['database']}", result)


if __name__ == "__main__":
    main()
