"""Container endpoints: ``docker run IMAGE serve``, as SageMaker starts a serving
container, with ``/opt/ml/model`` holding the extracted model and its ``code/``,
``SAGEMAKER_PROGRAM`` and ``SAGEMAKER_SUBMIT_DIRECTORY`` set as V2 sets them, and port 8080
published on 127.0.0.1 only, on a port the engine picks.

An image without a serving stack (no ``serve`` on its PATH) gets sm_notebook's own model
server, mounted read-only, as the training launcher is.  The container is labelled with
the endpoint's name, so it is always found again; if it exits before ``/ping`` answers,
the start fails at once with its last log lines (V2 waits 120 s and says only that
docker-compose exited).  Its log stays with the engine while it serves and is copied to
``server.log`` when it is deleted.
"""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path
from typing import Any

from ..backends.container.engine import client_for, engine_address, unreachable
from ..errors import SmNotebookError
from . import layout
from .local import last_lines, now
from .record import LOG_FILE, EndpointError, EndpointRecord

LABEL = "sm-notebook.endpoint"
RUNTIME = Path(__file__).resolve().parent.parent / "runtime"
RUNTIME_IN_CONTAINER = "/opt/sm_notebook"
PORT = 8080
START_TIMEOUT = 120.0  # seconds to /ping: pulls are done before, so this is model_fn's
POLL = 0.05
_PROBE = ("if command -v serve >/dev/null; then echo serve; "
          "elif command -v python3 >/dev/null; then echo plain; fi")
_kinds: dict[str, str] = {}  # image id → serve | plain | "" (neither)


def client() -> Any:
    try:
        engine = client_for(engine_address())
        engine.ping()
        return engine
    except SmNotebookError:
        raise
    except Exception as exc:
        raise unreachable(exc) from None


def serving_kind(engine: Any, image: str) -> str:
    """``serve`` when the image has a serving stack of its own, ``plain`` when it has
    only python3 (sm_notebook's server is mounted); the probe runs once per image id."""
    import docker

    from ..runtime.container_supervisor import run_throwaway

    try:
        found = engine.images.get(image)
    except docker.errors.ImageNotFound:
        raise EndpointError(f"image {image} is not on this machine (docker pull it, or "
                            "give image= one that is)") from None
    if found.id not in _kinds:
        out = run_throwaway(engine, image, ["sh", "-c", _PROBE], labels={LABEL: "probe"})
        _kinds[found.id] = out.decode(errors="replace").strip()
    if not _kinds[found.id]:
        raise EndpointError(f"image {image} has neither a `serve` of its own nor python3 "
                            "to run sm_notebook's model server in")
    return _kinds[found.id]


def container_plan(record: EndpointRecord, model: Path, kind: str) -> dict[str, Any]:
    """The serving container's command, environment and mounts (``docker run`` terms)."""
    code = f"/opt/ml/model/{layout.CODE}"
    environment = {"SAGEMAKER_PROGRAM": record.script, "SAGEMAKER_SUBMIT_DIRECTORY": code,
                   "SAGEMAKER_CONTAINER_LOG_LEVEL": "20", "PYTHONUNBUFFERED": "1",
                   **({"SAGEMAKER_REGION": record.region} if record.region else {}),
                   **record.environment}
    volumes = {str(model): {"bind": "/opt/ml/model", "mode": "ro"}}
    if kind == "serve":
        command, entrypoint = ["serve"], None
    else:
        volumes[str(RUNTIME)] = {"bind": RUNTIME_IN_CONTAINER, "mode": "ro"}
        command = ["python3", f"{RUNTIME_IN_CONTAINER}/model_server.py", "--script",
                   f"{code}/{record.script}", "--model-dir", "/opt/ml/model",
                   "--host", "0.0.0.0", "--port", str(PORT)]
        command += ["--framework", record.framework] if record.framework else []
        entrypoint = ""
    return {"command": command, "entrypoint": entrypoint, "environment": environment,
            "volumes": volumes, "working_dir": code}


