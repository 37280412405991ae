"""Following a supervised job folder: the part local and container mode share.

A detached supervisor process (``runtime/supervisor.py`` or its container variant) runs
the job and writes ``job.log`` and ``state.json``; the kernel only reads them.  One
:class:`SupervisedFolder` starts that supervisor, tails the log from a byte cursor, turns
state changes into status events, notices a supervisor that died without saying so, and
asks for a stop.  What differs between the modes is handed in: the supervisor's command,
how to clean up after a dead supervisor, and a warm spare process to use instead of a new
one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..clock import utc_now_iso
from ..errors import SmNotebookError
from ..events import StatusEvent
from ..jobdir import JobDir, JobState
from ..logwindow import LogTail
from ..runtime import processes
from ..runtime.processes import SCRIPT_IDENTITY, SUPERVISOR_IDENTITY
from .base import Batch, JobRef

READ_LIMIT = 16 << 20  # bytes of job.log read per poll
#: lines a poll hands out at most (the job's default window); the others are only counted,
#: so following a job costs what is shown, not what the job prints
TAIL_LINES = 10_000
LIVENESS_INTERVAL = 2.0  # seconds between checks that the supervisor is still there

#: ``kill_orphans(ref, state)``: what a dead supervisor left running, removed
OrphanKiller = Callable[[JobRef, JobState], None]
#: ``take_spare(directory)``: a supervisor already started, now handed the job, or None
SpareTaker = Callable[[Path], "subprocess.Popen[bytes] | None"]


@dataclass
class Cursor:
    """Where following a job has got to: the log offset, the last state seen."""

    folder: JobDir
    offset: int = 0
    state_signature: tuple[int, int] | None = None
    last: tuple[Any, ...] | None = None
    terminal: bool = False
    next_liveness_check: float = 0.0
    pending: bytes = field(default=b"", repr=False)  # a last line not yet ended


def taken_back(cur: Cursor, end: int) -> None:
    """The log is shorter than what was read: the supervisor took back a record it could
    not finish (a disk that filled).  The unfinished line read goes with it, so the
    cursor can still reach the log's end and the job be done."""
    kept = max(0, len(cur.pending) - (cur.offset - end))
    cur.pending = cur.pending[:kept]
    cur.offset = end


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not: it has exited, unreaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):  # it ended between the two looks
        return not os.path.isdir("/proc/self")  # (or there is no /proc to read)
    except OSError:
        return True


def kill_script_group(ref: JobRef, state: JobState) -> None:
    """What a dead local supervisor left running: the script's process group, by the
    kernel that launched the job (an attach signals nothing) and only while its leader
    is the very process the supervisor recorded."""
    if ref.handle.get("process") is not None:
        processes.signal_group(state.pid, state.extra.get(SCRIPT_IDENTITY), signal.SIGKILL)


def supervisor_running(ref: JobRef, state: JobState) -> bool:
    """Whether the job's supervisor still runs: this kernel's own child while it is
    unreaped, else the recorded PID if its process has the recorded identity.  Not yet
    recorded (the supervisor is starting, launched elsewhere) counts as running."""
    process = ref.handle.get("process")
    if process is not None:
        return process.poll() is None
    if state.supervisor_pid is None:
        return True
    return processes.running(state.supervisor_pid, state.extra.get(SUPERVISOR_IDENTITY))


