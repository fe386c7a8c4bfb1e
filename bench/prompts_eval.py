"""Cost of evaluating the prompts for the dashboard at 100,000 time entries and 5,000
invoices, in-process (no HTTP): the queries of `prompt_list_for_user` +
`prompt_events_record_shown` and their durations, and each query family's own time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/prompts_eval.py
    .venv/bin/python bench/prompts_eval.py                       # SQLite
    .venv/bin/python bench/prompts_eval.py --entries 20000 --invoices 1000

Seeds with bench/dashboard_latency.py's `seed` (one workspace over four years, a running
timer) into a throwaway database, then runs the evaluation `--runs` times. The checklist is
evaluated as done (its state completed), as for any workspace past its first week.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import common
from dashboard_latency import EMAIL, analyze, seed


def measure(runs: int) -> dict[str, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from solodesk.accounts.models import User
    from solodesk.accounts.selectors import membership_get_current
    from solodesk.prompts.models import PromptState
    from solodesk.prompts.registry import FAMILIES, Context
    from solodesk.prompts.selectors import prompt_list_for_user
    from solodesk.prompts.services import prompt_events_record_shown

    user = User.objects.select_related("running_timer__project__client").get(email=EMAIL)
    membership = membership_get_current(user=user)
    assert membership is not None
    workspace = membership.workspace
    PromptState.objects.update_or_create(
        workspace=workspace, user=user, key="onboarding", defaults={"completed_at": timezone.now()}
    )

    def once() -> list:
        prompts = prompt_list_for_user(workspace=workspace, user=user)
        prompt_events_record_shown(workspace=workspace, user=user, prompts=prompts)
        return prompts

    prompts = once()
    with CaptureQueriesContext(connection) as captured:
        once()
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        once()
        durations.append((time.perf_counter() - started) * 1000)
    families = {}
    for name, function in FAMILIES.items():
        spent = []
        for _ in range(max(10, runs // 5)):
            ctx = Context(workspace=workspace, user=user)
            started = time.perf_counter()
            function(ctx)
            spent.append((time.perf_counter() - started) * 1000)
        families[name] = round(statistics.median(spent), 2)
    return {
        "prompts": len(prompts),
        "rules": sorted({p.rule for p in prompts}),
        "queries": len(captured.captured_queries),
        "query_starts": [q["sql"][:90] for q in captured.captured_queries],
        "p50_ms": round(common.percentile(durations, 50), 2),
        "p95_ms": round(common.percentile(durations, 95), 2),
        "family_median_ms": families,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with common.throwaway_database(ALLOWED_HOSTS="testserver", DEBUG="false") as bench:
        os.environ.pop("CACHE_URL", None)
        common.django_setup(migrate=True)
        seed(args.entries, args.invoices)
        analyze(bench.vendor)
        result = {
            "database": bench.vendor,
            "time_entries": args.entries,
            "invoices": args.invoices,
            **measure(args.runs),
        }
    common.write_result(f"prompts_eval-{bench.vendor}", result)


if __name__ == "__main__":
    main()
