"""The seam between a job and where it runs.

A backend owns all blocking I/O for its mode and knows nothing of widgets.  ``submit``
starts a job in a prepared job directory; ``poll`` returns what happened since a cursor
(non-blocking or briefly blocking); ``stop`` asks the job to stop with the mode's
semantics; ``attach`` follows an existing job again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..events import LogEvent, StatusEvent
from ..spec import TrainingSpec


@dataclass
class JobRef:
    """What a backend needs to find a job again (kept in memory; rebuilt by ``attach``)."""

    name: str
    directory: Path
    handle: dict[str, Any] = field(default_factory=dict)


@dataclass
class Batch:
    """Events since the cursor; ``done`` once the job is terminal and fully drained."""

    logs: list[LogEvent]
    statuses: list[StatusEvent]
    cursor: Any
    done: bool = False


class Backend(Protocol):
    mode: str
    #: True when the backend writes ``state.json`` and ``job.log`` itself (the local
    #: supervisor); otherwise the job's pump persists what it receives.
    persists: bool

    def preflight(self, spec: TrainingSpec, base: Path) -> list[str]:
        """Check what can be checked before anything is created; return notes."""
        ...

    def submit(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> JobRef: ...

    def poll(self, ref: JobRef, cursor: Any) -> Batch: ...

    def stop(self, ref: JobRef) -> None: ...

    def describe(self, ref: JobRef) -> dict[str, Any]: ...

    def attach(self, name: str, directory: Path) -> JobRef: ...

    def release(self, cursor: Any) -> None:
        """The job is no longer followed (it ended, or the handle was detached): let go of
        what following it holds open."""
        ...

    def plan(self, spec: TrainingSpec, name: str, base: Path) -> str:
        """Human-readable description of what ``submit`` would run (for ``--dry-run``)."""
        ...
