"""Run one local training job, detached from the kernel (standard library only).

The kernel starts this file as its own session, so the job and its log survive a kernel
restart and ``%sm_attach`` can follow it again.  It runs the entry script in a new process
group, timestamps every stdout/stderr line into the job's log file, writes the job's state
(``state.json``, replaced atomically) at each transition, stops the script as the service
does (SIGTERM, then SIGKILL after a grace period) on SIGTERM or ``--max-run``, and packs
``model.tar.gz`` / ``output.tar.gz`` when the script ends.  It records its own and the
script's identity beside their PIDs (``processes.py``), so nothing else is ever signalled
in their name; it is the script's subreaper, and ends whatever the script left running
when the job ends, as the service does when the instance goes.  A write it cannot make
(a full disk) fails the job with that error and stops the script; what it wrote stays.
Everything it writes is the user's alone (0600); the script keeps the kernel's umask.

Usage: ``python supervisor.py JOB_DIR`` where ``JOB_DIR/run.json`` says what to run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

try:  # imported as part of the package (the container supervisor, the backends, tests)
    from . import failures, processes
    from .packing import clash_notice, pack
except ImportError:  # run as a file (python supervisor.py JOB_DIR): its siblings are on the path
    import failures  # type: ignore[no-redef]
    import processes  # type: ignore[no-redef]
    from packing import clash_notice, pack  # type: ignore[no-redef]

# The job folder's files; the package's jobdir.py names the same (a test checks it).
RUN_FILE = "run.json"
STATE_FILE = "state.json"
LOG_FILE = "job.log"
SUPERVISOR_ERRORS = "supervisor.err"
STOP_REQUEST = "stop.requested"  # a stop asked before the supervisor took signals
RESERVE_FILE = "space.reserve"  # given back when the disk fills, so the end can be written
RESERVE_BYTES = 128 << 10
LEFTOVER_GRACE = 1.0  # seconds a process the script left running gets after SIGTERM
TERMINAL = ("Completed", "Failed", "Stopped")
MAX_LINE_BYTES = 1 << 20
# A script printing fast (unbuffered, a write per line) would wake the reader for every few
# lines, and each wake costs more than the lines: after a read short of READ_SIZE the reader
# lets the pipe fill for COALESCE seconds (invisible in a log), and the pipe is made big
# enough (PIPE_SIZE, where the system allows) that the script does not block meanwhile.
READ_SIZE = 1 << 19
PIPE_SIZE = 1 << 20
COALESCE = 0.002
FAILURE_REASON_CHARS = 1024
_SEPARATOR = re.compile(rb"\r\n|\n|\r")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LineSplitter:
    """Bytes → text lines: ``\\n``, ``\\r\\n`` and lone ``\\r`` end a line.

    Lines rewritten with ``\\r`` (progress bars) are passed on at most once per
    ``progress_interval`` seconds; the last state before a newline or the end is always
    kept.  Invalid UTF-8 is replaced, and a line longer than 1 MiB is cut into pieces.
    """

    def __init__(self, progress_interval: float = 1.0, clock=time.monotonic):
        self._buf = b""
        self._pending: bytes | None = None
        self._last_progress = float("-inf")
        self._interval = progress_interval
        self._clock = clock

    def feed(self, data: bytes) -> list[str]:
        buf = self._buf + data
        if self._pending is None and len(buf) <= MAX_LINE_BYTES and b"\r" not in buf:
            # plain lines (the usual case): decoded and split in two calls at C speed; a
            # newline byte is never inside a UTF-8 sequence, so the text's lines decode as
            # each line alone would
            cut = buf.rfind(b"\n") + 1
            self._buf = buf[cut:]
            return buf[:cut - 1].decode("utf-8", "replace").split("\n") if cut else []
        out: list[str] = []
        start = 0
        limit = len(buf) - 1 if buf.endswith(b"\r") else len(buf)  # maybe half of \r\n
        for m in _SEPARATOR.finditer(buf, 0, limit):
            segment = buf[start:m.start()]
            start = m.end()
            if m.group() == b"\r":
                if segment:
                    self._progress(segment, out)
                continue
            if not segment and self._pending is not None:
                segment = self._pending
            self._pending = None
            if len(segment) > MAX_LINE_BYTES:
                out += _pieces(segment)
            else:
                out.append(segment.decode("utf-8", "replace"))
        rest = buf[start:]
        while len(rest) > MAX_LINE_BYTES:  # no line end yet: pass on whole pieces now
            cut = _cut(rest)
            out.append(rest[:cut].decode("utf-8", "replace"))
            rest = rest[cut:]
        self._buf = rest
        return out

    def _progress(self, segment: bytes, out: list[str]) -> None:
        now = self._clock()
        if now - self._last_progress >= self._interval:
            out += _pieces(segment)
            self._last_progress = now
            self._pending = None
        else:
            self._pending = segment

    def flush(self) -> list[str]:
        rest = self._buf.rstrip(b"\r") or self._pending
        self._buf, self._pending = b"", None
        return _pieces(rest) if rest else []


def _cut(data: bytes) -> int:
    """Where to cut ``data`` (longer than the limit): at the limit, moved back to the start
    of a UTF-8 character so no character is split between two pieces."""
    i = MAX_LINE_BYTES
    while i > MAX_LINE_BYTES - 3 and data[i] & 0xC0 == 0x80:  # a continuation byte
        i -= 1
    return i


def _pieces(data: bytes) -> list[str]:
    """One line's text, cut into pieces of at most ``MAX_LINE_BYTES`` bytes."""
    out = []
    while len(data) > MAX_LINE_BYTES:
        cut = _cut(data)
        out.append(data[:cut].decode("utf-8", "replace"))
        data = data[cut:]
    out.append(data.decode("utf-8", "replace"))
    return out


