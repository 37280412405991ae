"""A sweep's folder (pure): ``<jobs dir>/.sweeps/NAME/`` with ``sweep.json`` (what was
asked: the base spec, the tuning options, the settings, the driver's PID and identity),
``trials.json`` (each trial: its job, values, status, objective, times, why it failed),
``driver.log`` and, when asked, ``stop`` (the driver stops every running trial).  The
driver writes ``trials.json`` and the status; the kernel only reads them, so a kernel
restart loses nothing and a sweep is attached again by name."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..jobdir import read_json, write_json

SWEEPS = ".sweeps"  # in the jobs directory (a name %sm_jobs never lists)
ENDED = ("Completed", "Stopped", "Failed")


@dataclass
class Trial:
    """One trial of a sweep, as ``trials.json`` keeps it."""

    number: int
    job: str
    values: dict[str, Any]
    status: str = "Pending"  # Pending, InProgress, Completed, Failed, Stopped
    objective: float | None = None
    started: float | None = None
    ended: float | None = None
    failure_reason: str | None = None
    stopped_early: bool = False
    steps: list[list[float]] = field(default_factory=list)  # [step, objective] as logged


def best_trial(trials: list[Trial], maximize: bool) -> Trial | None:
    """The best completed trial with an objective (the first of equals)."""
    done = [t for t in trials if t.status == "Completed" and t.objective is not None]
    if not done:
        return None
    return (max if maximize else min)(done, key=lambda t: t.objective)


class SweepDir:
    def __init__(self, path: Path):
        self.path = path

    @property
    def name(self) -> str:
        return self.path.name

    meta_file = property(lambda self: self.path / "sweep.json")
    trials_file = property(lambda self: self.path / "trials.json")
    stop_file = property(lambda self: self.path / "stop")
    log_file = property(lambda self: self.path / "driver.log")

    def read_meta(self) -> dict[str, Any]:
        return read_json(self.meta_file)

    def update_meta(self, **fields: Any) -> None:
        write_json(self.meta_file, {**self.read_meta(), **fields})

    def read_trials(self) -> list[Trial]:
        rows = read_json(self.trials_file).get("trials", [])
        return [Trial(**row) for row in rows if isinstance(row, dict)]

    def write_trials(self, trials: list[Trial]) -> None:
        write_json(self.trials_file, {"trials": [asdict(t) for t in trials]})

    def request_stop(self) -> None:
        self.stop_file.touch()

    @property
    def stop_requested(self) -> bool:
        return self.stop_file.exists()
