"""Processes by identity, not by number (standard library only, Linux's ``/proc``).

A PID stored in a job folder outlives its process: after a reboot or once the number is
reused it names some unrelated process.  So every PID is stored with its identity (the
boot it belongs to and the process's start time, field 22 of ``/proc/PID/stat``), and
nothing is signalled unless the process there now has that identity.  The local
supervisor also ends whatever its script left running (detached children included: it
is their subreaper), as the service does when the instance goes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import NamedTuple

# state.json's keys for the identities beside ``supervisor_pid`` and ``pid``
SUPERVISOR_IDENTITY = "supervisor_identity"
SCRIPT_IDENTITY = "pid_identity"
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
_START_FIELD = 22 - 3  # field 22 of /proc/PID/stat, counted after "pid (comm)"


class Process(NamedTuple):
    """One line of the process table, as much of it as ending a job's processes needs (a
    named tuple: the supervisor imports no dataclasses before the script starts)."""

    pid: int
    ppid: int
    group: int
    session: int
    zombie: bool
    identity: str
    command: str


def _boot_id() -> str:
    try:
        return _BOOT_ID.read_text().strip()
    except OSError:
        return "unknown-boot"


def _read(pid: int, boot: str | None = None) -> Process | None:
    """``/proc/PID/stat`` read (None: no such process, or no ``/proc``)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    comm_start, comm_end = stat.find("("), stat.rfind(")")
    fields = stat[comm_end + 1:].split()
    try:
        return Process(pid, int(fields[1]), int(fields[2]), int(fields[3]), fields[0] == "Z",
                       f"{boot or _boot_id()}:{fields[_START_FIELD]}",
                       stat[comm_start + 1:comm_end])
    except (IndexError, ValueError):
        return None


def identity(pid: int) -> str | None:
    """What tells process ``pid`` from a later one given the same number."""
    process = _read(pid)
    return process.identity if process else None


def running(pid: int | None, recorded: str | None) -> bool:
    """Whether ``pid`` still runs and is the process recorded as ``recorded`` (a PID with
    no recorded identity cannot be told from a stranger's, so it is not ours)."""
    if not pid or not recorded:
        return False
    process = _read(pid)
    return process is not None and not process.zombie and process.identity == recorded


def signal_process(pid: int | None, recorded: str | None, sig: int) -> bool:
    """Send ``sig`` to ``pid`` only if it is the recorded process; whether it was sent.

    Through a pidfd where there is one: the identity is checked after the pidfd is
    opened, so the signal cannot reach a process that took the number in between."""
    if not running(pid, recorded):
        return False
    assert pid is not None
    try:
        if hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal"):
            fd = os.pidfd_open(pid)
            try:
                if not running(pid, recorded):
                    return False
                signal.pidfd_send_signal(fd, sig)
            finally:
                os.close(fd)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def signal_group(leader: int | None, recorded: str | None, sig: int) -> bool:
    """Send ``sig`` to the process group of ``leader`` only if the leader still runs and is
    the recorded process; whether it was sent."""
    if not running(leader, recorded):
        return False
    assert leader is not None
    try:
        os.killpg(leader, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def become_subreaper() -> bool:
    """Orphaned descendants (a daemon's double fork, ``setsid``) become this process's
    children rather than init's, so they can be found when the job ends."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def table() -> dict[int, Process]:
    """Every process this machine's ``/proc`` shows."""
    boot, found = _boot_id(), {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                process = _read(int(entry.name), boot)
                if process is not None:
                    found[process.pid] = process
    return found


def left_running(root: int, script: int) -> list[Process]:
    """The live processes a job left: descendants of ``root`` (the supervisor) and any
    member of the script's session or process group (``script`` led both)."""
    processes = table()
    children: dict[int, list[int]] = {}
    for p in processes.values():
        children.setdefault(p.ppid, []).append(p.pid)
    found, todo = set(), list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children.get(pid, [])
    found |= {p.pid for p in processes.values() if script in (p.session, p.group)}
    found.discard(root)
    return [processes[pid] for pid in sorted(found) if not processes[pid].zombie]


def reap_children() -> None:
    """Collect every child of this process that has exited (orphans it adopted)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def end_left_running(root: int, script: int, grace: float) -> list[Process]:
    """End what the job left running: SIGTERM, then SIGKILL after ``grace`` seconds for
    what remains.  Returns the processes that had to be ended."""
    ended = left_running(root, script)
    terminate([(p.pid, p.identity) for p in ended], grace)
    return ended


def terminate(targets: list[tuple[int, str | None]], grace: float,
              reap_all: bool = True) -> None:
    """SIGTERM each ``(pid, identity)`` that is still the recorded process, then SIGKILL
    what remains after ``grace`` seconds.  ``reap_all``: collect every exited child (a
    supervisor's orphans); else only the targets (a kernel's other children keep their
    exit statuses for their own ``Popen``)."""
    def reap() -> None:
        if reap_all:
            reap_children()
            return
        for pid, _ in targets:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)

    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        remaining = [t for t in targets if running(*t)]
        for pid, identity in remaining:
            signal_process(pid, identity, sig)
        deadline = time.monotonic() + wait
        while remaining and time.monotonic() < deadline:
            time.sleep(0.02)
            reap()
            remaining = [t for t in remaining if running(*t)]
    reap()


def described(processes: list[Process], shown: int = 5) -> str:
    """``1234 (sleep), 1240 (python3)``: a few of them, and how many more."""
    words = [f"{p.pid} ({p.command})" for p in processes[:shown]]
    more = len(processes) - shown
    return ", ".join(words) + (f" and {more} more" if more > 0 else "")
