"""The job folder's schema: its file names, the typed state record, JSON and log records.

One folder per job under the jobs directory:

- ``job.json`` (:class:`JobMeta`): what was asked (name, mode, spec, creation time),
  written once at launch;
- ``state.json`` (:class:`JobState`): how it is going, written by whoever follows the
  job (a supervisor beside it, or the sagemaker backend);
- ``job.log``: every line, one ``time\\thost\\tstream\\tmessage`` record per line;
- ``metric_points.tsv``: the metric points parsed from ``job.log`` beside the job
  (``runtime/metric_points.py`` writes it; :class:`PointsReader` reads it), one
  tab-separated record per line: ``D index [name, regex]`` (the definitions, at the top),
  ``P epoch host index value step`` (a point; step empty when none), ``W index line
  message`` (a definition switched off from that line on, its pattern too slow) and
  ``O offset lines`` (``job.log`` is parsed up to that byte, that many lines).  Only the
  records up to the last ``O`` are committed: a reader stops there and goes on from
  there next time (its byte offset in this file), and a restarted parser cuts off what
  is after it.

JSON files are replaced atomically, so a reader never sees half a file.  Every file this
module writes is readable by its owner only (0600): they hold the job's hyperparameters
and environment.  The supervisors in ``runtime/`` run without this package and keep their
own copy of these names; a test checks that the two agree.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .events import TERMINAL, LogEvent, gc_paused
from .runtime.metric_rules import MetricPoint

JOB_FILE = "job.json"
STATE_FILE = "state.json"
LOG_FILE = "job.log"
RUN_FILE = "run.json"  # what a supervisor runs (runtime/supervisor.py reads it)
SUPERVISOR_ERRORS = "supervisor.err"
STOP_REQUEST = "stop.requested"  # a stop asked before the supervisor took signals
ARTIFACTS_DIR = "artifacts"
METRIC_POINTS_FILE = "metric_points.tsv"
#: the kinds of record in ``metric_points.tsv``
DEFINITION, POINT, SWITCHED_OFF, PARSED = "D", "P", "W", "O"
PRIVATE = 0o600  # files of a job folder: its owner's only


def write_json(path: Path, data: Any) -> None:
    """Replace a JSON file atomically (readers never see half a file), owner-only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    os.fchmod(fd, PRIVATE)  # a temporary left by an older writer may have other bits
    with open(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, indent=2, default=str))
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

    @property
    def metric_points_file(self) -> Path:
        return self.path / METRIC_POINTS_FILE

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
        fd = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE)
        with open(fd, "a", encoding="utf-8") as f:
            f.writelines(ev.to_record() for ev in events)

    def read_log(self) -> list[LogEvent]:
        """Every line on disk (``[]`` before the log exists)."""
        try:
            return parse_records(self.log_file.read_bytes())
        except FileNotFoundError:
            return []

    def log_blocks(self, block: int = 1 << 22) -> Iterator[bytes]:
        """``job.log``'s bytes a block of whole records at a time (memory: one block)."""
        try:
            f = open(self.log_file, "rb")  # noqa: SIM115 - closed below, a generator
        except FileNotFoundError:
            return
        with f:
            pending = b""
            while data := f.read(block):
                data = pending + data
                cut = data.rfind(b"\n") + 1
                pending = data[cut:]
                if cut:
                    yield data[:cut]
            if pending:
                yield pending

    def log_size(self) -> int:
        try:
            return self.log_file.stat().st_size
        except FileNotFoundError:
            return 0


def _definition_names(head: bytes) -> list[str]:
    """The names of the ``D`` records a points file starts with."""
    names = []
    for record in head.split(b"\n"):
        if not record.startswith(b"D\t"):
            break
        names.append(json.loads(record.split(b"\t", 2)[2])[0])
    return names


def _last_values(data: bytes, cut: bool, count: int) -> dict[int, float]:
    """Each definition's last committed value in ``data`` (the end of a points file;
    ``cut``: it starts inside a record)."""
    end = data.rfind(b"\nO\t") + 1  # what follows the last commit is not committed
    records = data[:end].split(b"\n")
    if cut:
        records = records[1:]
    found: dict[int, float] = {}
    for record in reversed(records):
        if record[:2] == b"P\t":
            fields = record.split(b"\t")
            found.setdefault(int(fields[3]), float(fields[4]))
            if len(found) == count:
                break
    return found


class PointsReader:
    """Reads ``metric_points.tsv``'s committed records, each call going on from where
    the last stopped (the points are parsed only when :meth:`points` is called;
    :meth:`scan` looks for warnings and progress at C speed)."""

    def __init__(self, path: Path):
        self.path = path
        self.names: list[str] = []
        self._offset = 0  # bytes of the file turned into points
        self._scanned = 0  # bytes of the file scanned for warnings and progress
        self.log_offset = 0  # job.log is parsed up to this byte (as far as scanned)
        self.lines = 0

    def points(self) -> list[MetricPoint]:
        """The points committed since the last call."""
        data, self._offset = self._committed(self._offset)
        out: list[MetricPoint] = []
        if not data:
            return out
        hosts: dict[str, str] = {}
        with gc_paused():
            for record in data.decode("utf-8", "replace").split("\n"):
                if record[:2] == "P\t":
                    _, epoch, host, index, value, step = record.split("\t")
                    out.append(MetricPoint(float(epoch), hosts.setdefault(host, host),
                                           self.names[int(index)], float(value),
                                           float(step) if step else None))
                elif record[:2] == "D\t":
                    self.names.append(json.loads(record.split("\t", 2)[2])[0])
        return out

    def latest(self, window: int = 256 << 10, most: int = 64 << 20) -> dict[str, float]:
        """Each metric's last committed value, in definition order, read from the end of
        the file (a window that grows until every metric is found, or ``most`` bytes)."""
        try:
            with open(self.path, "rb") as f:
                names = _definition_names(f.read(1 << 20))
                size = f.seek(0, os.SEEK_END)
                while True:
                    start = max(0, size - window)
                    f.seek(start)
                    found = _last_values(f.read(size - start), start > 0, len(names))
                    if len(found) == len(names) or not start or window >= most:
                        break
                    window *= 4
        except FileNotFoundError:
            return {}
        return {name: found[i] for i, name in enumerate(names) if i in found}

    def scan(self) -> list[str]:
        """Warnings (definitions switched off) committed since the last scan; updates
        ``log_offset`` and ``lines``."""
        data, self._scanned = self._committed(self._scanned)
        if not data:
            return []
        last = data.rfind(b"\nO\t", 0, len(data) - 1) + 1
        _, offset, lines = data[last:-1].split(b"\t")
        self.log_offset, self.lines = int(offset), int(lines)
        padded, warnings = b"\n" + data, []
        at = padded.find(b"\nW\t")
        while at >= 0:
            end = padded.index(b"\n", at + 1)
            warnings.append(json.loads(padded[at + 1:end].split(b"\t", 3)[3]))
            at = padded.find(b"\nW\t", end)
        return warnings

    def _committed(self, offset: int) -> tuple[bytes, int]:
        """The whole records from ``offset`` through the last ``O`` record, and the
        offset after them."""
        try:
            with open(self.path, "rb") as f:
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            return b"", offset
        end = len(data)
        while (start := data.rfind(b"O\t", 0, end)) >= 0:
            line_end = data.find(b"\n", start)
            if line_end >= 0 and (start == 0 or data[start - 1] == 0x0A):
                return data[:line_end + 1], offset + line_end + 1
            end = start
        return b"", offset
