"""Issue 6's results as one table per benchmark: the target, the measured value, and met or
missed by how much. Reads bench/results/*.json (BENCH_RESULTS_DIR when set), prints the
tables and writes them into docs/performance.md between the markers
`<!-- bench:begin -->` and `<!-- bench:end -->` (the rest of the file is kept).

    .venv/bin/python bench/report.py              # print and write docs/performance.md
    .venv/bin/python bench/report.py --print-only

Each benchmark is optional: a missing or unreadable result file is listed as "not run".
Read: http_load-postgresql.json (bench/http_load.py), orm_discipline-<db>.json,
raw_floor-postgresql.json, peer_timetagger.json, and seed*.json when a seed timing was
written (else the seed timing http_load recorded).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


# --- reading ---------------------------------------------------------------------------------


def read(results: Path, *names: str) -> dict[str, Any] | None:
    """The first of `names` that exists and parses (a name may be a glob)."""
    for name in names:
        for path in sorted(results.glob(name)):
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(data, dict):
                data.setdefault("_file", path.name)
                return data
    return None


def dig(data: Any, *keys: Any) -> Any:
    """data[k1][k2]... or None anywhere along the way."""
    for key in keys:
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and -len(data) <= key < len(data):
            data = data[key]
        else:
            return None
    return data


# --- verdicts --------------------------------------------------------------------------------


def number(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    else:
        text = f"{value:,}" if isinstance(value, int) else str(value)
    return f"{text} {unit}".strip()


def at_most(measured: Any, target: float, unit: str = "ms") -> str:
    """Verdict for "measured ≤ target"."""
    if not isinstance(measured, int | float):
        return "not measured"
    if measured <= target:
        return "met"
    over = measured - target
    return f"missed by {number(round(over, 2), unit)} (+{over / target:.0%})"


def at_least(measured: Any, target: float, unit: str = "×") -> str:
    """Verdict for "measured ≥ target"."""
    if not isinstance(measured, int | float):
        return "not measured"
    if measured >= target:
        return "met"
    short = target - measured
    return f"missed by {number(round(short, 2), unit)} (−{short / target:.0%})"


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    align = ["---" if i == 0 else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += [
        "| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows
    ]
    return lines


def about(data: dict[str, Any]) -> str:
    """Where and when a result was measured."""
    parts = [f"`{data.get('_file')}`"]
    if data.get("scale"):
        parts.append(f"scale {data['scale']}")
    if data.get("database"):
        version = data.get("database_version")
        parts.append(f"{data['database']} {version}" if version else str(data["database"]))
    if data.get("measured_at"):
        parts.append(f"measured {data['measured_at']}")
    loads = [data.get("load_average_before"), data.get("load_average_after")]
    if any(value is not None for value in loads):
        parts.append("load average " + " → ".join(number(v) for v in loads if v is not None))
    if data.get("machine"):
        parts.append(str(data["machine"]))
    return "; ".join(parts)


# --- sections --------------------------------------------------------------------------------

LATENCY_TARGETS = {
    # endpoint: [(field at 1 client, target ms)]
    "dashboard": [("p50_ms", 30), ("p99_ms", 100)],
    "time_entry_api_list": [("p50_ms", 15)],
    "invoice_list": [("p50_ms", 25)],
    "yearly_report": [("p50_ms", 300)],
}


def section_latency(http: dict[str, Any] | None) -> list[str]:
    lines = ["### 1. Latency and throughput (`bench/http_load.py`)", ""]
    if http is None:
        return [*lines, "Not run.", ""]
    lines += [about(http), ""]
    rows = []
    for name, endpoint in (http.get("endpoints") or {}).items():
        label = endpoint.get("label", name)
        if endpoint.get("status") == "not built":
            rows.append([label, "—", "—", "—", "—", "—", "—", "not built", "not measured"])
            continue
        runs = sorted((k for k in endpoint if k.isdigit()), key=int)
        for concurrency in runs:
            run = endpoint[concurrency]
            targets = LATENCY_TARGETS.get(name, []) if concurrency == "1" else []
            target_text = ", ".join(f"{f[:-3]} ≤ {t} ms" for f, t in targets) or "—"
            verdicts = [f"{f[:-3]}: {at_most(run.get(f), t)}" for f, t in targets]
            rows.append(
                [
                    label,
                    concurrency,
                    number(run.get("p50_ms")),
                    number(run.get("p95_ms")),
                    number(run.get("p99_ms")),
                    number(run.get("rps")),
                    f"{run.get('errors', 0)} / {run.get('requests', 0)}",
                    target_text,
                    "; ".join(verdicts) or "—",
                ]
            )
    header = [
        "endpoint",
        "clients",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "req/s",
        "errors",
        "target (1 client)",
        "result",
    ]
    lines += table(header, rows)
    lines += [
        "",
        "The yearly report's 300 ms target is applied to its p50 at 1 client (p99 shown).",
        "",
    ]
    inside = {
        endpoint.get("label", name): (run["in_process"], run.get("p50_ms"))
        for name, endpoint in (http.get("endpoints") or {}).items()
        if isinstance(run := endpoint.get("1"), dict) and run.get("in_process")
    }
    if inside:
        samples = next(iter(inside.values()))[0]["requests"]
        measured = "; ".join(
            f"{label}: {number(own['wall_p50_ms'])} ms wall, {number(own['cpu_p50_ms'])} ms "
            f"CPU (HTTP p50 {number(p50)})"
            for label, (own, p50) in inside.items()
        )
        lines += [
            "The same GETs in the bench's process right after their 1-client runs (Django's "
            f"test client, no HTTP; p50 of {samples}): {measured}.",
            "",
        ]
    return lines


def section_queries(http: dict[str, Any] | None) -> list[str]:
    lines = ["### 2. Query counts, small vs the run's scale", ""]
    counts = dig(http, "query_counts")
    if not counts:
        return [*lines, "Not run.", ""]
    scale = http.get("scale", "run") if http else "run"
    rows = []
    for name, row in counts.items():
        at_scale = row.get("at_scale", row.get(scale))
        if row.get("status") == "not built":
            rows.append([name, "—", "—", "not built"])
            continue
        verdict = "met (equal)" if row.get("equal") else f"missed: {row.get('small')} ≠ {at_scale}"
        rows.append([name, number(row.get("small")), number(at_scale), verdict])
    shown = f"queries at {scale}" if scale != "small" else "queries at small (the same run)"
    lines += table(["request", "queries at small", shown, "result"], rows)
    heaviest = dig(http, "heaviest_queries") or []
    if heaviest:
        explain = dig(http, "explain")
        where = f" (EXPLAIN (ANALYZE, BUFFERS) in `{explain}`)" if explain else ""
        lines += ["", f"The three heaviest queries (server time) at {scale}{where}:", ""]
        lines += [
            f"- {q.get('endpoint')}: {number(q.get('ms'), 'ms')}, `{str(q.get('sql', ''))[:90]}…`"
            for q in heaviest
        ]
    return [*lines, ""]


def section_orm(orm: dict[str, Any] | None) -> list[str]:
    lines = ["### 3. What the ORM discipline buys (`bench/orm_discipline.py`)", ""]
    if orm is None:
        return [*lines, "Not run.", ""]
    lines += [about(orm), ""]
    rows = []
    for name, row in (orm.get("lists") or {}).items():
        target = row.get("target_query_ratio", 20)
        rows.append(
            [
                name,
                number(row.get("queries_shipped")),
                number(row.get("queries_naive")),
                number(row.get("query_ratio"), "×"),
                number(row.get("p50_ms_shipped")),
                number(row.get("p50_ms_naive")),
                number(row.get("time_ratio"), "×"),
                f"≥ {target}×",
                at_least(row.get("query_ratio"), target),
            ]
        )
    header = [
        "list",
        "queries shipped",
        "queries naive",
        "query ratio",
        "p50 ms shipped",
        "p50 ms naive",
        "time ratio",
        "target",
        "result",
    ]
    return [*lines, *table(header, rows), ""]


def section_raw(raw: dict[str, Any] | None) -> list[str]:
    lines = ["### 4. Close to the floor: raw psycopg WSGI vs ours (`bench/raw_floor.py`)", ""]
    if raw is None:
        return [*lines, "Not run.", ""]
    lines += [about(raw), ""]
    target = raw.get("target_ratio", 3)
    rows = []
    for key, row in (raw.get("results") or {}).items():
        rows.append(
            [
                key.lstrip("c"),
                number(row.get("solodesk_p50_ms")),
                number(row.get("raw_p50_ms")),
                number(row.get("p50_ratio"), "×"),
                number(row.get("solodesk_rps")),
                number(row.get("raw_rps")),
                number(row.get("rps_ratio"), "×"),
                f"≤ {target}×",
                "p50: "
                + at_most(row.get("p50_ratio"), target, "×")
                + "; req/s: "
                + at_most(row.get("rps_ratio"), target, "×"),
            ]
        )
    header = [
        "clients",
        "ours p50 ms",
        "raw p50 ms",
        "p50 ratio",
        "ours req/s",
        "raw req/s",
        "req/s ratio",
        "target",
        "result",
    ]
    return [*lines, *table(header, rows), ""]


def section_busy(http: dict[str, Any] | None) -> list[str]:
    lines = ["### 5. Responsiveness while the worker is busy", ""]
    busy = dig(http, "busy_workers")
    if not busy:
        return [*lines, "Not run.", ""]
    idle, loaded = busy.get("idle_dashboard") or {}, busy.get("busy_dashboard") or {}
    target = busy.get("target_p99_ratio", 1.5)
    # How the worker ran, as far as the results say (older results do not).
    how: list[str] = []
    processes, niceness = dig(http, "worker_concurrency"), dig(http, "worker_niceness")
    if processes:
        how.append(f"{processes} process" + ("" if processes == 1 else "es"))
    if niceness is not None:
        how.append(f"nice {niceness}")
    worker = f" ({', '.join(how)})" if how else ""
    rows = [
        ["dashboard idle, 1 client", number(idle.get("p50_ms")), number(idle.get("p99_ms")), ""],
        [
            f"dashboard while the worker{worker} renders "
            f"{busy.get('pdfs_rendered')} of "
            f"{busy.get('pdfs_queued')} invoice PDFs ({number(busy.get('render_wall_s'))} s)",
            number(loaded.get("p50_ms")),
            number(loaded.get("p99_ms")),
            f"p99 ratio {number(busy.get('p99_ratio'), '×')} (target ≤ {target}×): "
            + at_most(busy.get("p99_ratio"), target, "×"),
        ],
        [
            "send-invoice request (POST /api/v1/invoices/{id}/send)",
            number(dig(busy, "send_request", "p50_ms")),
            number(dig(busy, "send_request", "p99_ms")),
            f"{number(busy.get('send_vs_sync_render_p50'), '×')} of a synchronous render",
        ],
        [
            "rendering the PDF synchronously in-process",
            number(dig(busy, "sync_render_ms", "p50_ms")),
            number(dig(busy, "sync_render_ms", "max_ms")) + " (max)",
            "",
        ],
    ]
    return [*lines, *table(["what", "p50 ms", "p99 ms", "result"], rows), ""]


def section_peer(peer: dict[str, Any] | None) -> list[str]:
    lines = ["### 6. Peer side by side: TimeTagger (`bench/peer_timetagger.py`)", ""]
    if peer is None:
        return [*lines, "Not run.", ""]
    lines += [about(peer), ""]
    rows = []
    for row in peer.get("summary") or []:
        target = row.get("target_rate_ratio")
        ratio = row.get("rate_ratio_solodesk_over_timetagger")
        unit = row.get("unit", "")
        rows.append(
            [
                row.get("database", "—"),
                row.get("run", "—"),
                number(row.get("solodesk_rate"), unit),
                number(row.get("timetagger_rate"), unit),
                number(ratio, "×"),
                number(row.get("solodesk_p50_ms")),
                number(row.get("timetagger_p50_ms")),
                f"≥ {target}×" if target else "(information)",
                at_least(ratio, target) if target else "—",
            ]
        )
    header = [
        "database",
        "run",
        "Solodesk",
        "TimeTagger",
        "ratio",
        "Solodesk p50 ms",
        "TimeTagger p50 ms",
        "target",
        "result",
    ]
    return [*lines, *table(header, rows), ""]


def section_memory(http: dict[str, Any] | None) -> list[str]:
    lines = ["### Memory: RSS of every web and worker process through the HTTP run", ""]
    memory = dig(http, "memory")
    if not memory:
        return [*lines, "Not run.", ""]
    target = memory.get("target_mb", 250)
    peaks: dict[str, float] = {}
    counts: dict[str, int] = {}
    for process in memory.get("processes") or []:
        kind = process.get("process", "?")
        peaks[kind] = max(peaks.get(kind, 0.0), process.get("max_rss_mb") or 0.0)
        counts[kind] = counts.get(kind, 0) + 1
    rows = [
        [
            f"{kind} ({counts[kind]})",
            number(peak, "MB"),
            f"< {target} MB",
            at_most(peak, target, "MB"),
        ]
        for kind, peak in peaks.items()
    ]
    lines += table(["process (how many)", "max RSS", "target", "result"], rows)
    return [
        *lines,
        "",
        f"VmRSS sampled every {memory.get('interval_s')} s, {memory.get('samples')} samples.",
        "",
    ]


def section_seed(seed_file: dict[str, Any] | None, http: dict[str, Any] | None) -> list[str]:
    lines = ["### Seeding", ""]
    if seed_file is not None:
        scale = seed_file.get("scale", "?")
        seconds = seed_file.get("seconds", seed_file.get("seed_s"))
        source = f"`{seed_file.get('_file')}`"
        counts = seed_file.get("counts") or {}
        database = seed_file.get("database", "")
    elif dig(http, "seed"):
        assert http is not None
        scale, seconds = http.get("scale", "?"), dig(http, "seed", "seconds")
        source = f"`{http.get('_file')}` (the seed of the HTTP run)"
        counts = dig(http, "seed", "counts") or {}
        database = http.get("database", "")
    else:
        return [*lines, "Not run.", ""]
    target = "< 180 s" if scale == "large" else "(target at large only)"
    verdict = at_most(seconds, 180, "s") if scale == "large" else "—"
    shown = ", ".join(f"{number(v)} {k.replace('_', ' ')}" for k, v in counts.items())
    lines += table(
        ["scale", "database", "seconds", "target", "result"],
        [[scale, database, number(seconds, "s"), target, verdict]],
    )
    return [*lines, "", f"From {source}: {shown}.", ""]


def build(results: Path) -> str:
    http = read(results, "http_load-postgresql.json", "http_load-*.json")
    orm = read(results, "orm_discipline-postgresql.json", "orm_discipline-*.json")
    raw = read(results, "raw_floor-postgresql.json", "raw_floor-*.json")
    peer = read(results, "peer_timetagger.json", "peer_timetagger-*.json")
    seed = read(results, "seed-*.json", "seed.json")
    sections: list[Callable[[], list[str]]] = [
        lambda: section_seed(seed, http),
        lambda: section_latency(http),
        lambda: section_queries(http),
        lambda: section_orm(orm),
        lambda: section_raw(raw),
        lambda: section_busy(http),
        lambda: section_peer(peer),
        lambda: section_memory(http),
    ]
    lines = [
        "## Issue 6 at a glance (generated by `bench/report.py`; do not edit by hand)",
        "",
        "Targets are issue 6's, at `large` scale on this 2-core machine; each result says met,",
        "or missed by how much. Re-run with `make bench` (see “How the benchmark harness",
        "works” below); the numbers are those of the JSON files in `bench/results/`.",
        "",
    ]
    for section in sections:
        lines += section()
    return "\n".join(lines).rstrip() + "\n"


def write_doc(text: str, doc: Path) -> None:
    content = doc.read_text()
    if BEGIN not in content or END not in content:
        raise SystemExit(f"{doc}: the markers {BEGIN} and {END} are missing")
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{BEGIN}\n{text}{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--print-only", action="store_true")
    args = parser.parse_args(argv)
    text = build(args.results)
    print(text)
    if not args.print_only:
        write_doc(text, args.doc)
        shown = args.doc.relative_to(ROOT) if args.doc.is_relative_to(ROOT) else args.doc
        print(f"written to {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
