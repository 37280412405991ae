"""``job.deploy()``: which endpoint a job's model gets, checked before anything starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from .. import modes
from . import local
from .predictor import Predictor


class TrainedJob(Protocol):
    """What deploying reads of a job (``job.Job``, which calls this)."""

    name: str
    mode: str
    status: str
    directory: Path
    spec: Any

    @property
    def done(self) -> bool: ...

SERVED_MODES = ("local",)  # container and sagemaker serving come with the rest of issue 14


def deploy(job: TrainedJob, mode: str | None = None, entry_script: str | None = None,
           framework: str | None = None, name: str | None = None,
           timeout: float = local.START_TIMEOUT) -> Predictor:
    """Serve ``job``'s model with its script's handlers; the predictor once it answers."""
    mode = mode or job.mode
    if mode not in modes.NAMES:
        raise local.EndpointError(f"mode {mode!r}: one of {', '.join(modes.NAMES)}")
    if mode not in SERVED_MODES or job.mode not in SERVED_MODES:
        raise local.EndpointError(
            f"mode {mode!r}: serving a {job.mode} job in {mode} mode is not built yet; "
            "a local job serves with mode='local'")
    if not job.done:
        raise local.EndpointError(f"job {job.name} is still {job.status}: deploy it once it "
                                  "has completed (job.wait())")
    if job.status != "Completed":
        raise local.EndpointError(f"job {job.name} is {job.status}: there is no trained model "
                                  "to serve")
    root = job.directory.parent / local.ENDPOINTS
    name = name or job.name
    script = entry_script or job.spec.entry_script
    local.start_local(job.directory, name, root, script, framework, timeout)
    return Predictor(root / name)
