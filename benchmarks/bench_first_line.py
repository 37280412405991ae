"""Local mode: from the ``%%sm_train`` call to the script's first line in the job handle,
against running ``python train.py`` and reading its first line."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .common import Result, benchmark_shell, median, spread

TARGET_MS = 150.0
SCRIPT = 'print("first line", flush=True)\n'


def _direct(script: Path) -> float:
    began = time.perf_counter()
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE) as proc:
        proc.stdout.readline()
        elapsed = time.perf_counter() - began
        proc.wait()
    return elapsed * 1000


def _through_magic(shell, number: int | str) -> float:
    arrived = threading.Event()
    began = time.perf_counter()
    shell.run_cell_magic("sm_train", f"bench_{number} --quiet", SCRIPT)
    job = shell.user_ns.pop(f"bench_{number}")
    job.add_listener(lambda j: j.line_count and arrived.set())
    if job.line_count:  # the line may have landed before the listener was added
        arrived.set()
    if not arrived.wait(30):
        raise RuntimeError(f"no first line from job {job.name} ({job.status})")
    elapsed = time.perf_counter() - began
    job.wait(60)
    return elapsed * 1000


def run(repeat: int) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SM_NOTEBOOK_JOBS_DIR"] = str(Path(tmp, "jobs"))
        script = Path(tmp, "train.py")
        script.write_text(SCRIPT)
        shell = benchmark_shell()
        _direct(script), _through_magic(shell, "warmup")  # warm up imports and caches
        direct, magic = [], []
        for number in range(repeat):
            direct.append(_direct(script))
            magic.append(_through_magic(shell, number))
    result = Result("local mode: magic → first line", median(magic), "ms",
                    f"≤ +{TARGET_MS:g} ms", False, "python train.py → first line",
                    median(direct))
    result.passed = result.delta <= TARGET_MS
    result.notes.append(f"spread: direct {spread(direct)} ms, magic {spread(magic)} ms")
    return result
