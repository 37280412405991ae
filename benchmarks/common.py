"""What every benchmark returns, and the timing helpers they share."""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import threading
import time
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


@contextlib.contextmanager
def notebook_kernel() -> Iterator[object]:
    """A real kernel, as a notebook's (its jobs in a throwaway folder), with sm_notebook
    loaded: its client, shut down after."""
    from jupyter_client.manager import start_new_kernel

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SM_NOTEBOOK_JOBS_DIR": os.path.join(tmp, "jobs"),
               "JPY_SESSION_NAME": os.path.join(tmp, "bench.ipynb")}
        manager, client = start_new_kernel(kernel_name="python3", cwd=tmp, env=env)
        try:
            exec_ms(client, "%load_ext sm_notebook")
            yield client
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


def exec_ms(client, code: str = "1+1") -> float:
    """From sending ``code`` to its execute_reply (IOPub is read by an ``IOPubReader``)."""
    began = time.perf_counter()
    msg_id = client.execute(code)
    while True:
        reply = client.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            return (time.perf_counter() - began) * 1000


class IOPubReader:
    """Reads a kernel client's IOPub messages on a thread, keeping what the kernel printed
    and handing the rest to ``handle`` (what a benchmark counts); ``stop()`` ends it."""

    def __init__(self, client) -> None:
        self.client = client
        self.printed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.client.get_iopub_msg(timeout=0.2)
            except Exception:
                continue
            if msg["msg_type"] == "stream":
                self.printed.append(msg["content"].get("text", ""))
            else:
                self.handle(msg["msg_type"], msg["content"])

    def handle(self, kind: str, content: dict) -> None:
        raise NotImplementedError

    def answer(self, expression: str) -> list[str]:
        """The words the kernel prints for ``expression`` (what a run ended with)."""
        self.printed.clear()
        exec_ms(self.client, f"print('result', {expression})")
        time.sleep(0.5)  # the stream message follows the reply
        said = [t.split("result ", 1)[1] for t in self.printed if "result " in t]
        return said[0].split() if said else []

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
