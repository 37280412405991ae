"""What every benchmark returns, and the timing helpers they share."""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Result:
    """One row of the table: a measured median against a baseline and a target."""

    name: str
    measured: float
    unit: str
    target: str
    passed: bool
    baseline_name: str = ""
    baseline: float | None = None
    notes: list[str] = field(default_factory=list)
    informational: bool = False  # a figure to report, with no target to meet

    @property
    def delta(self) -> float | None:
        return None if self.baseline is None else self.measured - self.baseline

    @property
    def ratio(self) -> float | None:
        return None if not self.baseline else self.measured / self.baseline


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """``min–max`` of a sample, for judging how noisy a median is."""
    return f"{min(values):.1f}–{max(values):.1f}"


def benchmark_shell():
    """The process's one IPython shell (``start_ipython`` gives it only the first time),
    with sm_notebook loaded once: a second ``load_ext`` would print a notice into the
    runner's table."""
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython() or get_ipython()
    if "sm_notebook" not in shell.extension_manager.loaded:
        shell.run_line_magic("load_ext", "sm_notebook")
    return shell


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A temporary working directory with its own jobs directory, left as it was after."""
    cwd = os.getcwd()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp)
            os.environ["SM_NOTEBOOK_JOBS_DIR"] = str(path / "jobs")
            os.chdir(path)
            yield path
    finally:
        os.chdir(cwd)


class IOPubReader:
    """Reads a kernel client's IOPub messages on a thread, handing each to ``handle``
    (what a benchmark counts); ``stop()`` ends it."""

    def __init__(self, client) -> None:
        self.client = client
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.client.get_iopub_msg(timeout=0.2)
            except Exception:
                continue
            self.handle(msg["msg_type"], msg["content"])

    def handle(self, kind: str, content: dict) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
