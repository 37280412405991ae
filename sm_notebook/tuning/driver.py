"""The sweep's driver: a detached process that runs the trials of a local or container
sweep through the same launch path as ``%%sm_train``, at most ``max_parallel`` at once,
tells the strategy each result and stops every running trial when asked.  Detached, so a
kernel restart leaves the sweep running; a failed trial is a row that says why, and the
sweep goes on.

Usage: ``python -m sm_notebook.tuning.driver SWEEP_DIR``.
"""

from __future__ import annotations

import dataclasses
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from ..errors import SmNotebookError
from .objective import Objective, TuningOptions
from .ranges import Range
from .search import search_for
from .stopping import halving_stop, median_stop
from .sweep_dir import SweepDir, Trial

POLL = 0.05  # seconds between looks at the running trials
#: seconds between reads of the running trials' curves: under a stopping rule, and without
CURVES_EVERY_RULED, CURVES_EVERY = 0.25, 1.0


def options_from(data: dict[str, Any]) -> TuningOptions:
    return TuningOptions(
        ranges=[Range(**{**r, "values": tuple(r.get("values") or ())}) for r in data["ranges"]],
        objective=Objective(**data["objective"]), max_jobs=data["max_jobs"],
        max_parallel=data["max_parallel"], strategy=data["strategy"],
        early_stopping=data["early_stopping"], warm_start=data["warm_start"],
        seed=data["seed"])


def objective_curve(job: Any, metric: str) -> list[tuple[float, float]]:
    """The objective as logged: ``(step, value)``, the value's order where no step."""
    frame = job.metrics()
    if not len(frame):
        return []
    rows = frame[frame["metric"] == metric]
    steps = rows["step"] if "step" in rows and rows["step"].notna().all() else range(
        1, len(rows) + 1)
    return [(float(s), float(v)) for s, v in zip(steps, rows["value"], strict=True)]


