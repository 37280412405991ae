"""A backend that runs nothing: it plays a script of batches, one per poll, and records
every call, so ``Job`` and the launch service are tested in milliseconds (as httpx's
``MockTransport`` stands in for a network)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sm_notebook.backends.base import Batch, JobRef, Progress, no_progress
from sm_notebook.clock import utc_now_iso
from sm_notebook.errors import SmNotebookError
from sm_notebook.events import TERMINAL, LogEvent, StatusEvent
from sm_notebook.jobdir import JobDir
from sm_notebook.spec import TrainingSpec


def log(message: str, host: str = "algo-1") -> LogEvent:
    return LogEvent(utc_now_iso(), host, message)


def status(status: str, secondary: str | None = None, message: str = "",
           failure_reason: str | None = None) -> StatusEvent:
    return StatusEvent(utc_now_iso(), status, secondary or status, message, failure_reason)


@dataclass
class Step:
    """What one poll returns: lines and statuses (written to the folder, as backends do)."""

    logs: list[LogEvent] = field(default_factory=list)
    statuses: list[StatusEvent] = field(default_factory=list)


class FakeBackend:
    """Implements :class:`~sm_notebook.backends.base.Backend` exactly; scriptable.

    ``steps`` are played one per ``poll``; after the last, the job is done once a terminal
    status has been played (else each poll returns nothing: a job that runs on).  ``stop``
    plays ``Stopped``.  ``calls`` records ``(method, args)``."""

    mode = "local"

    def __init__(self, steps: list[Step] | None = None, notes: list[str] | None = None,
                 preflight_notes: list[str] | None = None,
                 fail_submit: BaseException | None = None, plan_text: str = "fake plan"):
        self.steps = list(steps or [])
        self.notes = notes or []
        self.preflight_notes = preflight_notes or []
        self.fail_submit = fail_submit
        self.plan_text = plan_text
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.on_progress: Progress = no_progress
        self.stopped = False

    @classmethod
    def from_settings(cls, settings: Any) -> FakeBackend:
        return cls()

    def preflight(self, spec: TrainingSpec, base: Path) -> list[str]:
        self.calls.append(("preflight", (spec, base)))
        return list(self.preflight_notes)

    def plan(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> str:
        self.calls.append(("plan", (spec, name, directory, base)))
        return self.plan_text

    def submit(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> JobRef:
        self.calls.append(("submit", (spec, name, directory, base)))
        if self.fail_submit is not None:
            raise self.fail_submit
        JobDir(directory).update_state(status="InProgress", secondary_status="Starting",
                                       created=utc_now_iso())
        return JobRef(name, directory, notes=list(self.notes))

    def attach(self, name: str, directory: Path) -> JobRef:
        self.calls.append(("attach", (name, directory)))
        if not directory.is_dir():
            raise SmNotebookError(f"no folder for job {name}")
        return JobRef(name, directory)

    def poll(self, ref: JobRef, cursor: Any) -> Batch:
        played = cursor or 0
        if played >= len(self.steps):
            return Batch([], [], played, done=self.ended)
        step = self.steps[played]
        folder = JobDir(ref.directory)
        folder.append_log(step.logs)
        for st in step.statuses:
            folder.update_state(status=st.status, secondary_status=st.secondary_status,
                                failure_reason=st.failure_reason,
                                ended=st.time if st.status in TERMINAL else None)
        return Batch(step.logs, step.statuses, played + 1,
                     done=played + 1 == len(self.steps) and self.ended)

    @property
    def ended(self) -> bool:
        return any(st.status in TERMINAL for step in self.steps for st in step.statuses)

    def stop(self, ref: JobRef) -> None:
        self.calls.append(("stop", (ref,)))
        self.stopped = True
        self.steps.append(Step(statuses=[status("Stopped")]))

    def describe(self, ref: JobRef) -> dict[str, Any]:
        return JobDir(ref.directory).state_dict()

    def release(self, cursor: Any) -> None:
        self.calls.append(("release", (cursor,)))

    def called(self, method: str) -> list[tuple[Any, ...]]:
        """The arguments of each call of ``method``."""
        return [args for name, args in self.calls if name == method]


__all__ = ["FakeBackend", "Step", "log", "status"]
