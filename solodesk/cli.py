"""The `solodesk` console script: run the app, administer it, and time your work.

solodesk run          web server + worker + scheduler together (what `make run` starts)
solodesk web          the web server alone (gunicorn + WhiteNoise)
solodesk worker       a Celery worker
solodesk beat         the Celery beat scheduler
solodesk migrate      create or update the database
solodesk demo         load demo data (safe to run twice)
solodesk seed         fill a new workspace with years of data (--scale small|medium|large)
solodesk remind       queue the payment reminders that are due now (what the scheduler runs)
solodesk createuser   create a user with a workspace, optionally an API token
solodesk manage ...   any Django management command
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

SETTINGS = "solodesk.config.settings.production"


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    import django
    from django.apps import apps

    if not apps.ready:  # already set up when called from a test
        django.setup()


def _manage(*args: str) -> None:
    _django_setup()
    from django.core.management import call_command

    call_command(*args)


def _gunicorn_has_control_socket() -> bool:
    from gunicorn.config import KNOWN_SETTINGS

    return any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS)


def web_command(host: str, port: int, workers: int | None = None, threads: int = 4) -> list[str]:
    """The gunicorn command line of one web replica (also used by the integration tests)."""
    workers = workers or int(os.environ.get("WEB_CONCURRENCY", "2"))
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "solodesk.config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--timeout",
        "30",
        "--graceful-timeout",
        "10",
        "--access-logfile",
        "-",
    ]
    if _gunicorn_has_control_socket():
        # gunicorn >= 24 opens a control socket at one fixed path per user by default: two
        # replicas on one machine would fight over it, and nothing here uses it.
        command.append("--no-control-socket")
    return command


def worker_command(concurrency: int | None = None) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "solodesk.config.celery_app",
        "worker",
        "--loglevel",
        os.environ.get("CELERY_LOG_LEVEL", "INFO"),
    ]
    if concurrency:
        command += ["--concurrency", str(concurrency)]
    return command


# The worker `solodesk run` starts beside the web tier (and the HTTP bench, as it does):
# this many processes, at a lower CPU priority than the pages.
RUN_WORKER_CONCURRENCY = 2
WORKER_NICENESS = 10


def background_worker_command(concurrency: int | None = None) -> list[str]:
    """`worker_command` at `WORKER_NICENESS`, as `solodesk run` starts it beside the web
    server. (Linux's SCHED_IDLE class and one process fewer did not keep pages faster while
    it rendered PDFs: docs/performance.md, "The worker beside the web tier".)"""
    return ["nice", "-n", str(WORKER_NICENESS), *worker_command(concurrency)]


def beat_command() -> list[str]:
    from django.conf import settings

    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "solodesk.config.celery_app",
        "beat",
        "--loglevel",
        os.environ.get("CELERY_LOG_LEVEL", "INFO"),
        "--schedule",
        settings.CELERY_BEAT_SCHEDULE_FILENAME,
        "--pidfile",
        "",
    ]


def _prepare_embedded() -> None:
    """Everything a first start needs on one machine: folders, database, static files."""
    _django_setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


class _StopSignals:
    """Counts Ctrl-C / SIGTERM: the first stops the processes gracefully, a second one kills
    them. Installed before any process starts, so an early Ctrl-C cannot orphan one."""

    def __init__(self) -> None:
        self.count = 0
        signal.signal(signal.SIGINT, self)
        signal.signal(signal.SIGTERM, self)

    def __call__(self, signum: int, frame: object) -> None:
        self.count += 1


def _supervise(processes: dict[str, subprocess.Popen[bytes]], stop: _StopSignals) -> int:
    """Wait until Ctrl-C (or SIGTERM) or until one process exits; then stop them all."""
    exit_code = 0
    while not stop.count:
        exited = [(name, p.returncode) for name, p in processes.items() if p.poll() is not None]
        if exited:
            name, code = exited[0]
            print(f"solodesk: {name} exited with status {code}; stopping", flush=True)
            exit_code = code or 1
            break
        time.sleep(0.3)
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    # A worker finishes its current task before it exits; give it a little time, then kill:
    # the job's row stays `running` and the stale-job sweeper hands it out again.
    deadline = time.monotonic() + 15
    seen = stop.count
    while any(p.poll() is None for p in processes.values()):
        if time.monotonic() > deadline or stop.count > max(seen, 1):
            for process in processes.values():
                if process.poll() is None:
                    process.kill()
        time.sleep(0.1)
    print("solodesk: stopped", flush=True)
    return exit_code


def cmd_run(args: argparse.Namespace) -> int:
    _prepare_embedded()
    from django.conf import settings

    from solodesk.accounts.models import User

    host, port = listen_address(args)
    has_demo_user = User.objects.filter(email=DEMO_EMAIL).exists()
    database = settings.DATABASES["default"]["NAME"]
    shown_host = "127.0.0.1" if host in {"0.0.0.0", "::"} else host  # noqa: S104
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
    # Links in e-mails (the client portal) must point where this server listens, unless
    # the self-hoster said otherwise.
    env.setdefault("SITE_URL", f"http://{shown_host}:{port}")
    stop = _StopSignals()
    processes = {
        "web": subprocess.Popen(web_command(host, port, args.workers, args.threads), env=env),
        "worker": subprocess.Popen(background_worker_command(args.concurrency), env=env),
        "beat": subprocess.Popen(beat_command(), env=env),
    }
    demo_line = f"  Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}\n" if has_demo_user else ""
    print(
        "\n"
        f"  Solodesk is running at http://{shown_host}:{port}/\n"
        f"{demo_line}"
        f"  Database: {database}\n"
        "  Press Ctrl-C to stop the web server, the worker and the scheduler.\n",
        flush=True,
    )
    return _supervise(processes, stop)


def listen_address(args: argparse.Namespace) -> tuple[str, int]:
    """--host/--port, else the HOST and PORT environment variables, else 127.0.0.1:8000."""
    host = args.host or os.environ.get("HOST") or "127.0.0.1"
    if args.port:
        return host, args.port
    raw = os.environ.get("PORT") or "8000"
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SystemExit(f"error: PORT must be a number from 1 to 65535, not {raw!r}")
    return host, int(raw)


def cmd_web(args: argparse.Namespace) -> int:
    _django_setup()
    host, port = listen_address(args)
    command = web_command(host, port, args.workers, args.threads)
    os.execv(command[0], command)  # noqa: S606
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    _django_setup()
    command = worker_command(args.concurrency)
    os.execv(command[0], command)  # noqa: S606
    return 0


def cmd_beat(args: argparse.Namespace) -> int:
    _django_setup()
    command = beat_command()
    os.execv(command[0], command)  # noqa: S606
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _django_setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False)
    call_command("createcachetable")
    return 0


DEMO_EMAIL = "demo@solodesk.local"
DEMO_PASSWORD = "solodesk-demo"  # noqa: S105 - printed on purpose: it is the demo login


def cmd_demo(args: argparse.Namespace) -> int:
    _django_setup()
    from solodesk.demo import demo_load

    created = demo_load(email=DEMO_EMAIL, password=DEMO_PASSWORD)
    print("Demo data loaded." if created else "Demo data already present; nothing changed.")
    print(f"Log in as {DEMO_EMAIL} / {DEMO_PASSWORD}")
    return 0


SEED_EMAIL = "owner@seed.example"
SEED_PASSWORD = "seed passphrase 1234"  # noqa: S105 - printed on purpose: the seed's login


def cmd_seed(args: argparse.Namespace) -> int:
    _django_setup()
    from solodesk.core.exceptions import ApplicationError
    from solodesk.seed import seed_workspace

    print(f"Seeding a {args.scale} workspace for {args.email} …", flush=True)
    try:
        result = seed_workspace(
            scale=args.scale,
            email=args.email,
            password=args.password,
            random_seed=args.random_seed,
            progress=lambda line: print(line, flush=True),
        )
    except ApplicationError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    for name, count in result.counts.items():
        print(f"  {name:<24} {count:>9,}")
    shown = args.password if args.password == SEED_PASSWORD else "the password you chose"
    print(f"Done in {result.seconds:.1f} s. Log in as {result.email} / {shown}")
    return 0


def cmd_remind(args: argparse.Namespace) -> int:
    """Run the reminder sweep now, in this process, and say what it queued. The e-mails are
    sent by the worker (or here, with --send, one after the other)."""
    _django_setup()
    from solodesk.reminders.selectors import reminder_list_by_ids
    from solodesk.reminders.services import reminder_send, reminders_sweep

    result = reminders_sweep(enqueue=not args.send)
    reminders = reminder_list_by_ids(ids=result.queued)
    for reminder in reminders:
        print(f"queued {reminder.invoice.number} → {reminder.to_email} ({reminder.stage_label})")
    print(
        f"{len(result.queued)} reminder(s) queued, {result.skipped} skipped (caught up), "
        f"{result.requeued} handed to the broker again, {result.failed_stale} stuck marked failed."
    )
    if args.send:
        sent = 0
        for reminder in reminders:
            done = reminder_send(reminder_id=reminder.pk)
            sent += bool(done and done.status == "sent")
        print(f"{sent} sent.")
    return 0


RECOUNT_NAME_WIDTH = 22  # the column of the kinds' names in `solodesk recount`


def cmd_recount(args: argparse.Namespace) -> int:
    """Rebuild the totals the services keep (time per day and month, unbilled time,
    revenue per month) and the entries' stored JSON from the records, for every workspace
    or one, and say what differed;
    on PostgreSQL then vacuum their tables (`derived_totals_vacuum`). Exit 1 with --check
    when something differs (nothing is changed or vacuumed then)."""
    _django_setup()
    from django.core.exceptions import ValidationError

    from solodesk.accounts.models import Workspace
    from solodesk.accounts.services import derived_totals_recount, derived_totals_vacuum

    workspaces = Workspace.objects.order_by("pk")
    if args.workspace:
        try:
            workspaces = workspaces.filter(public_id=args.workspace)
            found = workspaces.exists()
        except ValidationError:
            found = False
        if not found:
            print(f"error: no workspace with the id {args.workspace}", file=sys.stderr)
            return 2
    differing = 0
    for workspace in workspaces.iterator():
        print(f"{workspace.name} ({workspace.public_id})", flush=True)
        for check in derived_totals_recount(workspace=workspace, dry_run=args.check):
            differing += check.differing
            verdict = "match" if not check.differing else f"{check.differing:,} rows differ"
            if check.differing and not args.check:
                verdict += f", rebuilt: {check.rows_rewritten:,} rows"
            print(
                f"  {check.name:<{RECOUNT_NAME_WIDTH}} {check.rows_before:>9,} rows  {verdict}",
                flush=True,
            )
    if args.check and differing:
        print(f"{differing:,} rows differ: run `solodesk recount` to rebuild them.")
        return 1
    # Every rebuild rewrote its rows, matching or not: vacuum once, after the last commit
    # (here, not in the service, which stays usable inside a caller's transaction).
    if not args.check and derived_totals_vacuum():
        print("Vacuumed and analyzed the totals' tables.", flush=True)
    print("Every total matches its records." if not differing else "Rebuilt.")
    return 0


def cmd_createuser(args: argparse.Namespace) -> int:
    _django_setup()
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from solodesk.accounts.models import User
    from solodesk.accounts.selectors import membership_get_current
    from solodesk.accounts.services import api_token_create, user_create
    from solodesk.core.exceptions import ApplicationError

    email = args.email.strip().lower()
    business_name = args.business_name.strip()
    problems = []
    try:
        validate_email(email)
    except ValidationError:
        problems.append(f"{args.email!r} is not a valid e-mail address.")
    try:
        # The same rules as the sign-up page (length, common passwords, similar to e-mail).
        validate_password(args.password, user=User(email=email))
    except ValidationError as error:
        problems.extend(error.messages)
    if not business_name:
        problems.append("--business-name cannot be empty.")
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        user = user_create(email=email, password=args.password, business_name=business_name)
    except ApplicationError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    membership = membership_get_current(user=user)
    assert membership is not None
    print(f"Created {user.email} with workspace {membership.workspace.name!r}.")
    if args.token:
        _, raw_token = api_token_create(
            workspace=membership.workspace, user=user, name="Created with solodesk createuser"
        )
        # Alone on the last line, so a script can take it with `tail -n 1`.
        print(raw_token)
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["solodesk manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="solodesk", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def web_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", help="address to listen on (env HOST, default 127.0.0.1)")
        p.add_argument("--port", type=int, help="port (env PORT, default 8000)")
        p.add_argument("--workers", type=int, help="web processes (env WEB_CONCURRENCY, default 2)")
        p.add_argument("--threads", type=int, default=4, help="threads per web process")

    run = sub.add_parser("run", help="web server, worker and scheduler together")
    web_options(run)
    run.add_argument(
        "--concurrency", type=int, default=RUN_WORKER_CONCURRENCY, help="worker processes"
    )
    run.set_defaults(func=cmd_run)
    web = sub.add_parser("web", help="the web server alone")
    web_options(web)
    web.set_defaults(func=cmd_web)
    worker = sub.add_parser("worker", help="a Celery worker")
    worker.add_argument("--concurrency", type=int, help="worker processes (default: CPUs)")
    worker.set_defaults(func=cmd_worker)
    sub.add_parser("beat", help="the Celery beat scheduler").set_defaults(func=cmd_beat)
    sub.add_parser("migrate", help="create or update the database").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load demo data (idempotent)").set_defaults(func=cmd_demo)
    seed = sub.add_parser("seed", help="fill a new workspace with years of data")
    seed.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    seed.add_argument("--email", default=SEED_EMAIL, help="the new owner's login")
    seed.add_argument("--password", default=SEED_PASSWORD)
    seed.add_argument("--random-seed", type=int, default=1, help="same seed, same data")
    seed.set_defaults(func=cmd_seed)
    remind = sub.add_parser("remind", help="queue the payment reminders due now")
    remind.add_argument(
        "--send", action="store_true", help="send them here instead of through the worker"
    )
    remind.set_defaults(func=cmd_remind)
    recount = sub.add_parser(
        "recount", help="rebuild the kept totals from the records (after an edit around the app)"
    )
    recount.add_argument("--workspace", help="one workspace's public id (default: every one)")
    recount.add_argument(
        "--check", action="store_true", help="only say what differs; change nothing (exit 1)"
    )
    recount.set_defaults(func=cmd_recount)
    create = sub.add_parser("createuser", help="create a user and their workspace")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--business-name", required=True)
    create.add_argument(
        "--token", action="store_true", help="also create an API token, printed on the last line"
    )
    create.set_defaults(func=cmd_createuser)
    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