class Driver:
    def __init__(self, folder: SweepDir):
        from .. import backends
        from ..jobs import JobsFolder
        from ..launch import Launcher
        from ..spec import TrainingSpec

        self.folder = folder
        meta = folder.read_meta()
        self.spec = TrainingSpec.from_dict(meta["spec"])
        self.options = options_from(meta["tuning"])
        settings = backends.Settings(**{k: (Path(v) if k == "kinds_cache" and v else v)
                                        for k, v in meta["settings"].items()})
        self.launcher = Launcher(JobsFolder(Path(meta["jobs_root"])), settings,
                                 region=meta.get("region"), base=Path(meta["base"]))
        assert self.options.objective is not None
        self.objective = self.options.objective
        self.search = search_for(self.options.strategy, self.options.ranges,
                                 self.options.max_jobs, self.options.seed,
                                 self.objective.maximize)
        self.trials: list[Trial] = []
        for parent in self.options.warm_start:  # what the parents learnt, told first
            for trial in SweepDir(folder.path.parent / parent).read_trials():
                if trial.status == "Completed" and trial.objective is not None:
                    self.search.warm(trial.values, trial.objective)
        self.running: dict[int, Any] = {}  # trial number → its Job
        self.exhausted = False  # the strategy has no more trials to give
        self.curves_read = 0.0
        self.written: list[dict[str, Any]] | None = None

    def run(self) -> str:
        self.folder.update_meta(status="InProgress")
        while True:
            if self.folder.stop_requested:
                return self.stop_all()
            self.collect_ended()  # first: a slot freed now is filled in the same tick
            self.stop_the_worse()
            self.launch_free_slots()
            self.write_if_changed()
            if not self.running and self.exhausted:
                return "Completed"
            time.sleep(POLL)

    def write_if_changed(self) -> None:
        """trials.json, when a trial changed since it was last written."""
        now = [dataclasses.asdict(t) for t in self.trials]
        if now != self.written:
            self.folder.write_trials(self.trials)
            self.written = now

    def launch_free_slots(self) -> None:
        while len(self.running) < self.options.max_parallel and not self.exhausted:
            values = self.search.suggest()
            if values is None:
                self.exhausted = True
                return
            self.launch(values)

    def launch(self, values: dict[str, Any]) -> None:
        from ..line.parse import LaunchOptions

        number = len(self.trials) + 1
        name = f"{self.folder.name}-{number:03d}"
        trial = Trial(number, name, values, started=time.time())
        self.trials.append(trial)
        spec = dataclasses.replace(self.spec, job_name=name, hyperparameters={
            **self.spec.hyperparameters, **values})
        try:
            job = self.launcher.launch(spec, LaunchOptions())
            job.start()
        except SmNotebookError as exc:
            self.end(trial, "Failed", None, str(exc))
            return
        trial.status = "InProgress"
        self.running[number] = job

    def stop_the_worse(self) -> None:
        """Each running trial's per-step curve into trials.json (every tick under a
        stopping rule, else once a second), and early stopping or successive halving."""
        rule = ("median" if self.options.early_stopping == "auto" else None) or (
            "halving" if self.options.strategy == "hyperband" else None)
        now = time.monotonic()
        if now - self.curves_read < (CURVES_EVERY if rule is None else CURVES_EVERY_RULED):
            return
        self.curves_read = now
        maximize = self.objective.maximize
        for number, job in self.running.items():
            trial = self.trials[number - 1]
            trial.steps = [list(p) for p in objective_curve(job, self.objective.metric)]
            if rule is None or trial.stopped_early:
                continue
            curve = [(s, v) for s, v in trial.steps]
            if rule == "median":
                completed = [[(s, v) for s, v in t.steps] for t in self.trials
                             if t.status == "Completed"]
                why = median_stop(curve, completed, maximize)
            else:
                others = [[(s, v) for s, v in t.steps] for t in self.trials
                          if t.number != number and t.steps]
                why = halving_stop(curve, others, maximize)
            if why:
                trial.stopped_early, trial.failure_reason = True, why
                job.stop()

    def collect_ended(self) -> None:
        for number, job in list(self.running.items()):
            if not job.done:
                continue
            del self.running[number]
            trial = self.trials[number - 1]
            trial.steps = [list(p) for p in objective_curve(job, self.objective.metric)]
            objective = trial.steps[-1][1] if trial.steps else None
            status, reason = job.status, job.failure_reason
            if trial.stopped_early:
                status, reason = "Stopped", trial.failure_reason
            elif status == "Completed" and objective is None:
                status, reason = "Failed", f"the objective {self.objective.metric} was never logged"
            self.end(trial, status, objective, reason)

    def end(self, trial: Trial, status: str, objective: float | None,
            reason: str | None) -> None:
        trial.status, trial.objective, trial.ended = status, objective, time.time()
        trial.failure_reason = reason
        self.search.tell(trial.values, objective if status == "Completed" else None)

    def stop_all(self) -> str:
        self.folder.update_meta(status="Stopping")
        for job in self.running.values():
            job.stop()
        for number, job in list(self.running.items()):
            job.wait()
            trial = self.trials[number - 1]
            trial.steps = [list(p) for p in objective_curve(job, self.objective.metric)]
            ended = job.status if job.status in ("Completed", "Failed") else "Stopped"
            self.end(trial, ended, trial.steps[-1][1] if trial.steps else None,
                     job.failure_reason if ended == "Failed" else None)
        self.running.clear()
        for trial in self.trials:
            if trial.status == "Pending":
                trial.status = "Stopped"
        self.folder.write_trials(self.trials)
        return "Stopped"


def main(argv: list[str]) -> int:
    folder = SweepDir(Path(argv[1]))
    try:
        status = Driver(folder).run()
    except Exception as exc:  # the sweep says why it ended; the trace goes to its log
        traceback.print_exc()
        folder.update_meta(status="Failed", failure_reason=f"{type(exc).__name__}: {exc}",
                           ended=time.time())
        return 1
    folder.update_meta(status=status, ended=time.time())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
