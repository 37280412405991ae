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

MAX_LINE_BYTES = 1 << 20
FAILURE_REASON_CHARS = 1024
_SEPARATOR = re.compile(rb"\r\n|\n|\r")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


STOP_REQUEST = "stop.requested"  # a stop asked before the supervisor took signals

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
    return (f"{OWN_LINE_PREFIX}several hosts wrote {what} to {where} ({listed}); {archive} "
            f"keeps {whose}")


_RANK_PREFIX = re.compile(r"^\[(?:default)?rank\d+\]:\s?")
_FRAME = re.compile(r'\s*File "(.+)", line (\d+)')
_SYNTAX_ERROR = re.compile(r"^(SyntaxError|IndentationError|TabError): ")


def failure_from_traceback(lines: list[str], entry_point: str) -> str | None:
    """``ValueError: boom (train.py, line 12)`` from the tracebacks on stderr.

    torchrun prefixes a worker's lines with ``[rankN]:`` and then prints its own launcher
    traceback, so the last traceback through the entry script wins over a later one.
    """
    lines = [_RANK_PREFIX.sub("", line) for line in lines]
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    if not starts:
        return _syntax_error(lines)
    blocks = [lines[a:b] for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]
    in_script = [b for b in blocks if any(_frame_file(ln) == entry_point for ln in b)]
    block = (in_script or blocks)[-1]
    frames = [i for i, line in enumerate(block) if _FRAME.match(line)]
    if not frames:
        return None
    error = next((ln for ln in block[frames[-1] + 1:] if ln and not ln[0].isspace()), None)
    if error is None:
        return None
    where = None
    for line in block:
        m = _FRAME.match(line)
        if m and Path(m.group(1)).name == entry_point:
            where = f"{entry_point}, line {m.group(2)}"
    return f"{error} ({where})" if where else error


def _syntax_error(lines: list[str]) -> str | None:
    """A script that does not compile gets no ``Traceback`` header, only its location."""
    for i in range(len(lines) - 1, 0, -1):
        if _SYNTAX_ERROR.match(lines[i]):
            frame = next((_FRAME.match(ln) for ln in reversed(lines[max(0, i - 4):i])
                          if _FRAME.match(ln)), None)
            where = f" ({Path(frame.group(1)).name}, line {frame.group(2)})" if frame else ""
            return lines[i] + where
    return None


def _frame_file(line: str) -> str | None:
    m = _FRAME.match(line)
    return Path(m.group(1)).name if m else None


# "error:" or "FATAL", or an exception's name; not "0 errors found"
_ERROR_WORD = re.compile(r"(?i:\b(?:error|fatal)\b)|\w(?:Error|Exception)\b")
OWN_LINE_PREFIX = "sm_notebook: "  # lines the supervisors write themselves


def last_error_line(lines: list[str]) -> str | None:
    """The last stderr line that reads as an error (else the last non-empty one), as the
    training toolkit's ``ExecuteUserScriptError`` quotes it: an argparse exit (code 2)
    says only ``train.py: error: argument ...``, with no traceback."""
    lines = [_RANK_PREFIX.sub("", line).strip() for line in lines]
    lines = [line for line in lines if line and not line.startswith(OWN_LINE_PREFIX)]
    return next((ln for ln in reversed(lines) if _ERROR_WORD.search(ln)),
                lines[-1] if lines else None)


# ``/opt/ml`` itself, not a job folder's ``.../<job>/opt/ml`` (local mode's tree)
OPT_ML = re.compile(r"(?:^|[\s'\"(\[=:,])/opt/ml(?![\w.-])")
_EMPTY_ERROR_MESSAGE = 'ErrorMessage ""'  # the toolkit's ExecuteUserScriptError, no message
OPT_ML_HINT = "local mode points SM_* at the job folder; /opt/ml paths need --mode container"


class Supervisor:
    def __init__(self, job_dir: Path):
        self.job_dir = job_dir
        self.run = json.loads((job_dir / "run.json").read_text())
        self.state = json.loads((job_dir / "state.json").read_text())
        self.log = open(job_dir / "job.log", "a", encoding="utf-8", buffering=1 << 16)  # noqa: SIM115 - open for the process's life
        self.log_lock = threading.Lock()
        self.stderr_tails: dict[str, deque[str]] = {}  # host → last stderr lines
        self.stop_reason: str | None = None  # "stop" or "max_run"
        self.stop_event = threading.Event()
        self.proc: subprocess.Popen[bytes] | None = None

    # ---- state ------------------------------------------------------------------------
    def transition(self, status: str, secondary: str, message: str, **extra) -> None:
        if status in ("Completed", "Failed", "Stopped"):
            self.settle()
        now = now_iso()
        transitions = self.state.setdefault("transitions", [])
        if transitions and "EndTime" not in transitions[-1]:
            transitions[-1]["EndTime"] = now
        if not transitions or transitions[-1]["Status"] != secondary:
            transitions.append({"Status": secondary, "StartTime": now, "StatusMessage": message})
        self.state.update(status=status, secondary_status=secondary, message=message,
                          last_modified=now, **extra)
        if status in ("Completed", "Failed", "Stopped"):
            transitions[-1]["EndTime"] = now
            self.state["ended"] = now
        tmp = self.job_dir / "state.json.tmp"
        tmp.write_text(json.dumps(self.state, indent=2))
        os.replace(tmp, self.job_dir / "state.json")

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
                return self._filled_in(text, host)[:FAILURE_REASON_CHARS]
        if code in (-signal.SIGKILL, 137):
            return "OutOfMemory: Process killed by SIGKILL (exit code 137)"
        stderr = list(self.stderr_tails.get(host, ()))
        detail = (failure_from_traceback(stderr, self.run["entry_point"])
                  or last_error_line(stderr))
        how = (f"killed by signal {signal.Signals(-code).name}" if code < 0
               else f"exit code {code}")
        tail = how + (f" on {host}" if len(self.hosts) > 1 else "")
        if detail and self.run.get("opt_ml_in_job_folder") and OPT_ML.search(detail):
            tail += f" — {OPT_ML_HINT}"
        if not detail:
            return f"AlgorithmError: {tail}"[:FAILURE_REASON_CHARS]
        room = FAILURE_REASON_CHARS - len("AlgorithmError: ; ") - len(tail)
        return f"AlgorithmError: {detail[:max(0, room)]}; {tail}"[:FAILURE_REASON_CHARS]


    def _filled_in(self, text: str, host: str) -> str:
        """The toolkit's failure file quotes the script's error only when it recognises an
        exception name (``ErrorMessage ""`` for an argparse exit): the script's last error
        line goes in its place."""
        if _EMPTY_ERROR_MESSAGE not in text:
            return text
        lines = list(self.stderr_tails.get(host, ()))
        report = next((i for i, line in enumerate(lines)  # the toolkit's own report after it
                       if " sagemaker-training-toolkit ERROR " in line), len(lines))
        detail = last_error_line(lines[:report])
        if not detail:
            return text
        return text.replace(_EMPTY_ERROR_MESSAGE, f"ErrorMessage {json.dumps(detail)}", 1)

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
