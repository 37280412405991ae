"""One endpoint, whatever its mode: its state, a request, its log lines, its end.  The
predictor and ``%sm_endpoints`` speak to endpoints only through this module, so each mode
(``local.py``, ``container.py``, ``hosted.py``) keeps to what is its own."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from . import container, hosted, layout, local
from .record import LOG_FILE, EndpointRecord, PredictionError

REQUEST_TIMEOUT = 60.0  # seconds: the inference toolkit's own per-request limit


class Endpoint:
    """The endpoint recorded in ``folder``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.record = EndpointRecord.read(folder)
        self._aws: hosted.AwsClients | None = None

    @property
    def aws(self) -> hosted.AwsClients:
        if self._aws is None:
            self._aws = hosted.AwsClients()
        return self._aws

    def refresh(self) -> EndpointRecord:
        self.record = EndpointRecord.read(self.folder)
        return self.record

    def state(self) -> str:
        """Creating, InService, Failed (its server or container is gone) or Deleted."""
        record = self.refresh()
        if record.status == "Deleted":
            return "Deleted"
        if record.mode == "local":
            return "InService" if local.running(record) else (
                "Failed" if record.status == "InService" else record.status)
        if record.mode == "container":
            return container.state(record)
        return hosted.state(record, self.aws)

    def invoke(self, body: bytes, content_type: str, accept: str | None
               ) -> tuple[bytes, str | None]:
        """The reply's body and content type; ``PredictionError`` for a refusal."""
        if self.record.mode == "sagemaker":
            return hosted.invoke(self.record, self.aws, body, content_type, accept)
        return http_invoke(self.record.url, body, content_type, accept,
                           f"the server's log: {self.folder / LOG_FILE}")

    def log_lines(self, tail: int | None = None) -> list[str]:
        if self.record.mode == "container":
            return container.log_lines(self.record, self.folder, tail)
        if self.record.mode == "sagemaker":
            return hosted.log_lines(self.record, self.aws, tail)
        path = self.folder / LOG_FILE
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return lines[-tail:] if tail else lines

    def delete(self) -> EndpointRecord:
        """Stop what serves and remove what was created; the log and record are kept."""
        record = self.refresh()
        if record.mode == "local":
            local.stop_local(record)
        elif record.mode == "container":
            container.stop_container(record, self.folder)
        else:
            hosted.stop_hosted(record, self.aws)
        layout.clear(self.folder)
        record.status = "Deleted"
        record.write(self.folder)
        return record


def start_on_this_machine(record: EndpointRecord, folder: Path, model: Path, code: Path,
                          timeout: float | None = None) -> EndpointRecord:
    """Start a local or container endpoint as ``record`` says (a deploy, or a reload)."""
    if record.mode == "local":
        return local.start_local(record, folder, model, code, timeout or local.START_TIMEOUT)
    return container.start_container(record, folder, model, code,
                                     timeout or container.START_TIMEOUT)


def http_invoke(url: str, body: bytes, content_type: str, accept: str | None,
                where: str) -> tuple[bytes, str | None]:
    """``POST /invocations`` on a local or container endpoint."""
    headers = {"Content-Type": content_type, **({"Accept": accept} if accept else {})}
    request = urllib.request.Request(f"{url}/invocations", data=body, headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as reply:
            return reply.read(), reply.headers.get("Content-Type")
    except urllib.error.HTTPError as error:
        why = error.read().decode("utf-8", "replace").strip() or error.reason
        raise PredictionError(error.code, f"{why} ({where})") from None
    except OSError as error:
        raise PredictionError(503, f"{url} did not answer: {error}") from None
