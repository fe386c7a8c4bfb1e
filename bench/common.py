"""What the benchmark scripts share: a throwaway database, Django set-up, query counting,
percentiles, the machine description and writing results.

The scripts are run as `.venv/bin/python bench/<name>.py`; Python then puts bench/ first on
sys.path, so `from common import ...` works without a package. Importing this module puts
the project root on sys.path too, so `solodesk` imports.

Two ways to get a database that is thrown away at the end:

- `throwaway_database()`: production settings against a database made for the run: a
  SQLite file in a temporary folder, or, when DATABASE_URL is a PostgreSQL URL, a database
  `solodesk_bench_<random>` created on that server and dropped at the end (the database
  named in the URL is only used to connect). Then `django_setup()` migrates it.
- `test_database(folder)`: test settings and Django's test database machinery
  (`test_<name>`, or a SQLite file under the folder), created and dropped around the block.

Results are written to bench/results/<name>.json, or to the folder in BENCH_RESULTS_DIR
(for trial runs that must not replace the committed figures).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR") or ROOT / "bench" / "results")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --- databases ----------------------------------------------------------------------------


def postgres_throwaway(url: str) -> tuple[str, Callable[[], None]]:
    """Create a database for this run on the server of `url`; return its URL and a function
    that drops it. The database in `url` is only used to connect (the server's `postgres`
    database when it does not exist)."""
    import psycopg

    parts = urlsplit(url)
    name = f"solodesk_bench_{secrets.token_hex(4)}"
    admin_dsn = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
    try:
        psycopg.connect(admin_dsn, autocommit=True).close()
    except psycopg.OperationalError:
        admin_dsn = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", "")), drop


@dataclass(frozen=True)
class Throwaway:
    tmp: Path  # a temporary folder, removed at the end
    vendor: str  # "sqlite" or "postgresql"


@contextmanager
def throwaway_database(database_url: str | None = None, **env: str) -> Iterator[Throwaway]:
    """Point the production settings at a database made for this run (see the module
    docstring), files under a temporary folder; drop both at the end.

    `database_url` defaults to DATABASE_URL (unset: SQLite). `env` adds or overrides
    environment variables; set those that need the folder (`.tmp`) inside the block, before
    `django_setup()`."""
    if database_url is None:
        database_url = os.environ.get("DATABASE_URL")
    tmp = Path(tempfile.mkdtemp(prefix="solodesk-bench-"))
    drop = None
    try:
        if database_url and database_url.startswith(("postgres://", "postgresql://")):
            database_url, drop = postgres_throwaway(database_url)
            vendor = "postgresql"
        elif database_url:
            raise SystemExit("DATABASE_URL must be a PostgreSQL URL, or unset for SQLite")
        else:
            database_url = f"sqlite:///{tmp}/bench.sqlite3"
            vendor = "sqlite"
        os.environ.update(
            DJANGO_SETTINGS_MODULE="solodesk.config.settings.production",
            DATABASE_URL=database_url,
            SOLODESK_VAR_DIR=str(tmp / "var"),
            MEDIA_ROOT=str(tmp / "media"),
            SECRET_KEY=secrets.token_urlsafe(40),
            LOG_LEVEL="WARNING",
            **env,
        )
        yield Throwaway(tmp=tmp, vendor=vendor)
    finally:
        if drop:
            from django.apps import apps

            if apps.ready:
                from django.db import connections

                connections.close_all()
            drop()
        shutil.rmtree(tmp, ignore_errors=True)


def django_setup(*, migrate: bool = False) -> None:
    """django.setup() (production settings unless DJANGO_SETTINGS_MODULE says otherwise),
    then, with `migrate`, bring the database's schema up to date."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solodesk.config.settings.production")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


@contextmanager
def test_database(folder: Path, **env: str) -> Iterator[str]:
    """Test settings with files under `folder` and Django's throwaway test database
    (`test_<name>`; SQLite: a file), created around the block; yields the vendor."""
    os.environ["SOLODESK_VAR_DIR"] = str(folder)
    os.environ["DJANGO_SETTINGS_MODULE"] = "solodesk.config.settings.test"
    os.environ.update(env)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # WeasyPrint logs each step at INFO
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    settings.MEDIA_ROOT = folder / "media"
    setup_test_environment()
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        yield connection.vendor
    finally:
        teardown_databases(databases, verbosity=0)
        teardown_test_environment()