class Supervisor:
    def __init__(self, job_dir: Path):
        self.job_dir = job_dir
        self.run = json.loads((job_dir / RUN_FILE).read_text())
        self.state = json.loads((job_dir / STATE_FILE).read_text())
        self.log = open(job_dir / LOG_FILE, "ab", buffering=0)  # noqa: SIM115 - open for the process's life
        self.log_size = self.log.seek(0, os.SEEK_END)  # where the last whole record ends
        self.log_lock = threading.Lock()
        self.stderr_tails: dict[str, deque[str]] = {}  # host → last stderr lines
        self.stop_reason: str | None = None  # "stop", "max_run" or "fault"
        self.fault: str | None = None  # why the supervisor itself could not go on
        self.stop_event = threading.Event()
        self.proc: subprocess.Popen[bytes] | None = None
        self.script_umask = 0o022  # the kernel's, given back to the script (see run_main)
        self.finishing = False  # the script has ended; the job is being wrapped up

    # ---- state ------------------------------------------------------------------------
    def transition(self, status: str, secondary: str, message: str, **extra) -> None:
        if status in TERMINAL:
            self.settle()
        now = now_iso()
        transitions = self.state.setdefault("transitions", [])
        if transitions and "EndTime" not in transitions[-1]:
            transitions[-1]["EndTime"] = now
        if not transitions or transitions[-1]["Status"] != secondary:
            transitions.append({"Status": secondary, "StartTime": now, "StatusMessage": message})
        self.state.update(status=status, secondary_status=secondary, message=message,
                          last_modified=now, **extra)
        if status in TERMINAL:
            transitions[-1]["EndTime"] = now
            self.state["ended"] = now
            self.release_reserve()
        try:
            self.write_state()
        except OSError:  # a full disk: the reserve makes room for the state at least
            self.release_reserve()
            self.write_state()

    def write_state(self) -> None:
        tmp = self.job_dir / f"{STATE_FILE}.tmp"
        try:
            tmp.write_text(json.dumps(self.state, indent=2))
            os.replace(tmp, self.job_dir / STATE_FILE)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise

    def identities(self) -> dict[str, object]:
        """This supervisor's PID and identity, and the script's when it has started: what
        the kernel checks before it signals either (``runtime/processes.py``)."""
        found: dict[str, object] = {"supervisor_pid": os.getpid(), processes.SUPERVISOR_IDENTITY:
                                    processes.identity(os.getpid())}
        if self.proc is not None:
            found.update({"pid": self.proc.pid,
                          processes.SCRIPT_IDENTITY: processes.identity(self.proc.pid)})
        return found

    # ---- faults -------------------------------------------------------------------------
    def hold_reserve(self) -> None:
        """Set some disk space aside, given back if the disk fills, so the job's end can
        still be recorded."""
        with contextlib.suppress(OSError), open(self.job_dir / RESERVE_FILE, "wb") as f:
            f.write(bytes(RESERVE_BYTES))

    def release_reserve(self) -> None:
        with contextlib.suppress(OSError):
            (self.job_dir / RESERVE_FILE).unlink(missing_ok=True)

    def fail(self, reason: str) -> None:
        """The supervisor cannot go on (a write failed, the engine went away): the job
        is stopped and ends Failed with ``reason``; the first fault is the one kept."""
        if self.fault is not None:
            return
        self.fault = reason[:FAILURE_REASON_CHARS]
        self.release_reserve()
        if not self.finishing:  # the script still runs
            self.request_stop("fault")

    def could_not_write(self, path: Path, exc: OSError) -> str:
        return (f"InternalError: the supervisor could not write {path}: "
                f"{exc.strerror or exc}; the script was stopped")

    def settle(self) -> None:
        """Hook: whatever must be finished before a job is reported ended."""

    # ---- output -----------------------------------------------------------------------
    @property
    def hosts(self) -> dict[str, Path]:
        """Host name → its ``/opt/ml`` tree on this machine."""
        return {host: Path(root) for host, root in self.run["layout_roots"].items()}

    def write_lines(self, lines: list[str], stream: str, host: str | None = None) -> None:
        if not lines:
            return
        stamp, host = now_iso(), host or next(iter(self.hosts))
        head = f"{stamp}\t{host}\t{stream}\t"
        data = (head + f"\n{head}".join(lines) + "\n").encode()
        with self.log_lock:  # after a fault the lines go nowhere: the script is stopping
            error = self._append(data) if self.fault is None else None
        if error is not None:
            self.fail(self.could_not_write(self.job_dir / LOG_FILE, error))
        if stream == "stderr":
            self.stderr_tails.setdefault(host, deque(maxlen=200)).extend(lines)

    def _append(self, data: bytes) -> OSError | None:
        """Write whole records (log lock held); a write that fails (the disk is full) is
        taken back to the last whole record, so what was written stays readable."""
        view = memoryview(data)
        try:
            while view:
                view = view[self.log.write(view):]
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self.log.fileno(), self.log_size)
            return exc
        self.log_size += len(data)
        return None

    def pump(self, streams: dict[int, str]) -> None:
        """Read stdout and stderr in one thread; when both are ready stdout goes first,
        so a script's last prints stay ahead of the traceback that follows them."""
        splitters = {fd: LineSplitter() for fd in streams}
        selector = selectors.DefaultSelector()
        for fd in streams:
            selector.register(fd, selectors.EVENT_READ)
            with contextlib.suppress(OSError, AttributeError):  # Linux only; it may refuse
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        while selector.get_map():
            ready = sorted(key.fd for key, _ in selector.select())
            behind = False
            for fd in sorted(ready, key=lambda f: streams[f] != "stdout"):
                try:
                    chunk = os.read(fd, READ_SIZE)
                except OSError:
                    chunk = b""
                if chunk:
                    self.write_lines(splitters[fd].feed(chunk), streams[fd])
                    behind = behind or len(chunk) == READ_SIZE
                    continue
                selector.unregister(fd)
                self.write_lines(splitters[fd].flush(), streams[fd])
                os.close(fd)
            if not behind and selector.get_map():
                time.sleep(COALESCE)
        selector.close()

    # ---- stopping -----------------------------------------------------------------------
    def started(self) -> bool:
        return self.proc is not None

    def stop_if_asked(self) -> None:
        """A stop asked before this process could take SIGTERM (``STOP_REQUEST``: the
        backend writes it first, then signals once ``supervisor_pid`` is in the state,
        which is written just before this check, so one of the two always lands)."""
        if (self.job_dir / STOP_REQUEST).exists():
            self.request_stop("stop")

    def request_stop(self, reason: str) -> None:
        if self.stop_reason is not None or not self.started():
            return
        self.stop_reason = reason
        message = {"stop": "Stopping the job",
                   "max_run": "Training job exceeded MaxRuntimeInSeconds; stopping it",
                   "fault": "Stopping the job: the supervisor cannot go on"}[reason]
        self.transition("Stopping", "Stopping", message)
        threading.Thread(target=self._terminate, daemon=True).start()

    def _terminate(self) -> None:
        self._signal_group(signal.SIGTERM)
        assert self.proc is not None
        try:
            self.proc.wait(timeout=float(self.run.get("stop_grace", 30)))
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)

    def _signal_group(self, sig: int) -> None:
        """The script's group, while the script is this process's unreaped child (its
        PID cannot have been reused)."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)

    # ---- main -------------------------------------------------------------------------
    def main(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.request_stop("stop"))
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        env = {**os.environ, **self.run["env"]}
        self.hold_reserve()
        processes.become_subreaper()
        try:
            self.proc = subprocess.Popen(self.run["argv"], cwd=self.run["cwd"], env=env,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True,
                                         umask=self.script_umask)
        except OSError as exc:
            reason = f"ClientError: cannot start {self.run['argv'][0]}: {exc.strerror}"
            self.write_lines([reason], "stderr")
            self.transition("Failed", "Failed", "Training job failed", failure_reason=reason,
                            **self.identities())
            return 1
        self.transition("InProgress", "Training", "Training in progress", **self.identities())
        self.stop_if_asked()
        streams = {self.proc.stdout.fileno(): "stdout", self.proc.stderr.fileno(): "stderr"}
        reader = threading.Thread(target=self.pump, args=(streams,), daemon=True)
        reader.start()
        max_run = self.run.get("max_run")
        timer = None
        if max_run:
            timer = threading.Timer(float(max_run), self.request_stop, args=("max_run",))
            timer.daemon = True
            timer.start()
        code = self.proc.wait()
        if timer:
            timer.cancel()
        left = processes.end_left_running(os.getpid(), self.proc.pid, LEFTOVER_GRACE)
        reader.join(timeout=5)  # the pipes close once nothing of the job holds them
        if left:
            self.write_lines([f"{failures.OWN_LINE_PREFIX}the script left {len(left)} "
                              f"process(es) running; ended them as the service does when "
                              f"the instance goes: {processes.described(left)}"], "stderr")
        self.finish(code)
        return 0

    def finish(self, code: int, failed_host: str | None = None) -> None:
        """Pack every host's model and output data, then record the final state."""
        self.finishing = True
        extra: dict[str, object] = {"exit_code": code}
        succeeded = code == 0 and self.stop_reason is None
        try:
            if succeeded:
                for root in self.hosts.values():
                    (root / "output" / "success").touch()
            if self.stop_reason is None:
                self.transition("InProgress", "Uploading", "Packing the model and output data")
            self.pack_artifacts(succeeded, extra)
        except OSError as exc:  # a full disk: the job fails saying so, keeping what it has
            self.fail(self.could_not_write(Path(exc.filename or self.job_dir), exc))
        if self.fault is not None:
            self.transition("Failed", "Failed", "Training job failed",
                            failure_reason=self.fault, **extra)
        elif self.stop_reason == "stop":
            self.transition("Stopped", "Stopped", "Training job stopped", **extra)
        elif self.stop_reason == "max_run":
            self.transition("Stopped", "MaxRuntimeExceeded",
                            "Training job exceeded MaxRuntimeInSeconds", **extra)
        elif code == 0:
            self.transition("Completed", "Completed", "Training job completed", **extra)
        else:
            host = failed_host or next(iter(self.hosts))
            self.transition("Failed", "Failed", "Training job failed",
                            failure_reason=self.failure_reason(code, host), **extra)

    def pack_artifacts(self, succeeded: bool, extra: dict[str, object]) -> None:
        """A completed job always has its archives, as on the service; a failed or stopped
        one keeps whatever the script saved, and gets no empty archive to mislead."""
        roots, artifacts = list(self.hosts.values()), Path(self.run["artifacts_dir"])
        for key, sub, name in (("model_artifacts", "model", "model.tar.gz"),
                               ("output_artifacts", "output/data", "output.tar.gz")):
            sources = [root / sub for root in roots]
            saved = any(p.is_dir() and any(p.iterdir()) for p in sources)
            if (succeeded or saved) and pack(sources, artifacts / name,
                                             self.clash_reporter(sub, name)):
                extra[key] = str(artifacts / name)
        copy_to = self.run.get("copy_artifacts_to")
        if copy_to:
            dest = Path(copy_to) / self.run["job_name"] / "output"
            dest.mkdir(parents=True, exist_ok=True)
            for key in ("model_artifacts", "output_artifacts"):
                if key in extra:
                    extra[key] = shutil.copy2(str(extra[key]), dest)

    def clash_reporter(self, sub: str, archive: str) -> Callable[[dict[str, Path]], None]:
        """What ``pack`` calls when hosts wrote the same files to ``/opt/ml/<sub>``: one
        line in the job's log, so a dropped copy (a non-master's ``model.pth``) is no
        surprise."""
        host_of = {root / sub: host for host, root in self.hosts.items()}

        def report(clashes: dict[str, Path]) -> None:
            kept = {name: host_of[source] for name, source in clashes.items()}
            self.write_lines([clash_notice(kept, f"/opt/ml/{sub}", archive)], "stderr")

        return report

    def failure_reason(self, code: int, host: str) -> str:
        failure = self.hosts[host] / "output" / "failure"
        if failure.is_file():
            text = failure.read_text(errors="replace").strip()
            if text:
                tail = list(self.stderr_tails.get(host, ()))
                return failures.filled_in(text, tail)[:FAILURE_REASON_CHARS]
        if code in (-signal.SIGKILL, 137):
            return "OutOfMemory: Process killed by SIGKILL (exit code 137)"
        stderr = list(self.stderr_tails.get(host, ()))
        detail = (failures.failure_from_traceback(stderr, self.run["entry_point"])
                  or failures.last_error_line(stderr))
        how = (f"killed by signal {signal.Signals(-code).name}" if code < 0
               else f"exit code {code}")
        tail = how + (f" on {host}" if len(self.hosts) > 1 else "")
        if detail and self.run.get("opt_ml_in_job_folder") and failures.OPT_ML.search(detail):
            tail += f" — {failures.OPT_ML_HINT}"
        if not detail:
            return f"AlgorithmError: {tail}"[:FAILURE_REASON_CHARS]
        room = FAILURE_REASON_CHARS - len("AlgorithmError: ; ") - len(tail)
        return f"AlgorithmError: {detail[:max(0, room)]}; {tail}"[:FAILURE_REASON_CHARS]

    def abort(self) -> None:
        """After an internal error: leave nothing of the job running."""
        if self.proc is not None and self.proc.poll() is None:
            self._signal_group(signal.SIGKILL)


def run_main(kind: type[Supervisor], argv: list[str]) -> int:
    """``python -m ... JOB_DIR`` for a supervisor class; an internal error fails the job
    (never leaving it InProgress forever) and is re-raised into ``supervisor.err``."""
    if len(argv) != 2:
        print(f"usage: {Path(argv[0]).name} JOB_DIR", file=sys.stderr)
        return 2
    umask = os.umask(0o077)  # what the supervisor writes is the user's alone
    supervisor = kind(Path(argv[1]))
    supervisor.script_umask = umask
    try:
        return supervisor.main()
    except Exception as exc:
        supervisor.abort()
        supervisor.transition("Failed", "Failed", "Training job failed",
                              failure_reason=f"InternalError: sm_notebook supervisor: {exc!r}")
        raise


def main(argv: list[str]) -> int:
    return run_main(Supervisor, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
