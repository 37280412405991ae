"""A job's metric points from the kernel's side: the parser beside the job, and its file.

No metric pattern runs in the kernel while a job is followed: ``runtime/metric_points.py``
parses ``job.log`` in a process of its own (under a watchdog, so a pattern that backtracks
without end is switched off rather than freezing anything), and the kernel reads
``metric_points.tsv`` only when the points are asked for.  A supervisor may run that
parser itself; one started here then leaves at once (one parser per folder, by a lock),
and at the end one more runs only if the points do not yet cover the whole log.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .jobdir import JobDir, PointsReader
from .runtime.metric_rules import MetricPoint

PARSER = Path(__file__).resolve().parent / "runtime" / "metric_points.py"


class MetricPoints:
    """Starts, finishes and reads the metric parser of one job folder."""

    def __init__(self, folder: JobDir, definitions: Sequence[tuple[str, str]],
                 budget: float | None = None):
        self.folder = folder
        self.definitions = [list(d) for d in definitions]
        self.budget = budget
        self.reader = PointsReader(folder.metric_points_file)
        self._process: subprocess.Popen[bytes] | None = None
        self._unsaid: list[str] = []  # warnings a scan found, not yet taken

    def command(self) -> list[str]:
        argv = [sys.executable, str(PARSER), str(self.folder.path),
                "--definitions", json.dumps(self.definitions)]
        return argv + (["--budget", str(self.budget)] if self.budget is not None else [])

    def follow(self) -> None:
        """Start a parser that follows the log until :meth:`finish` (it leaves at once
        when one is already at work on the folder)."""
        if self._process is None:
            self._process = self._spawn(subprocess.PIPE)

    def finish(self, timeout: float, wait: bool = True) -> bool:
        """Let the parser end at the end of the log; with ``wait``, wait for it and make
        sure the points cover the whole log.  True when they do."""
        process, self._process = self._process, None
        if process is not None and process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()  # its signal: parse what is there, then end
        if not wait:
            return False
        if process is not None and not _waited(process, timeout):
            return False
        self._unsaid += self.reader.scan()
        if self.reader.log_offset >= self.folder.log_size():
            return True
        return _waited(self._spawn(subprocess.DEVNULL), timeout)

    def points(self) -> list[MetricPoint]:
        """The points committed since the last call."""
        return self.reader.points()

    def warnings(self) -> list[str]:
        """Definitions switched off since the last call, one message each."""
        found, self._unsaid = self._unsaid + self.reader.scan(), []
        return found

    def _spawn(self, stdin: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.command(), stdin=stdin, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)


def _waited(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Whether ``process`` ended within ``timeout`` (it is killed when it did not)."""
    try:
        process.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return False