def start_container(record: EndpointRecord, folder: Path, model_tarball: Path, code: Path,
                    timeout: float = START_TIMEOUT) -> EndpointRecord:
    """Run the serving container; the record once ``/ping`` answers, else
    ``EndpointError`` with the container's last lines (and the container removed)."""
    engine = client()
    assert record.image is not None
    kind = serving_kind(engine, record.image)
    remove_leftover(engine, record.name)
    model = layout.lay_out(model_tarball, code, folder, record.script,
                           Path(record.source) if record.source else None)
    plan = container_plan(record, model, kind)
    try:
        container = engine.containers.run(
            record.image, plan["command"], entrypoint=plan["entrypoint"], detach=True,
            name=container_name(record.name), labels={LABEL: record.name},
            environment=plan["environment"], volumes=plan["volumes"],
            working_dir=plan["working_dir"], init=True,
            ports={f"{PORT}/tcp": ("127.0.0.1", record.port or None)})
    except Exception as exc:
        layout.clear(folder)
        raise EndpointError(f"image {record.image}: the engine would not start it: "
                            f"{getattr(exc, 'explanation', None) or exc}") from None
    record.container, record.created = container.id, now()
    try:
        record.port = _wait_ping(container, timeout)
    except BaseException:
        save_log(container, folder)
        container.remove(force=True, v=True)
        layout.clear(folder)
        raise
    record.url, record.status = f"http://127.0.0.1:{record.port}", "InService"
    record.write(folder)
    return record


def container_name(endpoint: str) -> str:
    return f"smnb-endpoint-{endpoint}"


def remove_leftover(engine: Any, endpoint: str) -> None:
    """A container of this endpoint's that an earlier session left (the record was
    deleted, or it stopped on its own)."""
    for container in engine.containers.list(all=True, filters={"label": f"{LABEL}={endpoint}"}):
        container.remove(force=True, v=True)


def _wait_ping(container: Any, timeout: float) -> int:
    """The published port, once ``/ping`` answers 200 there."""
    deadline, port = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        container.reload()
        if container.status in ("exited", "dead"):
            code = container.attrs["State"].get("ExitCode")
            raise EndpointError(f"the serving container exited (code {code}) before /ping "
                                f"answered: {tail_of(container)}")
        port = port or _published_port(container)
        if port and _pings(port):
            return port
        time.sleep(POLL)
    raise EndpointError(f"the serving container did not answer /ping within {timeout:g} s: "
                        f"{tail_of(container)}")


def _published_port(container: Any) -> int | None:
    bound = (container.attrs["NetworkSettings"].get("Ports") or {}).get(f"{PORT}/tcp")
    return int(bound[0]["HostPort"]) if bound else None


def _pings(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def tail_of(container: Any, n: int = 5) -> str:
    lines = container.logs(tail=n).decode(errors="replace").strip().splitlines()
    return " | ".join(lines) or "(no output)"


def find(record: EndpointRecord) -> Any | None:
    import docker

    try:
        return client().containers.get(record.container)
    except docker.errors.NotFound:
        return None


def state(record: EndpointRecord) -> str:
    if record.status != "InService":
        return record.status
    container = find(record)
    return "InService" if container is not None and container.status == "running" else "Failed"


def log_lines(record: EndpointRecord, folder: Path, tail: int | None) -> list[str]:
    """The container's log while it exists; the saved copy after."""
    container = find(record) if record.container and record.status != "Deleted" else None
    if container is None:
        text = (folder / LOG_FILE).read_text(errors="replace") if (
            folder / LOG_FILE).exists() else ""
    else:
        text = container.logs(tail=tail or "all").decode(errors="replace")
    lines = text.splitlines()
    return lines[-tail:] if tail else lines


def save_log(container: Any, folder: Path) -> None:
    with open(folder / LOG_FILE, "ab") as log:
        log.write(container.logs())


def stop_container(record: EndpointRecord, folder: Path) -> None:
    """Its log saved, the container removed (nothing else was created: no network)."""
    container = find(record)
    if container is not None:
        save_log(container, folder)
        container.remove(force=True, v=True)


__all__ = ["last_lines", "start_container", "state", "stop_container"]
