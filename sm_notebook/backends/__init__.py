"""Where jobs run: ``get(mode, settings)`` is the only map from a mode name to a backend.

Each backend module is imported on first use, so naming a mode costs nothing until a job
runs there (``%load_ext`` imports no docker or boto3).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from ..spec import TrainingSpec
from .base import Backend

#: mode name → (module, class); a new place to run is one line here and one module
_BACKENDS: dict[str, tuple[str, str]] = {
    "local": ("sm_notebook.backends.local", "LocalBackend"),
    "container": ("sm_notebook.backends.container.backend", "ContainerBackend"),
    "sagemaker": ("sm_notebook.backends.sagemaker.backend", "SageMakerBackend"),
}


#: spec field → (module, function): where a spec's other values come from when it is set
#: (``--jumpstart``: the model's hub document); each gives ``(spec, what it took)``
_SOURCES: dict[str, tuple[str, str]] = {
    "jumpstart": ("sm_notebook.backends.sagemaker.hub", "resolve_jumpstart"),
}


def resolve_sources(spec: TrainingSpec) -> tuple[TrainingSpec, list[str]]:
    """The spec with what its sources give, and a line for each value taken from one."""
    taken: list[str] = []
    for name, (module, function) in _SOURCES.items():
        if getattr(spec, name) is not None:
            spec, more = getattr(importlib.import_module(module), function)(spec)
            taken += more
    return spec, taken


@dataclass(frozen=True)
class Settings:
    """What the backends may be configured with (the magics' ``%config`` traits)."""

    stop_grace: float = 30.0  # seconds between SIGTERM and SIGKILL on this machine
    kinds_cache: Path | None = None  # where container mode keeps the image kinds it probed
    bucket: str | None = None  # sagemaker mode's S3 bucket (default sagemaker-REGION-ACCOUNT)
    role: str | None = None  # sagemaker mode's default execution role
    live_tail: bool = True  # sagemaker mode follows logs with CloudWatch Live Tail


def backend_class(mode: str) -> type:
    """The class that runs ``mode`` (its module imported now)."""
    module, name = _BACKENDS[mode]
    return getattr(importlib.import_module(module), name)


def get(mode: str, settings: Settings | None = None) -> Backend:
    """A backend for ``mode``, configured from ``settings``."""
    return backend_class(mode).from_settings(settings or Settings())


__all__ = ["Backend", "Settings", "backend_class", "get", "resolve_sources"]
