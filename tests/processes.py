"""Real processes for the integration tests: gunicorn, a Celery worker, `solodesk run`.

Every wait has a deadline, every process runs in its own process group (so its gunicorn
workers or prefork children go with it) and is killed at the end, and its output goes to a
log file that the failure report shows (see tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from solodesk.cli import web_command, worker_command

T = TypeVar("T")

# Generous for a loaded CI machine, small enough that a hang fails the run quickly.
START_TIMEOUT = 30.0


def wait_until(predicate: Callable[[], T], *, timeout: float, message: str) -> T:
    """Call `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{message} (waited {timeout:.0f} s)")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ChildProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    # How long `stop()` waits after SIGTERM before it kills.
    grace: float = 10.0

    @property
    def pid(self) -> int:
        return self.popen.pid

    def is_running(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 200) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def ensure_running(self) -> None:
        if not self.is_running():
            raise RuntimeError(
                f"{self.name} exited with status {self.popen.returncode}:\n{self.tail(60)}"
            )

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signum)

    def kill(self) -> None:
        """SIGKILL the whole group, as when a machine or a container dies."""
        self.signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.is_running():
            self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=self.grace)
        # Whatever is left of the group (pool children, gunicorn workers) goes too.
        self.signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)


CHILD_PROCESSES = pytest.StashKey[list[ChildProcess]]()


def register_child(item: pytest.Item, process: ChildProcess) -> None:
    """Show the process's log in the report when the test fails (tests/conftest.py)."""
    item.stash.setdefault(CHILD_PROCESSES, []).append(process)


def start_process(
    name: str, command: list[str], *, env: dict[str, str], log_dir: Path
) -> ChildProcess:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log_file:
        popen = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return ChildProcess(name=name, popen=popen, log_path=log_path)


def _wait_or_stop(process: ChildProcess, wait: Callable[[], T]) -> T:
    """A process that does not come up is stopped here (nobody else holds it yet), and its
    log goes into the error."""
    try:
        return wait()
    except BaseException as error:
        process.stop()
        if isinstance(error, Exception):
            raise RuntimeError(
                f"{process.name} did not start: {error}\n{process.tail(60)}"
            ) from error
        raise


def wait_for_worker(process: ChildProcess, timeout: float = START_TIMEOUT) -> None:
    def ready() -> bool:
        process.ensure_running()
        return bool(re.search(r"@\S+ ready\.", process.log()))

    wait_until(ready, timeout=timeout, message=f"{process.name} did not become ready")


def start_worker(*, env: dict[str, str], log_dir: Path, name: str = "worker") -> ChildProcess:
    """The production worker command with one prefork child. Gossip, mingle and heartbeats
    only cost start-up time here (one worker, and the filesystem broker has no broadcast)."""
    command = [
        *worker_command(concurrency=1),
        "--pool",
        "prefork",
        "--hostname",
        f"{name}-{uuid.uuid4().hex[:8]}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    process = start_process(name, command, env=env, log_dir=log_dir)
    # An idle worker on the filesystem broker needs ~6 s for a warm shutdown; nothing is
    # left to finish at teardown, so it is not worth waiting for.
    process.grace = 2.0
    _wait_or_stop(process, lambda: wait_for_worker(process))
    return process


@dataclass
class WebServer:
    process: ChildProcess
    base_url: str

    def url(self, path: str) -> str:
        return self.base_url + path


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2.0)
    except httpx.TransportError:
        return False
    return True


def wait_for_web(process: ChildProcess, base_url: str, timeout: float = START_TIMEOUT) -> None:
    def answering() -> bool:
        process.ensure_running()
        return _answers(base_url + "/accounts/login/")

    wait_until(answering, timeout=timeout, message=f"{process.name} did not answer at {base_url}")


def start_web_server(
    *, env: dict[str, str], log_dir: Path, name: str = "web", workers: int = 1, threads: int = 4
) -> WebServer:
    """The production gunicorn command on port 0: the kernel picks a free port (no race with
    another test run) and gunicorn logs which one."""
    command = web_command("127.0.0.1", 0, workers, threads)
    process = start_process(name, command, env=env, log_dir=log_dir)

    def listening_port() -> int | None:
        process.ensure_running()
        match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", process.log())
        return int(match.group(1)) if match else None

    def answering_url() -> str:
        port = wait_until(listening_port, timeout=START_TIMEOUT, message="no port in its log")
        base_url = f"http://127.0.0.1:{port}"
        wait_for_web(process, base_url)
        return base_url

    return WebServer(process=process, base_url=_wait_or_stop(process, answering_url))


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after it.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def children(pid: int) -> list[int]:
    """The direct children of `pid`, read from /proc (Linux)."""
    return sorted(_children_by_parent().get(pid, []))


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, read from /proc (Linux)."""
    by_parent = _children_by_parent()
    found: list[int] = []
    stack = list(by_parent.get(pid, []))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(by_parent.get(child, []))
    return sorted(found)


def command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def is_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
