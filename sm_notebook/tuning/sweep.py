"""The sweep's handle, ``sweep`` in ``%%sm_tune sweep ...``, and its start.

``start_sweep`` writes the sweep's folder and starts its driver (``driver.py``) detached;
the handle reads what the driver writes: ``.status``, ``.trials()`` (a DataFrame),
``.best`` (the best trial's ``Job``, so ``sweep.best.deploy()`` works), ``.jobs``,
``.stop()`` (every running trial, as a job's stop does) and ``.wait()``."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SmNotebookError
from ..runtime import processes
from .objective import TuningOptions
from .sweep_dir import ENDED, SWEEPS, SweepDir, Trial, best_trial

if TYPE_CHECKING:
    import pandas as pd

    from ..job import Job
    from ..spec import TrainingSpec

NAME_MAX = 59  # a trial is NAME-NNN, and a SageMaker job name takes 63 characters


def sweep_name(spec: TrainingSpec, now: datetime | None = None) -> str:
    """``--job-name`` (the sweep's name; trials are NAME-001 ...), else ``sweep-<time>``."""
    if spec.job_name:
        if len(spec.job_name) > NAME_MAX:
            from ..errors import SpecError

            raise SpecError("--job-name", f"{spec.job_name!r} is {len(spec.job_name)} "
                            f"characters; a sweep's takes {NAME_MAX} (trials add -NNN)",
                            f"at most {NAME_MAX} characters")
        return spec.job_name
    stamp = now or datetime.now(UTC)
    return f"sweep-{stamp:%Y-%m-%d-%H-%M-%S}-{stamp.microsecond // 1000:03d}"


def start_sweep(spec: TrainingSpec, options: TuningOptions, launcher: Any,
                attach: Callable[[str], Job], service: Any = None) -> Sweep:
    """The sweep's folder, and its driver started detached (or, given the backend that
    checked it, ``service``, a SageMaker tuning job created); the handle."""
    root = launcher.jobs.root / SWEEPS
    name = sweep_name(spec)
    path = root / name
    if path.exists() or launcher.jobs.exists(f"{name}-001"):
        raise SmNotebookError(f"--job-name: a sweep named {name!r} already exists "
                              f"({path}); choose another name")
    path.mkdir(parents=True, mode=0o700)
    folder = SweepDir(path)
    settings = {k: (str(v) if isinstance(v, Path) else v)
                for k, v in dataclasses.asdict(launcher.settings).items()}
    base = dataclasses.replace(spec, job_name=None)
    folder.update_meta(name=name, mode=spec.mode, spec=base.to_dict(),
                       tuning=options.to_dict(), settings=settings,
                       jobs_root=str(launcher.jobs.root), base=str(launcher.base),
                       region=launcher.region, created=time.time(), status="Starting")
    folder.write_trials([])
    if service:
        try:
            region, notes = service.submit_tuning(spec, options, name, path, launcher.base)
        except BaseException:  # nothing half made: the service has no tuning job
            shutil.rmtree(path, ignore_errors=True)
            raise
        folder.update_meta(service=True, region=region, status="InProgress", notes=notes)
        return Sweep(path, attach)
    fd = os.open(folder.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with open(fd, "wb") as log:
        driver = subprocess.Popen([sys.executable, "-m", "sm_notebook.tuning.driver",
                                   str(path)], stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=log, start_new_session=True, close_fds=True)
    folder.update_meta(pid=driver.pid, identity=processes.identity(driver.pid))
    return Sweep(path, attach)


class Sweep:
    """A sweep, found by its folder (after a kernel restart too)."""

    def __init__(self, path: Path, attach: Callable[[str], Job]):
        self.folder = SweepDir(path)
        self._attach = attach
        self._jobs: dict[str, Job] = {}
        meta = self.folder.read_meta()
        if not meta:
            raise SmNotebookError(f"no sweep in {path}")
        self.options = meta["tuning"]
        self.service = None
        if meta.get("service"):  # a SageMaker tuning job: the service keeps its state
            from .service_sweep import ServiceTrials

            self.service = ServiceTrials(meta["name"], meta["region"], self.options["ranges"])

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def objective(self) -> dict[str, str]:
        return self.options["objective"]

    @property
    def status(self) -> str:
        """Starting, InProgress, Stopping, Completed, Stopped or Failed (its driver gone)."""
        if self.service is not None:
            return self.service.status()
        meta = self.folder.read_meta()
        status = meta.get("status", "Starting")
        if status not in ENDED and not processes.running(meta.get("pid"), meta.get("identity")):
            meta = self.folder.read_meta()  # it may have ended since the first read
            if meta.get("status") not in ENDED:
                return "Failed"
            status = meta["status"]
        return status

    @property
    def done(self) -> bool:
        return self.status in ENDED

    def trial_list(self) -> list[Trial]:
        return self.service.trials() if self.service is not None else self.folder.read_trials()

    def trials(self) -> pd.DataFrame:
        """One row a trial: its job, status, each hyperparameter, the objective, the
        duration and why it failed; the best trial marked."""
        import pandas as pd

        names = [r["name"] for r in self.options["ranges"]]
        best = self.best_trial()
        rows = [{"trial": t.number, "job": t.job, "status": t.status,
                 **{n: t.values.get(n) for n in names}, "objective": t.objective,
                 "duration_s": None if t.started is None or t.ended is None
                 else round(t.ended - t.started, 1),
                 "best": best is not None and t.number == best.number,
                 "stopped_early": t.stopped_early, "failure_reason": t.failure_reason}
                for t in self.trial_list()]
        return pd.DataFrame(rows, columns=["trial", "job", "status", *names, "objective",
                                           "duration_s", "best", "stopped_early",
                                           "failure_reason"])

    def best_trial(self) -> Trial | None:
        return best_trial(self.trial_list(), self.objective["type"] == "Maximize")

    @property
    def best(self) -> Job | None:
        """The best completed trial's job handle (None until one completes)."""
        trial = self.best_trial()
        return None if trial is None else self.job(trial.job)

    @property
    def jobs(self) -> list[Job]:
        """Every trial's job handle that exists (a trial refused at launch has none)."""
        out = []
        for trial in self.trial_list():
            try:
                out.append(self.job(trial.job))
            except SmNotebookError:
                continue
        return out

    def job(self, name: str) -> Job:
        if name not in self._jobs:
            self._jobs[name] = self._attach(name)
        return self._jobs[name]

    def stop(self) -> None:
        """Stop every running trial (SIGTERM, then SIGKILL, as a job's stop) and launch no
        more (a tuning job: ``StopHyperParameterTuningJob``)."""
        if self.service is not None:
            self.service.stop()
            return
        self.folder.request_stop()

    def wait(self, timeout: float | None = None) -> str:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"sweep {self.name} is still {self.status}")
            time.sleep(0.2)
        return self.status

    def summary(self) -> str:
        trials = self.trial_list()
        counts = {s: sum(t.status == s for t in trials) for s in
                  ("InProgress", "Completed", "Failed", "Stopped")}
        best = self.best_trial()
        said = ", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n)
        objective = f"{self.objective['type']} {self.objective['metric']}"
        line = (f"sweep {self.name} · {self.status} · {len(trials)}/"
                f"{self.options['max_jobs']} trials" + (f" ({said})" if said else "")
                + f" · {objective}")
        if best is not None:
            line += f" · best {best.objective:g} ({best.job})"
        return line

    def __repr__(self) -> str:
        return f"<Sweep {self.summary()}>"
