"""Local process mode: the entry script runs on this machine with the SageMaker contract.

The job's ``/opt/ml`` tree lives in its job directory and every ``SM_*`` variable points
there.  A detached supervisor (``runtime/supervisor.py``) runs the script, so the job
outlives the kernel; this backend follows it by tailing ``job.log`` and ``state.json``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import contract, sourcedir
from ..clock import utc_now_iso
from ..errors import SmNotebookError, SpecError
from ..events import LogEvent, StatusEvent
from ..jobdir import parse_records, read_json, write_json
from ..runtime.launcher import gpu_count as _gpu_count
from ..runtime.supervisor import OPT_ML, OPT_ML_HINT, STOP_REQUEST
from ..spec import TrainingSpec, resolve_path
from .base import Batch, JobRef

SUPERVISOR = Path(__file__).resolve().parent.parent / "runtime" / "supervisor.py"
HOST = "algo-1"
READ_LIMIT = 1 << 20
LIVENESS_INTERVAL = 2.0


@dataclass
class _Cursor:
    offset: int = 0
    state_signature: tuple[int, int] | None = None
    last: tuple[Any, ...] | None = None
    terminal: bool = False
    next_liveness_check: float = 0.0
    pending: bytes = field(default=b"", repr=False)


class LocalBackend:
    """Runs jobs as local processes; see the module docstring."""

    mode = "local"
    persists = True

    def __init__(self, stop_grace: float = 30.0):
        self.stop_grace = stop_grace
        self.on_progress: Callable[..., None] = lambda text, final=False: None

    # ---- before anything exists ---------------------------------------------------------
    def python_for(self, spec: TrainingSpec) -> str:
        return spec.python or sys.executable

    def preflight(self, spec: TrainingSpec, base: Path) -> list[str]:
        python = self.python_for(spec)
        if spec.python is not None:
            _check_interpreter(python)
        from ..requirements import missing_requirements

        req = spec.requirements_path(base)
        if req is not None:
            missing = missing_requirements(req, python)
            if missing:
                from ..requirements import pip_command

                raise SpecError("--requirements", f"not installed for {python}: "
                                f"{', '.join(missing)}; install them with: "
                                f"{pip_command(python, missing)}",
                                "the packages installed (local mode never installs them)")
        return opt_ml_notes(spec, base)

    def script_run(self, spec: TrainingSpec, name: str, directory: Path) -> contract.ScriptRun:
        layout = contract.Layout(directory / "opt" / "ml")
        return contract.ScriptRun(
            job_name=name,
            cluster=contract.Cluster(spec.effective_instance_type, 1, network_interface="lo"),
            current_host=HOST,
            entry_point=spec.entry_script,
            hyperparameters=spec.hyperparameters,
            channels=spec.channel_names,
            layout=layout,
            num_cpus=os.cpu_count() or 1,
            num_gpus=_gpu_count(),
            region=spec.region,
            processes_per_host=spec.launched_processes,
            hp_style=spec.hp_style,
            shell_command=spec.command,
        )

    def environment(self, spec: TrainingSpec, run: contract.ScriptRun) -> dict[str, str]:
        return {**run.environment(), "PYTHONUNBUFFERED": "1", **spec.environment}

    def plan(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> str:
        from .s3_inputs import as_planned, planned_downloads

        downloads = planned_downloads(spec, directory)
        spec = as_planned(spec, directory)
        run = self.script_run(spec, name, directory)
        argv = run.command(self.python_for(spec))
        env = self.environment(spec, run)
        lines = [
            f"local process job {name}",
            f"  job directory  {directory}",
            f"  code           {run.layout.code_dir}/{spec.entry_script} (the cell)"
            + (f" + {spec.source_dir}" if spec.source_dir else ""),
        ]
        lines += downloads
        for ch in spec.channels:
            lines.append(f"  input          {ch.name}: {resolve_path(base, ch.source)} → "
                         f"{run.layout.channel_dir(ch.name)} (linked)")
        lines += [f"  command        (cd {run.layout.code_dir} && "
                  f"{contract.render_command(argv)})",
                  f"  environment    {len(env)} variables, e.g. SM_MODEL_DIR="
                  f"{env['SM_MODEL_DIR']}, SM_HPS={env['SM_HPS']}",
                  f"  artifacts      {directory / 'artifacts'}/model.tar.gz, output.tar.gz"]
        if spec.max_run:
            lines.append(f"  max run        {spec.max_run} s, then SIGTERM and SIGKILL after "
                         f"{self.stop_grace:g} s")
        return "\n".join(lines)

    # ---- running -------------------------------------------------------------------------
    def stage_inputs(self, spec: TrainingSpec, directory: Path) -> TrainingSpec:
        """S3 channels downloaded into the job first (see ``s3_inputs.py``)."""
        from .s3_inputs import download_channels

        return download_channels(spec, directory, self.on_progress)

    def submit(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> JobRef:
        spec = self.stage_inputs(spec, directory)
        run = self.script_run(spec, name, directory)
        layout = run.layout
        for d in layout.directories():
            Path(d).mkdir(parents=True, exist_ok=True)
        notes = sourcedir.lay_out(spec, base, Path(layout.code_dir))
        for ch in spec.channels:
            _stage_channel(resolve_path(base, ch.source), Path(layout.channel_dir(ch.name)))
        contract.write_config_files(run, Path(layout.config_dir))
        output_dir = spec.output and str(resolve_path(base, spec.output.removeprefix("file://")))
        write_json(directory / "run.json", {
            "job_name": name,
            "argv": run.command(self.python_for(spec)),
            "cwd": str(layout.code_dir),
            "env": self.environment(spec, run),
            "entry_point": spec.entry_script,
            "layout_roots": {HOST: str(layout.root)},
            "artifacts_dir": str(directory / "artifacts"),
            "max_run": spec.max_run,
            "stop_grace": self.stop_grace,
            "copy_artifacts_to": output_dir,
            "opt_ml_in_job_folder": True,  # a failure naming /opt/ml gets OPT_ML_HINT
        })
        return self.launch(directory, [str(SUPERVISOR)], "Starting the local process", notes)

    def launch(self, directory: Path, supervisor: list[str], message: str,
               notes: list[str]) -> JobRef:
        """Write the initial state and start the detached supervisor (``run.json`` is
        already written); shared by every backend that runs a supervisor."""
        now = utc_now_iso()
        write_json(directory / "state.json", {
            "status": "InProgress", "secondary_status": "Starting", "message": message,
            "created": now,
            "transitions": [{"Status": "Starting", "StartTime": now, "StatusMessage": message}],
        })
        (directory / "job.log").touch()
        process = self.start_supervisor(directory, supervisor)
        return JobRef(directory.name, directory, {"process": process, "notes": notes})

    def start_supervisor(self, directory: Path, supervisor: list[str]) -> subprocess.Popen:
        """A detached process (its own session, so it outlives the kernel)."""
        with open(directory / "supervisor.err", "wb") as err:
            return subprocess.Popen([sys.executable, *supervisor, str(directory)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err, start_new_session=True, close_fds=True)

    def attach(self, name: str, directory: Path) -> JobRef:
        if not (directory / "state.json").is_file():
            raise SmNotebookError(f"{name}: no local job state in {directory}")
        return JobRef(name, directory, {})

    def poll(self, ref: JobRef, cursor: _Cursor | None) -> Batch:
        cur = cursor or _Cursor()
        process = ref.handle.get("process")
        if process is not None:
            process.poll()  # reap the supervisor when it has ended
        statuses = self._read_state(ref, cur)
        logs = self._read_log(ref.directory / "job.log", cur)
        if not cur.terminal and time.monotonic() >= cur.next_liveness_check:
            cur.next_liveness_check = time.monotonic() + LIVENESS_INTERVAL
            statuses += self._check_alive(ref, cur)
        done = cur.terminal and not cur.pending and cur.offset >= _size(ref.directory / "job.log")
        return Batch(logs, statuses, cur, done)

    def _read_state(self, ref: JobRef, cur: _Cursor) -> list[StatusEvent]:
        path = ref.directory / "state.json"
        try:
            st = path.stat()
        except FileNotFoundError:
            return []
        signature = (st.st_mtime_ns, st.st_size)
        if signature == cur.state_signature:
            return []
        cur.state_signature = signature
        state = read_json(path)
        return self._status_events(state, cur)

    @staticmethod
    def _status_events(state: dict[str, Any], cur: _Cursor) -> list[StatusEvent]:
        if not state:
            return []
        key = (state.get("status"), state.get("secondary_status"), state.get("failure_reason"),
               state.get("model_artifacts"))
        if key == cur.last:
            return []
        cur.last = key
        event = StatusEvent(state.get("last_modified") or utc_now_iso(), state["status"],
                            state.get("secondary_status", ""), state.get("message", ""),
                            state.get("failure_reason"))
        cur.terminal = event.terminal
        return [event]

    def _read_log(self, path: Path, cur: _Cursor) -> list[LogEvent]:
        try:
            with open(path, "rb") as f:
                f.seek(cur.offset)
                data = f.read(READ_LIMIT)
        except FileNotFoundError:
            return []
        if not data:
            return []
        cur.offset += len(data)
        data = cur.pending + data
        cut = data.rfind(b"\n") + 1
        cur.pending = data[cut:]
        return parse_records(data[:cut])

    def _check_alive(self, ref: JobRef, cur: _Cursor) -> list[StatusEvent]:
        state = read_json(ref.directory / "state.json")
        if state.get("status") in ("Completed", "Failed", "Stopped"):
            return []
        pid = state.get("supervisor_pid")
        process = ref.handle.get("process")
        if pid is None and process is not None:
            pid = process.pid
        if pid is None or _alive(pid):
            return []
        state = read_json(ref.directory / "state.json")  # it may have just finished
        if state.get("status") in ("Completed", "Failed", "Stopped"):
            return []
        reason = ("InternalError: the job's supervisor process ended unexpectedly; see "
                  f"{ref.directory / 'supervisor.err'}")
        self._kill_orphans(ref, state)
        state.update(status="Failed", secondary_status="Failed", failure_reason=reason,
                     message="Training job failed", ended=utc_now_iso(),
                     last_modified=utc_now_iso())
        write_json(ref.directory / "state.json", state)
        return self._status_events(state, cur)

    def _kill_orphans(self, ref: JobRef, state: dict[str, Any]) -> None:
        """What a dead supervisor left running: the script's process group."""
        child = state.get("pid")
        if child and _alive(child):
            _kill_group(child, signal.SIGKILL)

    def release(self, cursor: Any) -> None:
        """Nothing is held open while a local job is followed."""

    def stop(self, ref: JobRef) -> None:
        """The request first, then SIGTERM once the supervisor takes it (a supervisor still
        starting up reads the request instead: a signal then would kill it)."""
        (ref.directory / STOP_REQUEST).touch()
        state = read_json(ref.directory / "state.json")
        if state.get("status") in ("Completed", "Failed", "Stopped"):
            return
        pid = state.get("supervisor_pid")
        if pid is not None and _alive(pid):
            os.kill(pid, signal.SIGTERM)
        elif state.get("pid"):
            _kill_group(state["pid"], signal.SIGTERM)

    def describe(self, ref: JobRef) -> dict[str, Any]:
        return read_json(ref.directory / "state.json")


