"""Showing a job under its cell: the live dashboard or a status display, a job that had
ended, the ``--wait`` loop and what Ctrl-C does to it (the mode table says)."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Protocol

from IPython.display import display

from .. import modes
from ..errors import JobFailedError, SmNotebookError
from ..job import Job
from ..line.parse import LaunchOptions
from ..ui.dashboard import Dashboard, final_snapshot
from ..ui.text import StatusView, ThrottledStatus, final_lines, summary_line

if TYPE_CHECKING:
    from ..ui.form import TrainingForm

WAIT_TICK = 0.1  # seconds between checks of a --wait loop


class ViewSettings(Protocol):
    """What showing a job reads from the magics' ``%config`` settings."""

    dashboard: str
    refresh_rate: float
    dashboard_lines: int
    chart_points: int
    status_lines: int
    stop_grace: float
    chart: str
    boards: dict[str, Dashboard]

    @property
    def in_kernel(self) -> bool: ...

    def interactive(self) -> bool: ...


def chart_kind(chart: str) -> str:
    """plotly where a browser draws widgets: a kernel a Jupyter server started (it sets
    JPY_SESSION_NAME); SVG for headless runs, which would save plotly's 5 MB bundle."""
    if chart != "auto":
        return chart
    return "plotly" if os.environ.get("JPY_SESSION_NAME") else "svg"


def handle_hint(job: Job, variable: str | None) -> str:
    """How to reach a job started outside a kernel."""
    if variable:
        return f"{variable}.status, {variable}.wait(), {variable}.logs()"
    return f"job = %sm_attach {job.name} gives its handle"


class JobDisplay:
    """Shows jobs as the settings say; one per magics object."""

    def __init__(self, settings: ViewSettings):
        self.settings = settings

    def show(self, job: Job, launch: LaunchOptions, form: TrainingForm | None = None,
             verb: str = "started") -> None:
        """Start following ``job`` with its view: in ``form`` when it came from one."""
        s = self.settings
        if s.in_kernel or form is not None:
            if form is not None or (s.dashboard == "widgets" and not launch.quiet):
                self.dashboard(job, launch, form)
            else:
                ThrottledStatus(job, rate=s.refresh_rate, lines=s.status_lines,
                                final_only=launch.quiet)
            job.start()
            return
        job.start()
        if not launch.quiet and not launch.wait:
            print(f"{verb} {job.mode} job {job.name}; {handle_hint(job, launch.variable)}")

    def dashboard(self, job: Job, launch: LaunchOptions, form: TrainingForm | None) -> None:
        s = self.settings
        board = s.boards[job.name] = Dashboard(
            job, rate=s.refresh_rate, log_lines=s.dashboard_lines,
            max_points=s.chart_points, chart=chart_kind(s.chart),
            embed=form is not None, text_status=not s.interactive(),
            blocking=launch.wait and form is None)
        if form is not None:  # the dashboard takes the form's place
            form.root.children = (*form.root.children, board.root)

    def show_ended(self, job: Job) -> None:
        """A job attached after its end: its final state at once, with no live view to
        start and tear down."""
        s = self.settings
        if not s.in_kernel:
            print("\n".join([f"attached to a finished job: {summary_line(job)}",
                             *final_lines(job)]))
        elif s.dashboard == "widgets":
            for part in final_snapshot(job, s.dashboard_lines, s.chart_points).parts:
                display(part)
        else:
            display(StatusView(job, s.status_lines))

    def wait(self, job: Job, launch: LaunchOptions) -> None:
        """Block until ``job`` ends (``--wait``); Ctrl-C stops a job on this machine and
        leaves a remote one running.  ``JobFailedError`` for a failed job."""
        s = self.settings
        echo = not s.in_kernel and not launch.quiet
        try:
            printed = 0
            while not job.done:
                time.sleep(WAIT_TICK)
                if echo:
                    printed = print_new_lines(job, printed)
            if echo:
                print_new_lines(job, printed)
            board = s.boards.get(job.name)
            if board is not None:  # its final snapshot, while this cell still runs
                board.wait_finished(timeout=10)
        except KeyboardInterrupt:
            raise self.interrupted(job) from None
        if not s.in_kernel or launch.quiet:
            print("\n".join([summary_line(job), *final_lines(job)]))
        if job.status == "Failed":
            raise JobFailedError(f"job {job.name} failed: {job.failure_reason}")

    def interrupted(self, job: Job) -> SmNotebookError:
        """Ctrl-C during ``--wait``: a job on this machine is stopped (as ``docker run``
        does); elsewhere it keeps running."""
        if modes.get(job.mode).on_this_machine:
            print(f"Interrupted: stopping {job.mode} job {job.name} (SIGTERM, then SIGKILL "
                  f"after {self.settings.stop_grace:g} s)...", file=sys.stderr)
            job.stop()
            job.wait()
            return SmNotebookError(f"interrupted; job {job.name} is {job.status}")
        return SmNotebookError(f"interrupted; job {job.name} keeps running "
                               f"({job.mode} mode): job.stop() stops it")


def print_new_lines(job: Job, printed: int) -> int:
    """Print the lines after the first ``printed``; return how many there are now."""
    total = job.line_count
    if total > printed:
        lines = job.recent_lines(total - printed)
        skipped = total - printed - len(lines)
        if skipped > 0:
            print(f"... {skipped} lines not shown (full log: {job.log_path})")
        for ev in lines:
            print(ev.message)
    return total


__all__ = ["JobDisplay", "ViewSettings", "chart_kind", "handle_hint", "print_new_lines"]
