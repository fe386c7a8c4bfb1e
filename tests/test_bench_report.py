"""bench/report.py's busy-worker row says how the worker ran, from the results only."""

from __future__ import annotations

from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
BUSY = {
    "idle_dashboard": {"p50_ms": 20.0, "p99_ms": 40.0},
    "busy_dashboard": {"p50_ms": 25.0, "p99_ms": 64.0},
    "pdfs_rendered": 1000,
    "pdfs_queued": 1000,
    "render_wall_s": 141.8,
    "p99_ratio": 1.6,
    "target_p99_ratio": 1.5,
}


@pytest.fixture
def section_busy(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    from report import section_busy

    return section_busy


def _busy_row(lines: list[str]) -> str:
    (row,) = [line for line in lines if line.startswith("| dashboard while the worker")]
    return row


@pytest.mark.parametrize(
    ("how", "label"),
    [
        ({"worker_concurrency": 2, "worker_niceness": 10}, "the worker (2 processes, nice 10) "),
        ({"worker_concurrency": 1, "worker_niceness": 0}, "the worker (1 process, nice 0) "),
        ({}, "the worker renders 1000 of 1000"),  # results from before it was recorded
    ],
)
def test_the_busy_row_says_how_the_worker_ran(section_busy, how, label):
    row = _busy_row(section_busy({"busy_workers": BUSY, **how}))

    assert label in row
    assert "p99 ratio 1.60 × (target ≤ 1.5×): missed by 0.10 ×" in row


def test_no_busy_run_says_so(section_busy):
    assert "Not run." in section_busy({})
