"""Run one local training job, detached from the kernel (standard library only).

The kernel starts this file as its own session, so the job and its log survive a kernel
restart and ``%sm_attach`` can follow it again.  It runs the entry script in a new process
group, timestamps every stdout/stderr line into the job's log file, writes the job's state
(``state.json``, replaced atomically) at each transition, stops the script as the service
does (SIGTERM, then SIGKILL after a grace period) on SIGTERM or ``--max-run``, and packs
``model.tar.gz`` / ``output.tar.gz`` when the script ends.

Usage: ``python supervisor.py JOB_DIR`` where ``JOB_DIR/run.json`` says what to run.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

try:  # imported as part of the package (the container supervisor, the backends, tests)
    from . import failures
except ImportError:  # run as a file (python supervisor.py JOB_DIR): its siblings are on the path
    import failures  # type: ignore[no-redef]

# The job folder's files; the package's jobdir.py names the same (a test checks it).
RUN_FILE = "run.json"
STATE_FILE = "state.json"
LOG_FILE = "job.log"
SUPERVISOR_ERRORS = "supervisor.err"
STOP_REQUEST = "stop.requested"  # a stop asked before the supervisor took signals
TERMINAL = ("Completed", "Failed", "Stopped")
MAX_LINE_BYTES = 1 << 20
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


def pack(source: Path | list[Path], target: Path,
         on_clash: Callable[[dict[str, Path]], None] | None = None) -> bool:
    """Tar-gzip the contents of ``source`` (files at the archive root, as SageMaker does).

    Several sources (one per host) are merged into one archive, the first host's file
    winning over a later host's file of the same path, so the master's (algo-1's) copy is
    the one kept; ``on_clash`` hears of such paths (path → the source kept), so the job
    can say so.  An empty directory gives a valid empty archive, as the service's and the
    SDKs' local modes produce; False (no archive) only when no source is a directory."""
    sources = [p for p in ([source] if isinstance(source, Path) else source) if p.is_dir()]
    if not sources:
        return False
    members, clashes = merged(sources)
    if clashes and on_clash is not None:
        on_clash(clashes)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, "w:gz", compresslevel=1) as tar:
        for name, (_, path) in sorted(members.items()):
            tar.add(path, arcname=name, recursive=False)
    os.replace(partial, target)
    return True


def merged(roots: list[Path]) -> tuple[dict[str, tuple[Path, Path]], dict[str, Path]]:
    """The trees of ``roots`` as one: archive name → (root, path), the first root's entry
    winning; and the clashes, name → the root kept.  A directory on several roots is no
    clash (their files merge); a file is, and so is a file against a directory, whose later
    contents are left out with it."""
    members: dict[str, tuple[Path, Path]] = {}
    clashes: dict[str, Path] = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            name = path.relative_to(root).as_posix()
            if name in members:
                kept_root, kept = members[name]
                if not (kept.is_dir() and path.is_dir()):
                    clashes.setdefault(name, kept_root)
            elif not _under_a_file(name, members):
                members[name] = (root, path)
    return members, clashes


def _under_a_file(name: str, members: dict[str, tuple[Path, Path]]) -> bool:
    """Inside a directory that clashed with an earlier host's file of that name."""
    return any(str(parent) in members and not members[str(parent)][1].is_dir()
               for parent in PurePosixPath(name).parents)


def clash_notice(clashes: dict[str, str], where: str, archive: str, shown: int = 3) -> str:
    """One line for the job log: which files several hosts wrote, and whose copy the
    archive holds (a long list is cut to its first few and a count)."""
    names = sorted(clashes)
    listed = ", ".join(names[:shown]) + (f" and {len(names) - shown} more"
                                         if len(names) > shown else "")
    what = f"the same {len(names)} files" if len(names) > 1 else "the same file"
    kept = sorted(set(clashes.values()), key=lambda h: (len(h), h))  # algo-2 before algo-10
    copy = "copies" if len(names) > 1 else "copy"
    whose = (f"{kept[0]}'s {copy}" if len(kept) == 1 else
             f"the first writer's copy of each ({', '.join(kept)})")
    return (f"{failures.OWN_LINE_PREFIX}several hosts wrote {what} to {where} ({listed}); "
            f"{archive} keeps {whose}")


