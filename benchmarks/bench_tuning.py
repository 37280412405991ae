"""Tuning (issue 15): a local sweep's throughput, what a trial costs over the bare job, and
the sweep dashboard's refresh cost.

The job is a 1-second script (``time.sleep(1)``, then ``score=...`` from its ``--x``).  A
grid sweep of 12 trials over ``x`` at ``--max-parallel 2`` (``%%sm_tune ... --quiet``, the
handle polled every 20 ms until it says Completed) is timed against the same cell run 12
times in a row with ``%%sm_train job --hp x=N --wait --quiet`` (the sum of the 12 magics'
wall times), alternately.  Each trial's duration, from the driver's launch to its seeing
the trial ended (``trials.json``), is set against the bare script run as ``python
train.py --x 1`` in a fresh process.  Both are expensive (a repeat is about 25 s), so
few repeats are run.

The sweep dashboard's refresh cost is measured from outside a real kernel (jupyter_client,
as JupyterLab starts one, as ``bench_ui`` does): a random sweep of 50 short trials (five
steps of 0.1 s, each printing the objective), 5 at once, under its live dashboard; every
IOPub comm message is counted, from the magic to the final snapshot replacing the
widgets, against the job dashboard's bounds (its widget tests: at most 60 messages a
second, none over 120 kB).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sm_notebook.magics.tune import WAIT_TICK

from .common import (
    IOPubReader,
    Result,
    benchmark_shell,
    exec_ms,
    median,
    notebook_kernel,
    scratch_dir,
    spread,
)

SWEEP_RATIO = 0.6
TRIALS, PARALLEL, SLEEP_S = 12, 2, 1
BARE_RUNS = 3  # of the bare script, each repeat
POLL_S = 0.02  # the benchmark's look at the sweep's handle
TIMEOUT_S = 120.0
SCRIPT = f"""import time, argparse
p = argparse.ArgumentParser(); p.add_argument("--x", type=float); a, _ = p.parse_known_args()
time.sleep({SLEEP_S}); print(f"score={{-(a.x - 2) ** 2}}")
"""
WARMUP = 'print("score=0")\n'
TUNING = (f"--hp-range x=int:0:{TRIALS - 1} --metric score='score=([-0-9.]+)' "
          f"--objective Maximize:score --strategy grid --max-jobs {TRIALS} "
          f"--max-parallel {PARALLEL} --quiet")

DASHBOARD_TRIALS, DASHBOARD_PARALLEL = 50, 5
MAX_MESSAGES_S, MAX_MESSAGE_KB = 60.0, 120.0  # the job dashboard's (tests/ui)
SNAPSHOT_TIMEOUT_S = 90.0
DASHBOARD_SCRIPT = """import argparse, time
p = argparse.ArgumentParser()
p.add_argument("--x", type=float); p.add_argument("--depth", type=int); p.add_argument("--opt")
a, _ = p.parse_known_args()
for step in range(1, 6):
    time.sleep(0.1)
    print(f"step {step} score={-(a.x - 2) ** 2 + step * a.depth / 10:.4f}", flush=True)
