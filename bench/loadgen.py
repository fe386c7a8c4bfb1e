"""A closed-loop HTTP load generator: N concurrent clients, each issuing its requests back to
back (the next one starts when the previous response has been read), on one asyncio event
loop with httpx. Run it in its own process, so that it does not share an interpreter with
the server it measures.

How to run it (from the project root):

    .venv/bin/python bench/loadgen.py --base-url http://127.0.0.1:8000 --path / \\
        --login owner@seed.example:'seed passphrase 1234' --concurrency 8 --requests 500
    .venv/bin/python bench/loadgen.py --base-url http://127.0.0.1:8000 \\
        --path '/api/v1/time-entries?limit=50' --header 'Authorization: Bearer sd_...' \\
        --concurrency 1 --duration 10 --warmup 20

It prints one JSON object: requests (measured, warm-up excluded), errors (responses other
than 2xx/3xx, and transport failures), status_counts, p50/p95/p99/mean/min/max in
milliseconds (time.perf_counter around each request, the body read included; every
measured request, errors too), rps (measured requests / wall time of the measured phase)
and concurrency.

- Several `--path`s are requested in turn (request i gets path i mod n).
- `--login EMAIL:PASSWORD` logs in through the allauth form (/accounts/login/) once; all
  clients share the session cookie. Requests other than GET/HEAD then carry the CSRF cookie
  as X-CSRFToken and a Referer, as a browser would.
- Warm-up: `--warmup K` requests first, by the same clients, not measured; then the
  measured phase starts for all clients at once.
- `--requests M`: M measured requests in total (shared by the clients); `--duration S`:
  as many as fit in S seconds (a request in flight at the end is finished and counted).
- Redirects are not followed: a 302 is a success, as a browser would see it.

Importable as `from loadgen import run_load` (bench/ is on sys.path when a script in
bench/ runs) for callers that need a request built per call (e.g. a POST body with its own
times): `await run_load(base_url, request=lambda i: ("POST", "/api/v1/...", {...}), ...)`.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import math
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# (method, path, JSON body or None) for request number i (warm-up requests included); a
# function of two parameters is also given the number of the client sending it (0..N-1).
RequestFactory = Callable[..., tuple[str, str, Any]]

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _percentile(ordered: Sequence[float], percent: float) -> float:
    """Nearest rank (as bench/common.py): the smallest sample with at least `percent` % of
    the samples at or below it."""
    rank = max(1, math.ceil(len(ordered) * percent / 100))
    return ordered[rank - 1]


def summarize(
    timings_ms: Sequence[float],
    status_counts: Counter[str],
    errors: int,
    wall_s: float,
    concurrency: int,
) -> dict[str, Any]:
    """The agreed result fields from raw timings."""
    ordered = sorted(timings_ms)
    if not ordered:
        empty: dict[str, Any] = dict.fromkeys(
            ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "min_ms", "max_ms")
        )
        return {
            "requests": 0,
            "errors": errors,
            "status_counts": dict(status_counts),
            **empty,
            "rps": 0.0,
            "concurrency": concurrency,
        }
    return {
        "requests": len(ordered),
        "errors": errors,
        "status_counts": dict(sorted(status_counts.items())),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(_percentile(ordered, 95), 2),
        "p99_ms": round(_percentile(ordered, 99), 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "min_ms": round(ordered[0], 2),
        "max_ms": round(ordered[-1], 2),
        "rps": round(len(ordered) / wall_s, 1) if wall_s > 0 else 0.0,
        "concurrency": concurrency,
    }


async def login_session(http: Any, email: str, password: str) -> None:
    """Log in through the allauth login form; the session cookie stays in `http`."""
    page = await http.get("/accounts/login/")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if not found:
        raise RuntimeError(f"no CSRF token on the login page (status {page.status_code})")
    response = await http.post(
        "/accounts/login/",
        data={"login": email, "password": password, "csrfmiddlewaretoken": found.group(1)},
        headers={"Referer": str(http.base_url) + "/accounts/login/"},
    )
    if response.status_code != 302:
        raise RuntimeError(f"login failed: status {response.status_code}")


async def run_load(
    base_url: str,
    paths: Sequence[str] = (),
    *,
    method: str = "GET",
    body: Any = None,
    request: RequestFactory | None = None,
    headers: dict[str, str] | None = None,
    client_headers: Sequence[dict[str, str]] = (),
    login: tuple[str, str] | None = None,
    concurrency: int = 1,
    requests: int | None = None,
    duration: float | None = None,
    warmup: int = 0,
    timeout: float = 30.0,
    raw: bool = False,
) -> dict[str, Any]:
    """Run the load; return the agreed fields (see the module docstring).

    Either `paths` (requested in turn with `method` and the JSON `body`) or `request`, a
    function of the request number (and, if it takes two parameters, of the client number)
    returning (method, path, JSON body or None). `client_headers`: headers of client k are
    client_headers[k % len] (e.g. one API token per client, so that each client is a user of
    its own with its own timer). Exactly one of `requests` (measured requests in total) and
    `duration` (seconds) is required. `raw` adds "timings_ms", every measured duration."""
    import httpx

    if (requests is None) == (duration is None):
        raise ValueError("give exactly one of requests and duration")
    if request is None:
        if not paths:
            raise ValueError("give paths or a request factory")
        fixed = list(paths)
        verb = method.upper()

        def request(i: int) -> tuple[str, str, Any]:
            return verb, fixed[i % len(fixed)], body

    build: RequestFactory = request
    with_client = len(inspect.signature(build).parameters) >= 2

    concurrency = max(1, concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        headers=headers or {},
        timeout=timeout,
        limits=limits,
        follow_redirects=False,
    ) as http:
        if login:
            await login_session(http, *login)
        counter = 0  # the next request number (asyncio: no lock needed between awaits)

        async def one(client: int, record: list[float] | None, statuses: Counter[str]) -> bool:
            nonlocal counter
            index = counter
            counter += 1
            verb, path, payload = build(index, client) if with_client else build(index)
            extra: dict[str, str] = {}
            if client_headers:
                extra.update(client_headers[client % len(client_headers)])
            if login and verb.upper() not in SAFE_METHODS:
                csrf = http.cookies.get("csrftoken")
                if csrf:
                    extra.update({"X-CSRFToken": csrf, "Referer": base_url.rstrip("/") + path})
            started = time.perf_counter()
            try:
                response = await http.request(
                    verb,
                    path,
                    json=payload,
                    headers=extra or None,
                )
                await response.aread()
                status = str(response.status_code)
                ok = 200 <= response.status_code < 400
            except httpx.HTTPError as error:
                status = f"error:{type(error).__name__}"
                ok = False
            elapsed = (time.perf_counter() - started) * 1000
            if record is not None:
                record.append(elapsed)
                statuses[status] += 1
            return ok

        # Warm-up: the same clients, not measured.
        remaining_warmup = warmup

        async def warm_client(client: int) -> None:
            nonlocal remaining_warmup
            ignored: Counter[str] = Counter()
            while remaining_warmup > 0:
                remaining_warmup -= 1
                await one(client, None, ignored)

        await asyncio.gather(*(warm_client(k) for k in range(concurrency)))

        timings: list[float] = []
        statuses: Counter[str] = Counter()
        errors = 0
        remaining = requests if requests is not None else math.inf
        started = time.perf_counter()
        deadline = started + duration if duration is not None else math.inf

        async def measured_client(client: int) -> None:
            nonlocal remaining, errors
            while remaining > 0 and time.perf_counter() < deadline:
                remaining -= 1
                if not await one(client, timings, statuses):
                    errors += 1

        await asyncio.gather(*(measured_client(k) for k in range(concurrency)))
        wall = time.perf_counter() - started
    result = summarize(timings, statuses, errors, wall, concurrency)
    if raw:
        result["timings_ms"] = [round(t, 3) for t in timings]
    return result


def _body(value: str | None) -> Any:
    """--body-json: inline JSON (starting with { or [) or a file holding it."""
    if value is None:
        return None
    text = value if value.lstrip()[:1] in {"{", "["} else Path(value).read_text()
    return json.loads(text)


def _headers(values: Sequence[str]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep:
            raise SystemExit(f"error: --header wants 'Name: value', not {value!r}")
        headers[name.strip()] = content.strip()
    return headers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--path", action="append", required=True, help="repeatable")
    parser.add_argument("--method", default="GET", type=str.upper)
    parser.add_argument("--body-json", help="inline JSON or a file holding it")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--login", help="EMAIL:PASSWORD, through the allauth login form")
    parser.add_argument("--concurrency", type=int, required=True)
    amount = parser.add_mutually_exclusive_group(required=True)
    amount.add_argument("--requests", type=int, help="measured requests in total")
    amount.add_argument("--duration", type=float, help="seconds of measured load")
    parser.add_argument("--warmup", type=int, default=0, help="unmeasured requests first")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    args = parser.parse_args(argv)
    login = None
    if args.login:
        email, sep, password = args.login.partition(":")
        if not sep:
            raise SystemExit("error: --login wants EMAIL:PASSWORD")
        login = (email, password)
    result = asyncio.run(
        run_load(
            args.base_url,
            args.path,
            method=args.method,
            body=_body(args.body_json),
            headers=_headers(args.header),
            login=login,
            concurrency=args.concurrency,
            requests=args.requests,
            duration=args.duration,
            warmup=args.warmup,
            timeout=args.timeout,
        )
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
