"""Local endpoints: a trained job's model served on this machine by sm_notebook's own
model server (``runtime/model_server.py``), with the job's Python.  No Docker, no S3, no
role.

An endpoint is a folder under the endpoints directory (``.endpoints`` in the jobs directory):
``endpoint.json`` (what it serves, its URL, its server's PID and identity), ``model/``
(the job's model, extracted safely), ``code/`` (the job's code as it was trained) and
``server.log``.  The server runs detached in its own session, so a kernel restart leaves
it serving, and it is found again by name; it is only ever signalled when its recorded
identity still matches (``runtime/processes.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..artifacts import safe_extract
from ..errors import SmNotebookError
from ..runtime import processes

ENDPOINTS = ".endpoints"  # in the jobs directory (a name %sm_jobs never lists)

SERVER = Path(__file__).resolve().parent.parent / "runtime" / "model_server.py"
ENDPOINT_FILE, READY_FILE, LOG_FILE = "endpoint.json", "ready.json", "server.log"
START_TIMEOUT = 60.0  # seconds for model_fn; the toolkit allows 600, a local model less
STOP_GRACE = 5.0


class EndpointError(SmNotebookError):
    """An endpoint that cannot start, or a job that cannot be served (one line)."""


@dataclass
class EndpointRecord:
    """``endpoint.json``."""

    name: str
    mode: str
    job: str
    job_dir: str
    url: str
    port: int
    pid: int
    identity: str | None
    script: str
    framework: str | None
    created: str
    status: str = "InService"  # InService, Failed, Deleted

    @classmethod
    def read(cls, folder: Path) -> EndpointRecord:
        data = json.loads((folder / ENDPOINT_FILE).read_text())
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def write(self, folder: Path) -> None:
        partial = folder / f"{ENDPOINT_FILE}.partial"
        partial.write_text(json.dumps(asdict(self), indent=1))
        partial.chmod(0o600)
        partial.replace(folder / ENDPOINT_FILE)


def start_local(job_dir: Path, name: str, root: Path, entry_script: str = "train.py",
                framework: str | None = None, timeout: float = START_TIMEOUT
                ) -> EndpointRecord:
    """Serve ``job_dir``'s model as endpoint ``name`` under ``root``; the record once it
    answers, else ``EndpointError`` with the server's reason (nothing is left running)."""
    model = job_dir / "artifacts" / "model.tar.gz"
    code = job_dir / "opt" / "ml" / "code"
    if not model.is_file():
        raise EndpointError(f"job {job_dir.name} has no model artifacts to serve "
                            f"({model} is missing): did it complete?")
    folder = root / name
    if (folder / ENDPOINT_FILE).exists() and running(EndpointRecord.read(folder)):
        raise EndpointError(f"endpoint {name} is already serving; delete it first")
    for old in ("model", "code", READY_FILE):  # a deleted endpoint's: its log is kept
        path = folder / old
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    folder.mkdir(parents=True, mode=0o700, exist_ok=True)
    try:
        safe_extract(model, folder / "model")
        shutil.copytree(code, folder / "code")
        script = folder / "code" / entry_script
        if not script.is_file():
            files = ", ".join(sorted(p.name for p in (folder / "code").iterdir()))
            raise EndpointError(f"entry_script {entry_script!r}: not a file of the job's code "
                                f"({files})")
        process = _spawn(folder, script, framework)
        port = _wait_ready(folder, process, timeout)
    except BaseException:
        shutil.rmtree(folder / "model", ignore_errors=True)
        raise
    record = EndpointRecord(name, "local", job_dir.name, str(job_dir),
                            f"http://127.0.0.1:{port}", port,
                            process.pid, processes.identity(process.pid), entry_script,
                            framework, datetime.now(UTC).isoformat())
    record.write(folder)
    return record


def _spawn(folder: Path, script: Path, framework: str | None) -> subprocess.Popen[bytes]:
    argv = [sys.executable, str(SERVER), "--script", str(script), "--model-dir",
            str(folder / "model"), "--ready-file", str(folder / READY_FILE)]
    argv += ["--framework", framework] if framework else []
    env = {**os.environ, "SM_MODEL_DIR": str(folder / "model"), "PYTHONUNBUFFERED": "1"}
    fd = os.open(folder / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with open(fd, "wb") as log:
        return subprocess.Popen(argv, cwd=folder / "code", env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log, start_new_session=True)


def _wait_ready(folder: Path, process: subprocess.Popen[bytes], timeout: float) -> int:
    """The port, once the server says it serves; its reason as an error otherwise."""
    ready = folder / READY_FILE
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None and not ready.exists():
            raise EndpointError(f"the model server ended before serving: {_last_lines(folder)}")
        if time.monotonic() > deadline:
            _stop(process.pid, processes.identity(process.pid))
            raise EndpointError(f"model_fn did not finish within {timeout:g} s; see "
                                f"{folder / LOG_FILE}")
        time.sleep(0.02)
    said = json.loads(ready.read_text())
    if "error" in said:
        process.wait(timeout=10)
        raise EndpointError(said["error"])
    return int(said["port"])


def _last_lines(folder: Path, n: int = 5) -> str:
    with contextlib.suppress(OSError):
        lines = (folder / LOG_FILE).read_text(errors="replace").strip().splitlines()
        return " | ".join(lines[-n:]) or "(no output)"
    return "(no output)"


def running(record: EndpointRecord) -> bool:
    return record.status == "InService" and processes.running(record.pid, record.identity)


def delete_local(folder: Path) -> EndpointRecord:
    """Stop the server (its own, by identity), drop the model copy, keep the log."""
    record = EndpointRecord.read(folder)
    _stop(record.pid, record.identity)
    shutil.rmtree(folder / "model", ignore_errors=True)
    record.status = "Deleted"
    record.write(folder)
    return record


def _stop(pid: int, identity: str | None) -> None:
    processes.terminate([(pid, identity)], STOP_GRACE, reap_all=False)
