"""The seam between a job and where it runs, and the records that cross it.

A backend owns all blocking I/O for its mode and knows nothing of widgets or IPython.
``submit`` starts a job in a prepared job folder; ``poll`` returns what happened since a
cursor (at most briefly blocking); ``stop`` asks the job to stop with the mode's semantics;
``attach`` follows an existing job again.  Every backend implements :class:`Backend`
exactly (a test compares signatures); abilities only some have are the small Protocols
below, checked with ``isinstance``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..events import LogEvent, StatusEvent
from ..spec import TrainingSpec

#: ``on_progress(text, final=False)``: one line of progress (a pull, an upload), redrawn
#: in place until ``final``
Progress = Callable[..., None]


def no_progress(text: str, final: bool = False) -> None:
    """The default progress sink: says nothing."""


@dataclass
class JobRef:
    """What a backend needs to find a job again (kept in memory; rebuilt by ``attach``).

    ``notes`` are what the backend learnt while submitting that the user should be told
    (the image kind it detected, a truncated name)."""

    name: str
    directory: Path
    handle: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Batch:
    """Events since the cursor; ``done`` once the job is terminal and fully drained."""

    logs: list[LogEvent]
    statuses: list[StatusEvent]
    cursor: Any
    done: bool = False
    lines: int | None = None  # lines read, when ``logs`` holds only the last of them


@runtime_checkable
class Backend(Protocol):
    """What every backend implements, with these exact parameters."""

    mode: str
    on_progress: Progress

    @classmethod
    def from_settings(cls, settings: Any) -> Backend:
        """A backend configured from ``backends.Settings``."""
        ...

    def preflight(self, spec: TrainingSpec, base: Path) -> list[str]:
        """Check what can be checked before anything is created; return notes.  Raises
        ``SpecError`` for input the mode cannot run, ``SmNotebookError`` for a fault
        (an engine that is down, credentials that are missing)."""
        ...

    def plan(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> str:
        """What ``submit`` would run, for ``--dry-run`` (nothing is created)."""
        ...

    def submit(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> JobRef:
        """Start the job in its (created, empty but for ``job.json``) folder."""
        ...

    def attach(self, name: str, directory: Path) -> JobRef:
        """Follow a job of this mode again from its folder."""
        ...

    def poll(self, ref: JobRef, cursor: Any) -> Batch: ...

    def stop(self, ref: JobRef) -> None: ...

    def describe(self, ref: JobRef) -> dict[str, Any]:
        """What the job folder's state says (``state.json``)."""
        ...

    def release(self, cursor: Any) -> None:
        """The job is no longer followed (it ended, or the handle was detached): let go of
        what following it holds open."""
        ...


@runtime_checkable
class DownloadsArtifacts(Protocol):
    """A backend whose artifacts live elsewhere (S3) and can be fetched into the folder."""

    def download(self, ref: JobRef, uri: str, folder: Path) -> Path: ...


@runtime_checkable
class KnowsQueues(Protocol):
    """A backend whose jobs may wait in queues it can list (AWS Batch's)."""

    def queue_jobs(self, queue: str, region: str | None) -> list[dict[str, Any]]:
        """Every job of the queue, as ``%sm_jobs`` rows."""
        ...


@runtime_checkable
class KnowsAccountJobs(Protocol):
    """A backend that can list, find and adopt jobs that were not started here."""

    def list_jobs(self, region: str | None, limit: int = 100) -> list[dict[str, Any]]:
        """The place's newest jobs, as ``%sm_jobs`` rows."""
        ...

    def find(self, name: str, region: str | None) -> dict[str, Any] | None:
        """A job of that name, described by the service; None when there is none."""
        ...

    def adopt(self, description: dict[str, Any], directory: Path) -> TrainingSpec:
        """Fill a new job folder for a job found elsewhere; return its spec."""
        ...


@runtime_checkable
class FindsOwnRole(Protocol):
    """A backend that can run without ``--role`` where the place gives one (a SageMaker
    notebook instance's own execution role)."""

    def own_role_available(self) -> bool: ...


__all__ = ["Backend", "Batch", "DownloadsArtifacts", "FindsOwnRole", "JobRef", "KnowsAccountJobs",
           "Progress", "no_progress"]