class SupervisedFolder:
    """Starts and follows jobs whose supervisor writes their folder; see the module
    docstring.  ``supervisor`` is the interpreter's arguments before the job folder."""

    def __init__(self, supervisor: list[str], kill_orphans: OrphanKiller = kill_script_group,
                 take_spare: SpareTaker | None = None):
        self.supervisor = supervisor
        self.kill_orphans = kill_orphans
        self.take_spare = take_spare

    # ---- starting ------------------------------------------------------------------------
    def start(self, directory: Path, message: str, notes: list[str]) -> JobRef:
        """Write the initial state and start the supervisor (``run.json`` is written)."""
        folder = JobDir(directory)
        now = utc_now_iso()
        folder.write_state(JobState(
            message=message, created=now,
            transitions=[{"Status": "Starting", "StartTime": now, "StatusMessage": message}]))
        folder.log_file.touch(mode=0o600)
        process = self.take_spare(directory) if self.take_spare else None
        if process is None:
            process = self.spawn(folder)
        return JobRef(directory.name, directory, {"process": process}, notes)

    def spawn(self, folder: JobDir) -> subprocess.Popen[bytes]:
        """A detached process (its own session, so it outlives the kernel)."""
        fd = os.open(folder.supervisor_errors, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "wb") as err:
            return subprocess.Popen([sys.executable, *self.supervisor, str(folder.path)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err, start_new_session=True, close_fds=True)

    def attach(self, name: str, directory: Path) -> JobRef:
        if not JobDir(directory).has_state():
            raise SmNotebookError(f"{name}: no local job state in {directory}")
        return JobRef(name, directory, {})

    # ---- following -----------------------------------------------------------------------
    def poll(self, ref: JobRef, cursor: Cursor | None) -> Batch:
        cur = cursor or Cursor(JobDir(ref.directory))
        process = ref.handle.get("process")
        if process is not None:
            process.poll()  # reap the supervisor when it has ended
        statuses = self._read_state(cur)
        lines, logs = self._read_log(cur)
        if not cur.terminal and time.monotonic() >= cur.next_liveness_check:
            cur.next_liveness_check = time.monotonic() + LIVENESS_INTERVAL
            statuses += self._check_alive(ref, cur)
        done = cur.terminal and not cur.pending and cur.offset >= cur.folder.log_size()
        return Batch(logs, statuses, cur, done, lines)

    def _read_state(self, cur: Cursor) -> list[StatusEvent]:
        """Status events when ``state.json`` changed (its mtime and size say so)."""
        try:
            st = cur.folder.state_file.stat()
        except FileNotFoundError:
            return []
        signature = (st.st_mtime_ns, st.st_size)
        if signature == cur.state_signature:
            return []
        cur.state_signature = signature
        return self._status_events(cur.folder.state_dict(), cur)

    @staticmethod
    def _status_events(data: dict[str, Any], cur: Cursor) -> list[StatusEvent]:
        if not data:
            return []
        state = JobState.from_dict(data)
        key = (state.status, state.secondary_status, state.failure_reason,
               state.model_artifacts)
        if key == cur.last:
            return []
        cur.last = key
        event = StatusEvent(state.last_modified or utc_now_iso(), state.status,
                            state.secondary_status, state.message, state.failure_reason)
        cur.terminal = event.terminal
        return [event]

    @staticmethod
    def _read_log(cur: Cursor) -> tuple[int, LogTail]:
        """How many whole lines were written since the cursor, and the last
        :data:`TAIL_LINES` of them, parsed when shown (a line not yet ended waits)."""
        try:
            with open(cur.folder.log_file, "rb") as f:
                end = f.seek(0, os.SEEK_END)
                if end < cur.offset:
                    taken_back(cur, end)
                f.seek(cur.offset)
                data = f.read(READ_LIMIT)
        except FileNotFoundError:
            return 0, LogTail(b"", 0)
        if not data:
            return 0, LogTail(b"", 0)
        cur.offset += len(data)
        data = cur.pending + data
        cut = data.rfind(b"\n") + 1
        cur.pending = data[cut:]
        return LogTail.of(data[:cut], keep=TAIL_LINES)

    def _check_alive(self, ref: JobRef, cur: Cursor) -> list[StatusEvent]:
        """A supervisor gone without a final state fails the job (and what it left
        running is removed), so no job stays InProgress forever."""
        state = cur.folder.read_state()
        if state.terminal or supervisor_running(ref, state):
            return []
        state = cur.folder.read_state()  # it may have just finished
        if state.terminal:
            return []
        self.kill_orphans(ref, state)
        now = utc_now_iso()
        state.status = state.secondary_status = "Failed"
        state.failure_reason = ("InternalError: supervisor lost: the job's supervisor process "
                                f"ended unexpectedly; see {cur.folder.supervisor_errors}")
        state.message, state.ended, state.last_modified = "Training job failed", now, now
        cur.folder.write_state(state)
        return self._status_events(state.to_dict(), cur)

    def release(self, cursor: Any) -> None:
        """Nothing is held open while a supervised job is followed."""

    # ---- control ---------------------------------------------------------------------------
    def stop(self, ref: JobRef) -> None:
        """The request first, then SIGTERM once the supervisor takes it (a supervisor still
        starting up reads the request instead: a signal then would kill it).  Only a process
        with the identity recorded beside its PID is signalled: never a stranger that was
        given the number since."""
        folder = JobDir(ref.directory)
        folder.stop_request.touch(mode=0o600)
        state = folder.read_state()
        if state.terminal:
            return
        if not processes.signal_process(state.supervisor_pid,
                                        state.extra.get(SUPERVISOR_IDENTITY), signal.SIGTERM):
            processes.signal_group(state.pid, state.extra.get(SCRIPT_IDENTITY), signal.SIGTERM)

    def describe(self, ref: JobRef) -> dict[str, Any]:
        return JobDir(ref.directory).state_dict()


class FollowsSupervisedFolder:
    """The following half of the ``Backend`` Protocol for a backend whose jobs a
    supervisor runs: each call is its ``follower``'s (no hooks call back into the
    backend; what differs was handed to the follower when it was made)."""

    follower: SupervisedFolder

    def attach(self, name: str, directory: Path) -> JobRef:
        return self.follower.attach(name, directory)

    def poll(self, ref: JobRef, cursor: Any) -> Batch:
        return self.follower.poll(ref, cursor)

    def stop(self, ref: JobRef) -> None:
        self.follower.stop(ref)

    def describe(self, ref: JobRef) -> dict[str, Any]:
        return self.follower.describe(ref)

    def release(self, cursor: Any) -> None:
        self.follower.release(cursor)
