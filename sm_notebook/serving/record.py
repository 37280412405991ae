"""An endpoint's record: ``endpoint.json`` in the endpoint's folder, which is all that is
needed to find it again after a kernel restart (its server's PID and identity, its
container, or its SageMaker names).  Endpoints live in the jobs directory's ``.endpoints``
folder, a name ``%sm_jobs`` never lists."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SmNotebookError

ENDPOINTS = ".endpoints"
ENDPOINT_FILE, LOG_FILE = "endpoint.json", "server.log"


class EndpointError(SmNotebookError):
    """An endpoint that cannot start, or a job that cannot be served (one line)."""


class PredictionError(SmNotebookError):
    """A request the endpoint refused or failed (its status and one line of why)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


@dataclass
class EndpointRecord:
    """What was deployed, and how to reach it; the mode's own fields stay at their
    defaults elsewhere."""

    name: str
    mode: str  # local, container or sagemaker
    job: str
    job_dir: str
    script: str
    framework: str | None
    created: str
    status: str = "InService"  # Creating, InService, Failed, Deleted
    job_mode: str = "local"
    url: str = ""
    source: str | None = None  # an entry script from outside the job's code: re-read by reload
    environment: dict[str, str] = field(default_factory=dict)
    port: int = 0  # local and container
    pid: int = 0  # local: the server process
    identity: str | None = None
    image: str | None = None  # container and sagemaker
    container: str | None = None
    region: str | None = None  # sagemaker
    model_name: str | None = None
    config_name: str | None = None
    model_data: str | None = None
    instance_type: str | None = None
    instance_count: int = 1
    serverless: dict[str, int] | None = None
    hourly_price: float | None = None
    failure_reason: str | None = None

    @classmethod
    def read(cls, folder: Path) -> EndpointRecord:
        data = json.loads((folder / ENDPOINT_FILE).read_text())
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def write(self, folder: Path) -> None:
        """Atomically, readable by its owner only (it names servers and resources)."""
        partial = folder / f"{ENDPOINT_FILE}.partial"
        partial.write_text(json.dumps(asdict(self), indent=1))
        partial.chmod(0o600)
        partial.replace(folder / ENDPOINT_FILE)

    def to_row(self) -> dict[str, Any]:
        return {"endpoint": self.name, "mode": self.mode, "status": self.status,
                "job": self.job, "url": self.url or None, "script": self.script,
                "instance_type": self.instance_type, "hourly_price": self.hourly_price,
                "created": self.created}


def records(root: Path) -> list[tuple[Path, EndpointRecord]]:
    """Every endpoint folder under ``root`` with its record, newest first."""
    found = []
    for folder in root.iterdir() if root.is_dir() else ():
        try:
            found.append((folder, EndpointRecord.read(folder)))
        except (OSError, ValueError, TypeError):
            continue  # a folder that is not (or no longer) an endpoint's
    return sorted(found, key=lambda item: item[1].created, reverse=True)
