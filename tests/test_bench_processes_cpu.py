"""bench/common.processes_cpu, which bench/peer_timetagger.py uses to say where each run's
CPU went: a process tree's CPU counts its children while they run and after they ended
(through their parent's totals), and a command name counts each tree of that name once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
BURN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass"


@pytest.fixture
def processes_cpu(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    from common import processes_cpu

    return processes_cpu


def test_a_tree_counts_its_running_and_its_ended_children(processes_cpu):
    # A parent that starts a child burning 0.4 s of CPU, waits for it, then sleeps.
    parent_code = (
        "import subprocess, sys, time\n"
        f"subprocess.run([sys.executable, '-c', {BURN.format(seconds=0.4)!r}])\n"
        "time.sleep(30)"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code], start_new_session=True)
    try:
        before = processes_cpu({"tree": parent.pid})["tree"]
        deadline = time.monotonic() + 20
        used = 0.0
        while time.monotonic() < deadline:
            used = processes_cpu({"tree": parent.pid})["tree"] - before
            if used >= 0.35:
                break
            time.sleep(0.1)
        # The child's 0.4 s (minus what it had used when `before` was read), counted
        # while it ran and still after it ended, through the parent's waited-for totals.
        assert used >= 0.2
        time.sleep(0.3)
        assert processes_cpu({"tree": parent.pid})["tree"] - before >= used - 0.01
    finally:
        os.killpg(parent.pid, signal.SIGKILL)  # the child too
        parent.wait()


def test_an_unknown_pid_or_name_counts_nothing(processes_cpu):
    assert processes_cpu({"gone": 2**22 + 12345, "none": "no-such-command-name"}) == {
        "gone": 0.0,
        "none": 0.0,
    }


def test_a_name_counts_each_tree_of_that_name_once(processes_cpu, tmp_path):
    # A parent and its child, both run under one command name of their own: the child's
    # parent has that name, so only the parent is a root and the running child's CPU is
    # counted once, in the parent's tree (as PostgreSQL's backends under the postmaster).
    name = "cpuburntest"
    command = tmp_path / name
    command.symlink_to(sys.executable)
    parent_code = (
        "import subprocess, time\n"
        f"subprocess.run([{str(command)!r}, '-c', {BURN.format(seconds=5)!r}])\n"
        "time.sleep(30)"
    )
    parent = subprocess.Popen([str(command), "-c", parent_code], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        used = {"named": 0.0, "tree": 0.0}
        while time.monotonic() < deadline and used["tree"] < 0.3:
            time.sleep(0.1)
            used = processes_cpu({"named": name, "tree": parent.pid})  # one reading
        assert used["tree"] >= 0.3  # the child is burning, inside the parent's tree
        assert abs(used["named"] - used["tree"]) < 0.05  # once, not twice
    finally:
        os.killpg(parent.pid, signal.SIGKILL)  # the child too
        parent.wait()
