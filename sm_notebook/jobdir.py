"""The job folder's schema: its file names, the typed state record, JSON and log records.

One folder per job under the jobs directory:

- ``job.json`` (:class:`JobMeta`): what was asked (name, mode, spec, creation time),
  written once at launch;
- ``state.json`` (:class:`JobState`): how it is going, written by whoever follows the
  job (a supervisor beside it, or the sagemaker backend);
- ``job.log``: every line, one ``time\\thost\\tstream\\tmessage`` record per line.

JSON files are replaced atomically, so a reader never sees half a file.  The supervisors
in ``runtime/`` run without this package and keep their own copy of these names; a test
checks that the two agree.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .events import TERMINAL, LogEvent, gc_paused

JOB_FILE = "job.json"
STATE_FILE = "state.json"
LOG_FILE = "job.log"
RUN_FILE = "run.json"  # what a supervisor runs (runtime/supervisor.py reads it)
SUPERVISOR_ERRORS = "supervisor.err"
STOP_REQUEST = "stop.requested"  # a stop asked before the supervisor took signals
ARTIFACTS_DIR = "artifacts"


def write_json(path: Path, data: Any) -> None:
    """Replace a JSON file atomically (readers never see half a file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; ``{}`` when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def parse_records(data: bytes) -> list[LogEvent]:
    """``job.log`` bytes (whole lines) → events."""
    with gc_paused():
        split = [rec.split("\t", 3) for rec in data.decode("utf-8", "replace").split("\n")]
        return [LogEvent(p[0], p[1], p[3], p[2]) for p in split if len(p) == 4]


@dataclass
class JobMeta:
    """``job.json``: what was asked, written once at launch."""

    name: str
    mode: str
    created: str | None
    spec: dict[str, Any]
    sm_notebook: str | None = None
    adopted: bool = False  # a SageMaker job started elsewhere, followed from here

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobMeta:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if not self.adopted:
            del data["adopted"]
        return data


@dataclass
class JobState:
    """``state.json``: how the job is going, in SageMaker's vocabulary.

    Fields a writer does not know of are kept in ``extra`` and written back as they were,
    so a newer writer's keys survive an older reader's update."""

    status: str = "InProgress"
    secondary_status: str = "Starting"
    message: str = ""
    failure_reason: str | None = None
    created: str | None = None
    ended: str | None = None
    last_modified: str | None = None
    transitions: list[dict[str, Any]] = field(default_factory=list)
    model_artifacts: str | None = None
    output_artifacts: str | None = None
    pid: int | None = None  # the script's process (group), on this machine
    supervisor_pid: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobState:
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in data.items() if k in names}
        return cls(**known, extra={k: v for k, v in data.items() if k not in names})

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name != "extra"}
        return {**self.extra, **{k: v for k, v in data.items() if v is not None}}


class JobDir:
    """One job's folder: where each file is, and typed reads and writes of them."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"JobDir({str(self.path)!r})"

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def meta_file(self) -> Path:
        return self.path / JOB_FILE

    @property
    def state_file(self) -> Path:
        return self.path / STATE_FILE

    @property
    def log_file(self) -> Path:
        return self.path / LOG_FILE

    @property
    def run_file(self) -> Path:
        return self.path / RUN_FILE

    @property
    def supervisor_errors(self) -> Path:
        return self.path / SUPERVISOR_ERRORS

    @property
    def stop_request(self) -> Path:
        return self.path / STOP_REQUEST

    @property
    def artifacts(self) -> Path:
        return self.path / ARTIFACTS_DIR

    # ---- job.json ---------------------------------------------------------------------
    def read_meta(self) -> JobMeta | None:
        data = read_json(self.meta_file)
        return JobMeta.from_dict(data) if data.get("name") else None

    def write_meta(self, meta: JobMeta) -> None:
        write_json(self.meta_file, meta.to_dict())

    # ---- state.json -------------------------------------------------------------------
    def has_state(self) -> bool:
        return self.state_file.is_file()

    def state_dict(self) -> dict[str, Any]:
        """``state.json`` as written (``{}`` before it exists)."""
        return read_json(self.state_file)

    def read_state(self) -> JobState:
        return JobState.from_dict(self.state_dict())

    def write_state(self, state: JobState | dict[str, Any]) -> None:
        write_json(self.state_file, state.to_dict() if isinstance(state, JobState) else state)

    def update_state(self, **changes: Any) -> dict[str, Any]:
        """Read, change and write back ``state.json``; the new contents are returned."""
        state = self.state_dict() | changes
        write_json(self.state_file, state)
        return state

    # ---- job.log ----------------------------------------------------------------------
    def append_log(self, events: Iterable[LogEvent]) -> None:
        with open(self.log_file, "a", encoding="utf-8") as f:
            f.writelines(ev.to_record() for ev in events)

    def read_log(self) -> list[LogEvent]:
        """Every line on disk (``[]`` before the log exists)."""
        try:
            return parse_records(self.log_file.read_bytes())
        except FileNotFoundError:
            return []

    def log_size(self) -> int:
        try:
            return self.log_file.stat().st_size
        except FileNotFoundError:
            return 0