def database_version() -> str:
    """SQLite's library version or the PostgreSQL server's."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "select sqlite_version()" if connection.vendor == "sqlite" else "show server_version"
        )
        return str(cursor.fetchone()[0])


class QueryCounter:
    """An execute wrapper that counts queries: `with connection.execute_wrapper(counter):`,
    then `counter.count`."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.count += 1
        return execute(sql, params, many, context)


def workspace_with_clients(clients: int = 100) -> tuple[Any, Any, list[Any]]:
    """A workspace "Bench Studio" (Europe/Berlin), its owner bench@example.com and `clients`
    EUR clients with an e-mail address each; returns (workspace, owner, clients)."""
    from django.db import transaction

    from solodesk.accounts.models import Membership, User, Workspace
    from solodesk.clients.models import Client

    with transaction.atomic():
        workspace = Workspace.objects.create(name="Bench Studio", time_zone="Europe/Berlin")
        user = User.objects.create_user(email="bench@example.com", password=None)
        Membership.objects.create(workspace=workspace, user=user, role="owner")
        created = Client.objects.bulk_create(
            Client(
                workspace=workspace,
                name=f"Client {i}",
                email=f"billing{i}@client{i}.example",
                currency="EUR",
            )
            for i in range(clients)
        )
    return workspace, user, created


# --- statistics -------------------------------------------------------------------------------


def percentile(values: Sequence[float], percent: float) -> float:
    """Nearest rank: the smallest sample with at least `percent` % of the samples at or
    below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(len(ordered) * percent / 100))
    return ordered[rank - 1]


def stats_ms(
    samples_ms: Sequence[float], *, percentiles: Sequence[int] = (95,), digits: int = 2
) -> dict[str, float]:
    """n, p50 (the median), the other percentiles (nearest rank), min, max and mean of
    durations in milliseconds, rounded to `digits`."""
    ordered = sorted(samples_ms)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), digits),
        **{f"p{p}_ms": round(percentile(ordered, p), digits) for p in percentiles},
        "min_ms": round(ordered[0], digits),
        "max_ms": round(ordered[-1], digits),
        "mean_ms": round(statistics.fmean(ordered), digits),
    }


# --- the machine and the results --------------------------------------------------------------


def machine_info(*, at: str = "measured_at", **versions: str) -> dict[str, str]:
    """Python's version, the versions given, the machine (OS, architecture, CPUs) and the
    time of measurement under the key `at`."""
    return {
        "python": platform.python_version(),
        **versions,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        at: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def load_average() -> float:
    """The 1-minute load average: other work on the machine while measuring."""
    return round(os.getloadavg()[0], 2)


def _proc_stats() -> dict[int, tuple[int, str, int]]:
    """Every process: pid -> (parent pid, command name, its CPU in clock ticks: its own
    user and system time and that of its children it has waited for)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        # After the name: state, ppid, ..., utime (14th field of the line), stime, cutime, cstime.
        found[int(entry.name)] = (int(fields[1]), name, sum(int(f) for f in fields[11:15]))
    return found


def processes_cpu(pids: dict[str, int | str]) -> dict[str, float]:
    """The CPU seconds used so far by each named process tree: a pid, with its children and
    theirs (those still running, and through their parents' totals those that ended), or a
    command name ("postgres": every process of that name whose parent has another name,
    each with its tree). Read from /proc (Linux), to say where a benchmark's CPU went."""
    stats = _proc_stats()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)

    def tree(pid: int) -> int:
        return stats[pid][2] + sum(tree(child) for child in children.get(pid, ()))

    ticks = os.sysconf("SC_CLK_TCK")
    result = {}
    for label, what in pids.items():
        if isinstance(what, int):
            roots = [what] if what in stats else []
        else:
            roots = [
                pid
                for pid, (parent, name, _) in stats.items()
                if name == what and stats.get(parent, (0, "", 0))[1] != what
            ]
        result[label] = sum(tree(pid) for pid in roots) / ticks
    return result


def write_result(name: str, result: dict[str, Any]) -> Path:
    """Print `result` and write it as RESULTS/<name>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"written to {shown}")
    return path


# --- servers -------------------------------------------------------------------------------


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextmanager
def gunicorn(command: list[str], log_path: Path) -> Iterator[str]:
    """Start `command` (a gunicorn on port 0) in its own process group; yield its base URL;
    stop the group at the end."""
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            command,
            env=os.environ,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        port = None
        while port is None:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n" + log_path.read_text()[-3000:])
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log_path.read_text())
            port = int(found.group(1)) if found else None
            time.sleep(0.2)
        time.sleep(1.0)  # let both gunicorn processes boot
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(server)
