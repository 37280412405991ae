"""Jobs on disk: one folder per job under the jobs directory (its files: ``jobdir``).

Whoever follows a job keeps its folder up to date (a supervisor beside it, or the
sagemaker backend), so a kernel restart loses nothing, and ``%sm_jobs`` can list jobs
from any session.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import modes
from .errors import SpecError
from .jobdir import JOB_FILE, STATE_FILE, JobDir, PointsReader, read_json, write_json
from .runtime import processes
from .spec import JOB_NAME_RE, TrainingSpec, valid_base_name

DEFAULT_JOBS_DIR = "~/.sm_notebook/jobs"


def jobs_dir_from(configured: str | None) -> Path:
    """The configured directory, else ``$SM_NOTEBOOK_JOBS_DIR``, else ``~/.sm_notebook/jobs``."""
    raw = configured or os.environ.get("SM_NOTEBOOK_JOBS_DIR") or DEFAULT_JOBS_DIR
    return Path(raw).expanduser().resolve()


def default_base_name(spec: TrainingSpec) -> str:
    """Like the SDK: the image's repository name, else the entry script's name."""
    if spec.image:
        repo = spec.image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    else:
        repo = spec.entry_script.rsplit(".", 1)[0]
    return valid_base_name(repo) or "sm-train"


#: a job folder being made: ``<root>/.<name>.partial-<pid>``, renamed to ``<name>`` when made
PARTIAL = ".partial-"
#: in a job folder from its rename until its backend has taken the job: who launches it
LAUNCH_MARK = "launching.json"
FOLDER_MODE = 0o700  # job folders hold the job's settings: the user's alone
MARK_GRACE = 600.0  # seconds a folder being made counts as live when nothing else tells


def launcher_alive(mark: dict[str, Any]) -> bool:
    """Whether the process that wrote a launch mark is still the one running; where no
    ``/proc`` tells (no start time in the mark), a mark younger than ``MARK_GRACE``."""
    pid, started = mark.get("pid"), mark.get("started")
    if started is None:
        try:
            return time.time() - datetime.fromisoformat(mark["at"]).timestamp() < MARK_GRACE
        except (KeyError, TypeError, ValueError):
            return False
    return isinstance(pid, int) and processes.running(pid, started)


def launch_mark() -> dict[str, Any]:
    return {"pid": os.getpid(), "started": processes.identity(os.getpid()),
            "at": datetime.now(UTC).isoformat()}


@dataclass
class JobsFolder:
    """The jobs directory: one job folder per job, named uniquely.  A folder is made under
    a hidden name and renamed into place when made, so a kill while it is made leaves no
    half-made job behind a name; one killed while its backend takes it is shown as such."""

    root: Path

    def job_dir(self, name: str) -> Path:
        return self.root / name

    def exists(self, name: str) -> bool:
        return (self.root / name).exists()

    def new_name(self, spec: TrainingSpec, now: datetime | None = None) -> str:
        """A unique, valid SageMaker job name (``base-YYYY-MM-DD-HH-MM-SS-mmm``)."""
        if spec.job_name:
            if self.exists(spec.job_name) and not self.discard_interrupted(spec.job_name):
                raise SpecError("--job-name", f"a job named {spec.job_name!r} already exists in "
                                f"{self.root}",
                                "a new name, or --base-job-name for a generated one")
            return spec.job_name
        base = valid_base_name(spec.base_job_name) if spec.base_job_name else \
            default_base_name(spec)
        stamp = now or datetime.now(UTC)
        while True:
            name = f"{base}-{stamp:%Y-%m-%d-%H-%M-%S}-{stamp.microsecond // 1000:03d}"
            if not self.exists(name):
                assert JOB_NAME_RE.match(name), name
                return name
            stamp = stamp.fromtimestamp(stamp.timestamp() + 0.001, UTC)

    # ---- making a folder ---------------------------------------------------------------
    def begin(self, name: str) -> Path:
        """A fresh hidden folder (0700) to make job ``name`` in; what dead launches left
        of theirs is removed first."""
        self.root.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        self.remove_stale_partials()
        staging = self.root / f".{name}{PARTIAL}{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)  # this process's own, from a kill
        staging.mkdir(mode=FOLDER_MODE)
        write_json(staging / LAUNCH_MARK, launch_mark())
        return staging

    def claim(self, staging: Path, name: str) -> Path:
        """The made folder renamed to ``name``; ``SpecError`` when the name was taken
        meanwhile (the staging folder is then removed)."""
        path = self.root / name
        try:
            if os.path.lexists(path):
                raise FileExistsError(path)
            os.rename(staging, path)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            raise SpecError("--job-name", f"a job named {name!r} already exists in {self.root}",
                            "a new name") from None
        return path

    def finish(self, path: Path) -> None:
        """The backend has the job: its folder is complete."""
        (path / LAUNCH_MARK).unlink(missing_ok=True)

    def remove_stale_partials(self) -> None:
        """Folders being made by processes that are gone (one without its mark yet is
        given ``MARK_GRACE``: its maker may be writing the mark)."""
        for path in self.root.glob(f".*{PARTIAL}*"):
            mark = read_json(path / LAUNCH_MARK)
            fresh = not mark and time.time() - path.stat().st_mtime < MARK_GRACE
            if not fresh and not launcher_alive(mark):
                shutil.rmtree(path, ignore_errors=True)

    def interrupted(self, folder: JobDir) -> str | None:
        """What happened to a job whose launch never finished (its launcher is gone and
        its backend never took it), or None."""
        mark = folder.path / LAUNCH_MARK
        if not mark.is_file() or folder.has_state():
            return None
        data = read_json(mark)
        if launcher_alive(data):
            return None
        return (f"launch interrupted: the process launching it (pid {data.get('pid')}) "
                f"ended at {data.get('at')} before the job was started; nothing ran")

    def discard_interrupted(self, name: str) -> bool:
        """Remove an interrupted launch, so its name can be used again."""
        if self.interrupted(JobDir(self.root / name)) is None:
            return False
        shutil.rmtree(self.root / name, ignore_errors=True)
        return not self.exists(name)

    # ---- listing -------------------------------------------------------------------------
    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if not p.name.startswith(".") and JobDir(p).meta_file.is_file())

    def hint(self, name: str) -> str:
        """What to say after "no job named NAME": the closest name, or where to look."""
        close = difflib.get_close_matches(name, self.names(), n=1)
        return f"; did you mean {close[0]}?" if close else " (see %sm_jobs)"

    def records(self) -> list[dict[str, Any]]:
        """One summary per job (for ``%sm_jobs``), newest first; ``cost_usd`` is the
        estimate where the price is known (sagemaker mode).  A job whose files cannot be
        read is one row saying so, and the others are listed as usual."""
        now = datetime.now(UTC).timestamp()
        rows = []
        for name in self.names():
            folder = JobDir(self.root / name)
            try:
                rows.append(row(folder, now, self.interrupted(folder)))
            except Unreadable as exc:
                rows.append(unreadable_row(folder, str(exc)))
        rows.sort(key=lambda r: r["created"] or "", reverse=True)
        return rows


class Unreadable(Exception):
    """A job file that is not what sm_notebook writes."""


def strict_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path`` (``{}`` when missing); ``Unreadable`` otherwise."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise Unreadable(f"{path.name}: not readable as JSON ({exc})") from None
    if not isinstance(data, dict):
        raise Unreadable(f"{path.name}: not a JSON object")
    return data


def iso_time(data: dict[str, Any], key: str, file: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Unreadable(f"{file}: {key} is not a time ({value!r})") from None
    return value


def unreadable_row(folder: JobDir, problem: str) -> dict[str, Any]:
    """The row of a job whose files cannot be read: its name, where it is, and why."""
    return {"name": folder.name, "mode": None, "status": "Unreadable",
            "secondary_status": None, "created": None, "ended": None, "instance_type": None,
            "instance_count": None, "cost_usd": None, "model_artifacts": None,
            "failure_reason": problem, "directory": str(folder.path), "metrics": {}}


def row(folder: JobDir, now: float, interrupted: str | None = None) -> dict[str, Any]:
    """One job folder as a ``%sm_jobs`` row; ``Unreadable`` when its files are not what
    sm_notebook writes.  An interrupted launch is Failed, saying so."""
    from .catalog.pricing import state_cost  # the price list's code, when jobs are listed

    meta, state = strict_json(folder.meta_file), strict_json(folder.state_file)
    spec, mode = meta.get("spec", {}), meta.get("mode", modes.DEFAULT)
    if not isinstance(spec, dict):
        raise Unreadable(f"{JOB_FILE}: spec is not a JSON object")
    if mode not in modes.NAMES:
        raise Unreadable(f"{JOB_FILE}: unknown mode {mode!r}")
    count = spec.get("instance_count", 1)
    if isinstance(count, bool) or not isinstance(count, int):
        raise Unreadable(f"{JOB_FILE}: instance_count is not a number ({count!r})")
    created, ended = iso_time(meta, "created", JOB_FILE), iso_time(state, "ended", STATE_FILE)
    try:
        cost = state_cost(state, count, now)
    except (TypeError, ValueError) as exc:
        raise Unreadable(f"{STATE_FILE}: its prices or times are not readable ({exc})") from None
    failed = interrupted is not None
    return {
        "name": folder.name,
        "mode": mode,
        "status": "Failed" if failed else state.get("status", "Unknown"),
        "secondary_status": "Failed" if failed else state.get("secondary_status"),
        "created": created,
        "ended": ended,
        "instance_type": spec.get("instance_type") or modes.get(mode).default_instance_type,
        "instance_count": count,
        "cost_usd": cost,
        "model_artifacts": state.get("model_artifacts"),
        "failure_reason": interrupted or state.get("failure_reason"),
        "directory": str(folder.path),
        "metrics": final_metrics(folder, state),
        "queue": spec.get("queue"),
    }


def final_metrics(folder: JobDir, state: dict[str, Any]) -> dict[str, float]:
    """Each metric's last value: from the points parsed from the log, else the service's
    final values (a SageMaker job's ``FinalMetricDataList``)."""
    try:
        found = PointsReader(folder.metric_points_file).latest()
    except (OSError, ValueError, IndexError):
        found = {}
    if not found:
        listed = state.get("final_metrics")
        if isinstance(listed, list):
            found = {m["metric"]: m["value"] for m in listed
                     if isinstance(m, dict) and {"metric", "value"} <= m.keys()}
    return found