class Supervisor:
    def __init__(self, job_dir: Path):
        self.job_dir = job_dir
        self.run = json.loads((job_dir / RUN_FILE).read_text())
        self.state = json.loads((job_dir / STATE_FILE).read_text())
        self.log = open(job_dir / LOG_FILE, "a", encoding="utf-8", buffering=1 << 16)  # noqa: SIM115 - open for the process's life
        self.log_lock = threading.Lock()
        self.stderr_tails: dict[str, deque[str]] = {}  # host → last stderr lines
        self.stop_reason: str | None = None  # "stop" or "max_run"
        self.stop_event = threading.Event()
        self.proc: subprocess.Popen[bytes] | None = None

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
        tmp = self.job_dir / f"{STATE_FILE}.tmp"
        tmp.write_text(json.dumps(self.state, indent=2))
        os.replace(tmp, self.job_dir / STATE_FILE)

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
        text = "".join(f"{stamp}\t{host}\t{stream}\t{line}\n" for line in lines)
        with self.log_lock:
            self.log.write(text)
            self.log.flush()
        if stream == "stderr":
            self.stderr_tails.setdefault(host, deque(maxlen=200)).extend(lines)

    def pump(self, streams: dict[int, str]) -> None:
        """Read stdout and stderr in one thread; when both are ready stdout goes first,
        so a script's last prints stay ahead of the traceback that follows them."""
        splitters = {fd: LineSplitter() for fd in streams}
        selector = selectors.DefaultSelector()
        for fd in streams:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            ready = sorted(key.fd for key, _ in selector.select())
            for fd in sorted(ready, key=lambda f: streams[f] != "stdout"):
                try:
                    chunk = os.read(fd, 1 << 16)
                except OSError:
                    chunk = b""
                if chunk:
                    self.write_lines(splitters[fd].feed(chunk), streams[fd])
                    continue
                selector.unregister(fd)
                self.write_lines(splitters[fd].flush(), streams[fd])
                os.close(fd)
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
        message = ("Stopping the job" if reason == "stop" else
                   "Training job exceeded MaxRuntimeInSeconds; stopping it")
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
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)  # type: ignore[union-attr]

    # ---- main -------------------------------------------------------------------------
    def main(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.request_stop("stop"))
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        env = {**os.environ, **self.run["env"]}
        try:
            self.proc = subprocess.Popen(self.run["argv"], cwd=self.run["cwd"], env=env,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            reason = f"ClientError: cannot start {self.run['argv'][0]}: {exc.strerror}"
            self.write_lines([reason], "stderr")
            self.transition("Failed", "Failed", "Training job failed", failure_reason=reason,
                            supervisor_pid=os.getpid())
            return 1
        self.transition("InProgress", "Training", "Training in progress",
                        supervisor_pid=os.getpid(), pid=self.proc.pid)
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
        reader.join(timeout=5)
        if reader.is_alive():  # a background child still holds the pipes
            self._signal_group(signal.SIGKILL)
            reader.join(timeout=5)
        with self.log_lock:
            self.log.flush()
        self.finish(code)
        return 0

    def finish(self, code: int, failed_host: str | None = None) -> None:
        """Pack every host's model and output data, then record the final state."""
        roots = list(self.hosts.values())
        artifacts = Path(self.run["artifacts_dir"])
        extra = {"exit_code": code}
        succeeded = code == 0 and self.stop_reason is None
        if succeeded:
            for root in roots:
                (root / "output" / "success").touch()
        if self.stop_reason is None:
            self.transition("InProgress", "Uploading", "Packing the model and output data")
        # A completed job always has its archives, as on the service; a failed or stopped one
        # keeps whatever the script saved, and gets no empty archive to mislead.
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
                    extra[key] = shutil.copy2(extra[key], dest)
        if self.stop_reason == "stop":
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
    supervisor = kind(Path(argv[1]))
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
