"""What a comparison of jobs reads from their folders (pure: no pandas, no widgets).

Each job is a :class:`Run`: its hyperparameters, its final metric values, and its metric
points, read from the job folder as they are now (a running job is compared as far as it
has got).  A job with several hosts is compared on its first host (``algo-1``, whose
values SageMaker's own metrics report), so one job is one line per metric.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SmNotebookError
from .jobdir import JobDir, PointsReader
from .jobs import JobsFolder, final_metrics
from .runtime.metric_rules import MetricPoint


class CompareError(SmNotebookError):
    """What cannot be compared: too few jobs, or one not found."""


@dataclass
class Run:
    name: str
    mode: str
    status: str
    hyperparameters: dict[str, Any]
    final: dict[str, float]
    points: list[MetricPoint] = field(default_factory=list)


def load_runs(targets: Sequence[Any], jobs_root: Path) -> list[Run]:
    """Runs of these jobs: ``Job`` handles, names in ``jobs_root``, or job folders."""
    if len(targets) < 2:
        raise CompareError("give two or more jobs to compare (names from %sm_jobs)")
    runs, seen = [], set()
    for target in targets:
        folder = JobDir(_folder_of(target, jobs_root))
        meta = folder.read_meta()
        if meta is None:
            raise CompareError(f"no job named {folder.name!r} in {jobs_root}"
                               f"{JobsFolder(jobs_root).hint(folder.name)}")
        if meta.name in seen:
            raise CompareError(f"{meta.name} is given twice")
        seen.add(meta.name)
        state = folder.state_dict()
        runs.append(Run(meta.name, meta.mode, str(state.get("status", "Unknown")),
                        dict(meta.spec.get("hyperparameters") or {}),
                        final_metrics(folder, state), _first_host_points(folder)))
    return runs


def _folder_of(target: Any, jobs_root: Path) -> Path:
    directory = getattr(target, "directory", None)  # a Job handle
    if directory is not None:
        return Path(directory)
    if isinstance(target, Path):
        return target
    if isinstance(target, str):
        from .checks import check_job_name

        check_job_name("%sm_compare", target)  # a name: no path may hide in it
        return jobs_root / target
    raise CompareError(f"cannot compare {type(target).__name__} {target!r}: give jobs or "
                       "job names")


def _first_host_points(folder: JobDir) -> list[MetricPoint]:
    try:
        points = PointsReader(folder.metric_points_file).points()
    except (OSError, ValueError, IndexError):
        return []
    hosts = sorted({p.host for p in points})
    return [p for p in points if p.host == hosts[0]] if hosts else []


def differing(runs: Sequence[Run]) -> list[str]:
    """The hyperparameters whose values are not the same in every run (one missing in
    some run counts as differing), in the order they first appear."""
    names = list(dict.fromkeys(k for run in runs for k in run.hyperparameters))
    return [n for n in names
            if len({_key(run.hyperparameters.get(n, _MISSING)) for run in runs}) > 1]


_MISSING = object()


def _key(value: Any) -> str:
    return "\0missing" if value is _MISSING else json.dumps(value, sort_keys=True,
                                                             default=str)
