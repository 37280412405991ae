"""Metric points of real local jobs (``%%sm_train`` in a real shell, a real supervisor): a
user's pattern that backtracks without end never blocks the kernel."""

from __future__ import annotations

import threading
import time


def test_a_catastrophic_metric_pattern_never_blocks_the_kernel(ip):
    cell = ("import time\n"
            "print('loss=0.5', flush=True)\n"
            "print('a' * 30 + '!', flush=True)\n"  # (a+)+$: about 30 s on this line
            "time.sleep(1)\n"
            "print('loss=0.25', flush=True)\n")
    gaps: list[float] = []
    stop = threading.Event()

    def tick() -> None:  # a thread that must keep getting the interpreter
        last = time.monotonic()
        while not stop.is_set():
            time.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        ip.run_cell_magic("sm_train", "job --metric x='(a+)+$' --metric loss='loss=([0-9.]+)'",
                          cell)
        job = ip.user_ns["job"]
        deadline = time.monotonic() + 60
        while not job.done and time.monotonic() < deadline:
            job.metric_points()  # the kernel asks for points while the job runs
            time.sleep(0.05)
    finally:
        stop.set()
        ticker.join(timeout=5)
    assert job.wait(timeout=60) == "Completed"
    assert max(gaps) < 0.5, max(gaps)  # a regex stuck in the kernel held it for minutes
    assert list(job.metrics()["value"]) == [0.5, 0.25]
    assert any(note.startswith("metric 'x' switched off") for note in job.notes)
    assert any("metric 'x' switched off" in e.message for e in job.recent_lines())
