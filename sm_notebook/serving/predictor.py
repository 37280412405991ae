"""The handle of a served model: ``predictor = job.deploy()``.

``predict(data, content_type=None, accept=None)`` sends ``data`` as ``payload.serialize``
does and decodes the reply by its content type; ``status``, ``url`` (local: an
``http://127.0.0.1:PORT`` that answers ``/ping`` and ``/invocations``, so ``curl`` works),
``logs()`` (a DataFrame of the server's log), ``reload()`` (a fresh server process that
reads the handlers again: nothing stale survives) and ``delete()``.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SmNotebookError
from . import local
from .payload import deserialize, serialize

if TYPE_CHECKING:
    import pandas as pd

REQUEST_TIMEOUT = 60.0  # seconds: the inference toolkit's own per-request limit


class PredictionError(SmNotebookError):
    """A request the endpoint refused or failed (its status and one line of why)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class Predictor:
    def __init__(self, folder: Path):
        self.folder = folder
        self.record = local.EndpointRecord.read(folder)

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def url(self) -> str:
        return self.record.url

    @property
    def status(self) -> str:
        """InService, Failed (its server is gone) or Deleted."""
        self.record = local.EndpointRecord.read(self.folder)
        if self.record.status == "InService" and not local.running(self.record):
            return "Failed"
        return self.record.status

    def predict(self, data: Any, content_type: str | None = None,
                accept: str | None = None) -> Any:
        if self.status != "InService":
            raise PredictionError(503, f"endpoint {self.name} is {self.status}")
        body, kind = serialize(data, content_type)
        headers = {"Content-Type": kind, **({"Accept": accept} if accept else {})}
        request = urllib.request.Request(f"{self.url}/invocations", data=body,
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as reply:
                return deserialize(reply.read(), reply.headers.get("Content-Type"))
        except urllib.error.HTTPError as error:
            why = error.read().decode("utf-8", "replace").strip() or error.reason
            raise PredictionError(error.code, f"{why} (the server's log: "
                                              f"{self.folder / local.LOG_FILE})") from None
        except OSError as error:
            raise PredictionError(503, f"endpoint {self.name} did not answer: "
                                       f"{error}") from None

    def logs(self) -> pd.DataFrame:
        """The server's log, a row a line."""
        import pandas as pd

        path = self.folder / local.LOG_FILE
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return pd.DataFrame({"message": lines})

    def reload(self) -> Predictor:
        """Serve again from a fresh process, the handlers read anew, on a new port."""
        record = self.record
        self.delete()
        self.record = local.start_local(Path(record.job_dir), record.name, self.folder.parent,
                                        record.script, record.framework)
        return self

    def delete(self) -> None:
        """Stop the server; the log is kept."""
        self.record = local.delete_local(self.folder)

    def __repr__(self) -> str:
        return f"<Predictor {self.name} {self.record.mode} {self.status} {self.url}>"
