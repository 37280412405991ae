"""The handle of a served model: ``predictor = job.deploy()``.

``predict(data, content_type=None, accept=None)`` sends ``data`` as ``payload.serialize``
does and decodes the reply by its content type; ``status``, ``url`` (local and container:
an ``http://127.0.0.1:PORT`` that answers ``/ping`` and ``/invocations``, so ``curl``
works), ``logs()`` (a DataFrame of the server's log), ``reload()`` (the handlers read
anew by a fresh server: nothing stale survives), ``delete()`` and ``hourly_price``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import layout
from .endpoints import Endpoint, start_on_this_machine
from .payload import deserialize, serialize
from .record import EndpointError, PredictionError

if TYPE_CHECKING:
    import pandas as pd


class Predictor:
    def __init__(self, folder: Path):
        self.endpoint = Endpoint(folder)
        self.last_latency: float | None = None  # seconds the last predict() took

    @property
    def folder(self) -> Path:
        return self.endpoint.folder

    @property
    def record(self) -> Any:
        return self.endpoint.record

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def mode(self) -> str:
        return self.record.mode

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (local, container), or the endpoint's name on
        SageMaker, where requests go through ``InvokeEndpoint``."""
        return self.record.url or f"sagemaker endpoint {self.name} ({self.record.region})"

    @property
    def hourly_price(self) -> float | None:
        """On-demand USD per hour for all its instances (SageMaker); None elsewhere."""
        return self.record.hourly_price

    @property
    def status(self) -> str:
        """Creating, InService, Failed or Deleted."""
        return self.endpoint.state()

    def predict(self, data: Any, content_type: str | None = None,
                accept: str | None = None) -> Any:
        """Send ``data`` and decode the reply; the status is asked only when the endpoint
        does not answer (a request costs one round trip, nothing more)."""
        if self.record.status == "Deleted":
            raise PredictionError(503, f"endpoint {self.name} is Deleted")
        body, kind = serialize(data, content_type)
        began = time.perf_counter()
        try:
            reply, reply_type = self.endpoint.invoke(body, kind, accept)
        except PredictionError as exc:
            status = self.status if exc.status == 503 else "InService"
            if status != "InService":
                raise PredictionError(503, f"endpoint {self.name} is {status}") from None
            raise
        self.last_latency = time.perf_counter() - began
        return deserialize(reply, reply_type)

    def logs(self, tail: int | None = None) -> pd.DataFrame:
        """The server's log, a row a line (the container's, or CloudWatch's)."""
        import pandas as pd

        return pd.DataFrame({"message": self.log_lines(tail)})

    def log_lines(self, tail: int | None = None) -> list[str]:
        """The server's last ``tail`` log lines (all by default), as text."""
        return self.endpoint.log_lines(tail)

    def reload(self, job: Any = None) -> Predictor:
        """Serve again from a fresh server that reads the handlers anew: the job's code
        and, when ``entry_script`` was a path, that file as it is now.  ``job=`` serves
        another (say, the cell's new run) in its place, on the same URL."""
        record = self.record
        if record.mode == "sagemaker":
            raise EndpointError("reload: a SageMaker endpoint is replaced by deploying "
                                "again (predictor.delete(), then job.deploy())")
        model = Path(record.job_dir) / "artifacts" / "model.tar.gz"  # where the deploy had it
        if job is not None:
            if job.status != "Completed":
                raise EndpointError(f"reload: job {job.name} is {job.status}, not Completed")
            model = job.model_tarball()  # before anything stops: its errors first
            record.job, record.job_dir, record.job_mode = job.name, str(job.directory), job.mode
            if record.source is None:
                record.script = job.spec.entry_script
        code = layout.job_code(Path(record.job_dir), record.job_mode)
        self.delete()
        record.status = "Creating"
        start_on_this_machine(record, self.folder, model, code)
        self.endpoint.refresh()
        return self

    def delete(self) -> None:
        """Stop it and remove what it created; its log and record are kept."""
        self.endpoint.delete()

    def _ipython_display_(self) -> None:
        """The endpoint's widget under the cell (its plain-text form when headless)."""
        from ..ui.endpoint_view import show

        show(self)

    def __repr__(self) -> str:
        return f"<Predictor {self.name} {self.mode} {self.status} {self.url}>"

