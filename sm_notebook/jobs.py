"""Jobs on disk: one folder per job under the jobs directory (its files: ``jobdir``).

Whoever follows a job keeps its folder up to date (a supervisor beside it, or the
sagemaker backend), so a kernel restart loses nothing, and ``%sm_jobs`` can list jobs
from any session.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import modes
from .errors import SpecError
from .jobdir import JobDir, read_json
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


@dataclass
class JobsFolder:
    """The jobs directory: one job folder per job, named uniquely."""

    root: Path

    def job_dir(self, name: str) -> Path:
        return self.root / name

    def exists(self, name: str) -> bool:
        return (self.root / name).exists()

    def new_name(self, spec: TrainingSpec, now: datetime | None = None) -> str:
        """A unique, valid SageMaker job name (``base-YYYY-MM-DD-HH-MM-SS-mmm``)."""
        if spec.job_name:
            if self.exists(spec.job_name):
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

    def create(self, name: str) -> Path:
        """Create the job's directory; fails if it exists (names are claimed atomically)."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / name
        try:
            path.mkdir()
        except FileExistsError:
            raise SpecError("--job-name", f"a job named {name!r} already exists in {self.root}",
                            "a new name") from None
        return path

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if JobDir(p).meta_file.is_file())

    def records(self) -> list[dict[str, Any]]:
        """One summary per job (for ``%sm_jobs``), newest first; ``cost_usd`` is the
        estimate where the price is known (sagemaker mode)."""
        now = datetime.now(UTC).timestamp()
        rows = [row(JobDir(self.root / name), now) for name in self.names()]
        rows.sort(key=lambda r: r["created"] or "", reverse=True)
        return rows


def row(folder: JobDir, now: float) -> dict[str, Any]:
    """One job folder as a ``%sm_jobs`` row."""
    from .catalog.pricing import state_cost  # the price list's code, when jobs are listed

    meta = read_json(folder.meta_file)
    state = folder.state_dict()
    spec = meta.get("spec", {})
    count = spec.get("instance_count", 1)
    return {
        "name": folder.name,
        "mode": meta.get("mode"),
        "status": state.get("status", "Unknown"),
        "secondary_status": state.get("secondary_status"),
        "created": meta.get("created"),
        "ended": state.get("ended"),
        "instance_type": spec.get("instance_type")
        or modes.get(meta.get("mode", modes.DEFAULT)).default_instance_type,
        "instance_count": count,
        "cost_usd": state_cost(state, count, now),
        "model_artifacts": state.get("model_artifacts"),
        "failure_reason": state.get("failure_reason"),
        "directory": str(folder.path),
    }
