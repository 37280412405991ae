"""Local endpoints: a trained job's model served on this machine by sm_notebook's own
model server (``runtime/model_server.py``), with the job's Python.  No Docker, no S3, no
role.

The endpoint's folder (``record.py``) holds ``model/`` (the job's model, extracted
safely, with its code under ``model/code/``), ``endpoint.json`` and ``server.log``.  The
server runs detached in its own session, so a kernel restart leaves it serving, and it is
found again by name; it is only ever signalled when its recorded identity still matches
(``runtime/processes.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from ..runtime import processes
from . import layout
from .record import ENDPOINT_FILE, LOG_FILE, EndpointError, EndpointRecord

SERVER = Path(__file__).resolve().parent.parent / "runtime" / "model_server.py"
READY_FILE = "ready.json"
START_TIMEOUT = 60.0  # seconds for model_fn; the toolkit allows 600, a local model less
STOP_GRACE = 5.0


def now() -> str:
    return datetime.now(UTC).isoformat()


def start_local(record: EndpointRecord, folder: Path, model_tarball: Path, code: Path,
                timeout: float = START_TIMEOUT) -> EndpointRecord:
    """Serve the model as ``record`` says, from ``folder``; the record once the server
    answers, else ``EndpointError`` with its reason (nothing is left running)."""
    check_free(folder)
    process = None
    try:
        model = layout.lay_out(model_tarball, code, folder, record.script,
                               Path(record.source) if record.source else None)
        (folder / READY_FILE).unlink(missing_ok=True)
        process = _spawn(folder, model, record)
        port = _wait_ready(folder, process, timeout)
    except BaseException:  # Ctrl-C included: a server that never served is not left
        if process is not None and process.poll() is None:
            _stop(process.pid, processes.identity(process.pid))
        layout.clear(folder)
        raise
    record.url, record.port, record.status = f"http://127.0.0.1:{port}", port, "InService"
    record.pid, record.identity = process.pid, processes.identity(process.pid)
    record.created = now()
    record.write(folder)
    return record


def check_free(folder: Path) -> None:
    """No endpoint of that name is serving already."""
    if (folder / ENDPOINT_FILE).exists():
        old = EndpointRecord.read(folder)
        if old.status in ("InService", "Creating") and (old.mode != "local" or running(old)):
            raise EndpointError(f"endpoint {old.name} is already serving ({old.mode}); "
                                "delete it first, or give another name")


def _spawn(folder: Path, model: Path, record: EndpointRecord) -> subprocess.Popen[bytes]:
    argv = [sys.executable, str(SERVER), "--script", str(model / layout.CODE / record.script),
            "--model-dir", str(model), "--ready-file", str(folder / READY_FILE)]
    argv += ["--framework", record.framework] if record.framework else []
    argv += ["--port", str(record.port)] if record.port else []  # asked for, or kept by reload
    env = {**os.environ, **record.environment, "SM_MODEL_DIR": str(model),
           "PYTHONUNBUFFERED": "1"}
    fd = os.open(folder / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with open(fd, "wb") as log:
        return subprocess.Popen(argv, cwd=model / layout.CODE, env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)


def _wait_ready(folder: Path, process: subprocess.Popen[bytes], timeout: float) -> int:
    """The port, once the server says it serves; its reason as an error otherwise."""
    ready = folder / READY_FILE
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None and not ready.exists():
            raise EndpointError("the model server ended before serving: "
                                f"{last_lines(folder / LOG_FILE)}")
        if time.monotonic() > deadline:
            raise EndpointError(f"model_fn did not finish within {timeout:g} s; see "
                                f"{folder / LOG_FILE}")
        time.sleep(0.02)
    said = json.loads(ready.read_text())
    if "error" in said:
        process.wait(timeout=10)
        raise EndpointError(said["error"])
    return int(said["port"])


def last_lines(log: Path, n: int = 5) -> str:
    """A log's last lines on one line, for an error message."""
    with contextlib.suppress(OSError):
        lines = log.read_text(errors="replace").strip().splitlines()
        return " | ".join(lines[-n:]) or "(no output)"
    return "(no output)"


def running(record: EndpointRecord) -> bool:
    return record.status == "InService" and processes.running(record.pid, record.identity)


def stop_local(record: EndpointRecord) -> None:
    """Stop the server: its own, by identity."""
    _stop(record.pid, record.identity)


def _stop(pid: int, identity: str | None) -> None:
    processes.terminate([(pid, identity)], STOP_GRACE, reap_all=False)