def opt_ml_notes(spec: TrainingSpec, base: Path) -> list[str]:
    """A script written for a container (``/opt/ml/...`` hard-coded, as the V3 SDK's local
    example does) fails here with a bare FileNotFoundError: said before it runs.  Comments
    and lines reading an ``SM_*`` variable (``os.environ.get("SM_MODEL_DIR",
    "/opt/ml/model")``, which works anywhere) do not count."""
    for number, line in enumerate(_entry_source(spec, base).splitlines(), 1):
        code = line.split("#", 1)[0]
        if OPT_ML.search(code) and "SM_" not in code:
            return [f"{spec.entry_script}, line {number} names /opt/ml: {OPT_ML_HINT}"]
    return []


def _entry_source(spec: TrainingSpec, base: Path) -> str:
    """The entry script's text: the cell, or the file of ``--source-dir``."""
    if spec.has_script:
        return spec.cell
    if not spec.source_dir:
        return ""
    try:
        return (resolve_path(base, spec.source_dir) / spec.entry_script).read_text(errors="replace")
    except OSError:
        return ""


def _check_interpreter(python: str) -> None:
    """``--python`` names an executable file that runs as Python 3 (checked by running it)."""
    expected = "a path to a Python 3 executable"
    found = shutil.which(python)  # an executable file, never a directory
    if found is None:
        raise SpecError("--python", f"{python} is not an executable file", expected)
    try:
        probe = subprocess.run([found, "-c", "import sys; print(sys.version_info[0])"],
                               capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpecError("--python", f"{python} could not be run ({exc})", expected) from None
    if probe.returncode != 0 or probe.stdout.strip() != "3":
        raise SpecError("--python", f"{python} does not run as Python 3", expected)


def _stage_channel(source: Path, channel_dir: Path) -> None:
    """Link a local input into ``input/data/<name>`` (a file goes inside the channel dir)."""
    source = source.resolve()
    if source.is_dir():
        if channel_dir.exists():
            channel_dir.rmdir()
        channel_dir.symlink_to(source, target_is_directory=True)
    else:
        channel_dir.mkdir(parents=True, exist_ok=True)
        (channel_dir / source.name).symlink_to(source)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited; only its parent has not reaped it yet
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
