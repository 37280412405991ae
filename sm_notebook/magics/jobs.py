"""``%sm_jobs`` (the jobs as a DataFrame), ``%sm_attach`` (follow a job again) and
``%sm_compare`` (jobs side by side), with the training family's settings and followed
jobs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from ..checks import check_job_name
from ..errors import SmNotebookError, SpecError
from ..serving.record import ENDPOINTS
from ..tuning.sweep_dir import SWEEPS

if TYPE_CHECKING:

    from ..job import Job
    from .train import SmTrainMagics

FILTERS = ("--mode", "--status", "--queue")


@magics_class
class SmJobsMagics(Magics):
    """List jobs and follow them again."""

    def __init__(self, shell: Any, train: SmTrainMagics):
        super().__init__(shell)
        self.train = train  # its settings, its followed jobs and its views

    @line_magic
    def sm_jobs(self, line: str = "") -> Any:
        """List the jobs under the jobs directory as a DataFrame (newest first).

        ``%sm_jobs`` all jobs; ``%sm_jobs --mode local`` one mode; ``%sm_jobs --status Failed``;
        ``%sm_jobs --queue NAME`` the jobs of an AWS Batch training queue.
        """
        from ..launch import AccountJobsError

        filters = parse_filters(line)
        try:
            rows = self.train.launcher().rows(filters)
        except AccountJobsError as exc:
            which = " ".join(f"--{k} {v}" for k, v in filters.items() if k in ("mode", "queue"))
            raise UsageError(f"%sm_jobs {which}: {exc}") from None
        from ..jobsframe import jobs_frame

        return jobs_frame(rows)

    @line_magic
    def sm_attach(self, line: str) -> Any:
        """Follow a job again (after a kernel restart): ``job = %sm_attach NAME``; a sweep:
        ``sweep = %sm_attach SWEEP``; an endpoint's predictor: ``predictor = %sm_attach
        --endpoint NAME`` (or a NAME that only an endpoint has; see %sm_endpoints)."""
        name = line.strip()
        endpoint = name.startswith("--endpoint")
        name = name.removeprefix("--endpoint").strip() if endpoint else name
        if not name:
            raise UsageError("%sm_attach: give a job name (see %sm_jobs), or --endpoint NAME "
                             "(see %sm_endpoints)")
        try:  # the name is a folder of the jobs directory: no path may hide in it
            check_job_name("%sm_attach", name)
        except SpecError as exc:
            raise UsageError(str(exc)) from None
        sweep = self.train.registry.root / SWEEPS / name
        if not endpoint and sweep.is_dir() and not (self.train.registry.root / name).is_dir():
            return self.attach_sweep(sweep)
        folder = self.train.registry.root / ENDPOINTS / name
        if endpoint or (name not in self.train.jobs and not (
                self.train.registry.root / name).is_dir() and folder.is_dir()):
            return attach_endpoint(folder, name)
        live = self.train.jobs.get(name)
        if live is not None:  # followed in this kernel already
            self.already_followed(live)
            return live
        try:
            job = self.train.launcher().attach(name)
        except SmNotebookError as exc:
            raise UsageError(f"%sm_attach: {exc}") from None
        self.train.jobs[name] = job
        if job.done:
            self.train.view.show_ended(job)
        else:
            from ..line.parse import LaunchOptions

            self.train.view.show(job, LaunchOptions(), verb="attached to")
        return job

    @line_magic
    def sm_compare(self, line: str) -> Any:
        """Compare jobs: ``%sm_compare NAME NAME ...`` (names from ``%sm_jobs``).

        Their metrics on shared per-metric subplots, one colour per job, and a table of
        their hyperparameters (those that differ marked) and final metric values; plain
        outputs that a saved notebook keeps.  ``cmp = %sm_compare a b``; ``cmp.table`` is
        the table as a DataFrame.
        """
        from ..ui.comparison import compare

        names = line.split()
        followed = [self.train.jobs.get(name, name) for name in names]
        try:
            return compare(followed, self.train.registry.root)
        except SmNotebookError as exc:  # a bad name says its option already
            message = str(exc)
            raise UsageError(message if message.startswith("%sm_compare")
                             else f"%sm_compare: {message}") from None

    def attach_sweep(self, folder: Path) -> Any:
        """A sweep again, from its folder (its driver kept running)."""
        from ..tuning.sweep import Sweep

        try:
            sweep = Sweep(folder, self.train.launcher().attach)
        except SmNotebookError as exc:
            raise UsageError(f"%sm_attach: {exc}") from None
        print(f"attached to {sweep.summary()}")
        from ..ui.sweep_view import show

        show(sweep, self.train)
        return sweep

    def already_followed(self, job: Job) -> None:
        if job.done:
            self.train.view.show_ended(job)
        else:
            print(f"job {job.name} is already followed in this kernel; its live view is "
                  "under the cell that started it")


def attach_endpoint(folder: Path, name: str) -> Any:
    """The predictor of endpoint ``name``, found by its record."""
    if not (folder / "endpoint.json").is_file():
        raise UsageError(f"%sm_attach --endpoint: no endpoint {name!r} (see %sm_endpoints)")
    from ..serving.predictor import Predictor

    return Predictor(folder)


def parse_filters(line: str) -> dict[str, str]:
    """``--mode MODE``, ``--status STATUS`` and ``--queue NAME`` → ``{"mode": ...}``."""
    tokens = line.split()
    filters = {}
    while tokens:
        flag = tokens.pop(0)
        if flag not in FILTERS or not tokens:
            raise UsageError(f"%sm_jobs: unknown option {flag!r} (expected --mode MODE, "
                             "--status STATUS or --queue NAME)")
        filters[flag[2:]] = tokens.pop(0)
    return filters


__all__ = ["SmJobsMagics", "parse_filters"]