"""
DASHBOARD_LINE = (
    "%%sm_tune sweep --job-name bench-sweep-ui --hp-range x=float:0:4 --hp-range "
    "depth=int:1:8 --hp-range opt=cat:adam,sgd --metric score='score=([-0-9.]+)' "
    f"--objective Maximize:score --strategy random --seed 1 --max-jobs {DASHBOARD_TRIALS} "
    f"--max-parallel {DASHBOARD_PARALLEL}")


def _bare(script: Path) -> float:
    """Seconds of ``python train.py --x 1`` in a fresh process, start to exit."""
    began = time.perf_counter()
    subprocess.run([sys.executable, str(script), "--x", "1"], stdout=subprocess.DEVNULL,
                   cwd=script.parent, check=True)
    return time.perf_counter() - began


def _train(shell, name: str, x: int, cell: str = SCRIPT) -> float:
    """Seconds of one ``%%sm_train --wait --quiet``, the call to its return."""
    from IPython.utils.capture import capture_output

    began = time.perf_counter()
    with capture_output():  # the summary --quiet still prints
        shell.run_cell_magic("sm_train", f"bench_job --job-name {name} --hp x={x} "
                                         "--wait --quiet", cell)
    elapsed = time.perf_counter() - began
    job = shell.user_ns.pop("bench_job")
    if job.status != "Completed":
        raise RuntimeError(f"job {job.name}: {job.status} {job.failure_reason}")
    return elapsed


def _sequential(shell, number: int | str) -> list[float]:
    return [_train(shell, f"bench-seq-{number}-{x:02d}", x) for x in range(TRIALS)]


def _sweep(shell, name: str, cell: str = SCRIPT, tuning: str = TUNING) -> tuple[float, Any]:
    """Seconds from calling ``%%sm_tune`` until its handle says Completed, and the handle."""
    from IPython.utils.capture import capture_output

    began = time.perf_counter()
    with capture_output():  # "started sweep ..."
        shell.run_cell_magic("sm_tune", f"bench_sweep --job-name {name} {tuning}", cell)
    sweep = shell.user_ns.pop("bench_sweep")
    while not sweep.done:
        if time.perf_counter() - began > TIMEOUT_S:
            sweep.stop()
            raise RuntimeError(f"sweep {name}: still {sweep.status} after {TIMEOUT_S:g} s")
        time.sleep(POLL_S)
    elapsed = time.perf_counter() - began
    trials = sweep.trial_list()
    if sweep.status != "Completed" or {t.status for t in trials} != {"Completed"}:
        raise RuntimeError(f"sweep {name}: {sweep.status}, trials "
                           f"{[(t.job, t.status, t.failure_reason) for t in trials]}")
    return elapsed, sweep


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _timings(sweep: Any) -> dict[str, list[float]]:
    """Seconds, from the driver's ``trials.json`` and each trial job's own record."""
    trials = sweep.trial_list()
    meta = sweep.folder.read_meta()
    jobs = {t.job: sweep.job(t.job).describe() for t in trials}
    own = {t.job: (_epoch(jobs[t.job]["created"]), _epoch(jobs[t.job]["ended"]))
           for t in trials}
    relaunch = []  # a slot's trial seen ended → the next trial launched
    for t in trials[PARALLEL:]:
        before = [e.ended for e in trials if e.ended is not None and e.ended <= t.started]
        if before:
            relaunch.append(t.started - max(before))
    return {"trial": [t.ended - t.started for t in trials],
            "job": [own[t.job][1] - own[t.job][0] for t in trials],
            "seen": [t.ended - own[t.job][1] for t in trials],
            "relaunch": relaunch,
            "first": [trials[0].started - meta["created"]]}


def run(repeat: int) -> list[Result]:
    with scratch_dir() as tmp_path:
        rows = _measure(benchmark_shell(), tmp_path, repeat)
    return [*rows, dashboard()]


def _measure(shell, tmp: Path, repeat: int) -> list[Result]:
    script = tmp / "bare" / "train.py"
    script.parent.mkdir()
    script.write_text(SCRIPT)
    _bare(script), _train(shell, "bench-warm", 0, WARMUP)  # imports and the file cache
    _sweep(shell, "bench-warm-sweep", WARMUP, TUNING.replace(
        f"x=int:0:{TRIALS - 1}", "x=int:0:1").replace(f"--max-jobs {TRIALS}", "--max-jobs 2"))
    bare: list[float] = []
    runs: list[float] = []  # each sequential %%sm_train
    sequential: list[float] = []  # their sum, a repeat
    sweeps: list[float] = []
    timings: dict[str, list[float]] = {}
    for number in range(repeat):  # side by side, alternating
        bare += [_bare(script) for _ in range(BARE_RUNS)]
        walls = _sequential(shell, number)
        runs += walls
        sequential.append(sum(walls))
        elapsed, sweep = _sweep(shell, f"bench-sweep-{number}")
        sweeps.append(elapsed)
        for key, values in _timings(sweep).items():
            timings.setdefault(key, []).extend(values)
    return _results(bare, runs, sequential, sweeps, timings, repeat)


def _results(bare: list[float], runs: list[float], sequential: list[float],
             sweeps: list[float], timings: dict[str, list[float]],
             repeat: int) -> list[Result]:
    def ms(values: list[float]) -> list[float]:
        return [v * 1000 for v in values]

    throughput = Result(
        f"local sweep: {TRIALS} × {SLEEP_S} s trials, {PARALLEL} at once, magic → Completed",
        median(sweeps), "s", f"≤ {SWEEP_RATIO:g}× sequential", False,
        f"{TRIALS} sequential %%sm_train --wait", median(sequential))
    throughput.passed = throughput.ratio <= SWEEP_RATIO
    throughput.notes += [
        f"{repeat} repeat{'s' * (repeat != 1)} (each {TRIALS} sequential runs and one sweep, "
        f"about {median(sequential) + median(sweeps):.0f} s); spread: sequential "
        f"{spread(sequential)} s, sweep {spread(sweeps)} s; ratio {throughput.ratio:.3f}",
        f"{TRIALS // PARALLEL} rounds of {PARALLEL} at once would take "
        f"{TRIALS // PARALLEL * median(timings['trial']):.1f} s at the median trial, "
        f"{TRIALS // PARALLEL * median(bare):.1f} s at the bare script's time; one "
        f"%%sm_train --wait of the cell: median {median(runs) * 1000:.0f} ms",
        f"sweep, where the time goes: its folder written → first trial launched "
        f"{median(timings['first']) * 1000:.0f} ms; a trial's job ended → seen by the "
        f"driver median {median(timings['seen']) * 1000:.0f} ms; seen → the next trial "
        f"launched in its slot median {median(timings['relaunch']) * 1000:.0f} ms",
        f"%%sm_tune --wait looks at the sweep every {WAIT_TICK:g} s, so it returns up to "
        f"{WAIT_TICK:g} s after Completed (not timed here: the handle is polled every 20 ms)"]
    overhead = Result(
        "local sweep: a trial, launched → seen ended by the driver", median(ms(
            timings["trial"])), "ms", "ratio reported", True,
        "python train.py --x 1 (fresh)", median(ms(bare)), informational=True)
    overhead.notes += [
        f"spread: bare {spread(ms(bare))} ms ({len(bare)} runs), trials "
        f"{spread(ms(timings['trial']))} ms ({len(timings['trial'])} trials)",
        f"a trial's own job, start → end (its record): median "
        f"{median(ms(timings['job'])):.0f} ms, {median(timings['job']) / median(bare):.2f}× "
        "the bare script"]
    return [throughput, overhead]


class _Comms(IOPubReader):
    """The widgets' comm traffic while counting, the final snapshot replacing them, and
    what the kernel printed, from every IOPub message."""

    def __init__(self, client):
        self.counting = False
        self.sizes: list[int] = []  # each comm_msg (a widget's update), in bytes
        self.opened: list[int] = []  # each comm_open (a widget's first state)
        self.snapshot_at: float | None = None
        self.snapshot = threading.Event()
        super().__init__(client)

    def handle(self, kind: str, content: dict) -> None:
        if self.counting and kind in ("comm_msg", "comm_open"):
            size = len(json.dumps(content, default=str))
            (self.sizes if kind == "comm_msg" else self.opened).append(size)
        elif kind == "update_display_data" and "smnb-sweep-snapshot" in str(content):
            if self.snapshot_at is None:
                self.snapshot_at = time.time()
            self.snapshot.set()


def dashboard() -> Result:
    """A sweep of 50 trials under its live dashboard, in a real kernel: comm messages and
    bytes a second, from the magic to the final snapshot."""
    with notebook_kernel() as client:
        comms = _Comms(client)
        try:
            comms.counting = True
            began = time.time()
            exec_ms(client, f"{DASHBOARD_LINE}\n{DASHBOARD_SCRIPT}")
            comms.snapshot.wait(SNAPSHOT_TIMEOUT_S)
            elapsed = (comms.snapshot_at or time.time()) - began
            comms.counting = False
            said = comms.answer("sweep.wait(timeout=60), len(sweep.trial_list())")
        finally:
            comms.stop()
    status, count = [*said, "?", "?"][:2]
    sizes = comms.sizes
    rate = len(sizes) / elapsed
    largest = max(sizes, default=0) / 1000
    result = Result(
        f"sweep dashboard ({DASHBOARD_TRIALS} trials, {DASHBOARD_PARALLEL} at once): "
        "comm messages/s", rate, "messages/s",
        f"≤ {MAX_MESSAGES_S:g} messages/s, none over {MAX_MESSAGE_KB:g} kB",
        rate <= MAX_MESSAGES_S and largest <= MAX_MESSAGE_KB and comms.snapshot_at is not None
        and status == "Completed")
    result.notes += [
        f"UI traffic: {rate:.1f} comm messages/s, {sum(sizes) / elapsed / 1000:.1f} kB/s "
        f"({len(sizes)} messages, {sum(sizes) / 1e6:.2f} MB over {elapsed:.1f} s; the largest "
        f"{largest:.1f} kB; the bounds are the job dashboard's, the server's limit 1,000 "
        "messages/s)",
        f"widgets opened: {len(comms.opened)} comm_open, {sum(comms.opened) / 1e6:.2f} MB "
        "(plotly's FigureWidget brings its bundle once)",
        f"sweep: {status}, {count} trials of 5 steps × 0.1 s, magic → final snapshot "
        + (f"{elapsed:.1f} s" if comms.snapshot_at is not None
           else f"not seen within {SNAPSHOT_TIMEOUT_S:g} s")]
    return result
