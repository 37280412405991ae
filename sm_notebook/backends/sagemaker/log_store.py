"""One writer per SageMaker job's log, and the log with its positions as one step.

Two followers of one job (two kernels, or two handles in one) would each append every
CloudWatch line to ``job.log``, and a follower that died between appending lines and
saving where its streams were read to would have the next one read those lines again.
So:

- only the follower holding ``follow.lock`` in the job folder reads CloudWatch and
  writes; the others read what it writes, and take over when it goes.  The lock is an
  exclusive ``flock``: the OS releases it with the process, so it is never stale;
- ``positions.json`` records the length of the log it matches (``log_bytes``), written
  after the lines.  Lines past that length (a crash between the two) are kept, and
  remembered in the positions until the reads bring them again, which then neither
  write nor show them twice.  The log is never cut: the metric parser beside the job and
  the other followers read it by byte offset.

These are job-folder helpers, kept here while sagemaker mode is their only user.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ...events import LogEvent
from ...jobdir import JobDir, parse_records, read_json, write_json

LOCK_FILE = "follow.lock"
POSITIONS_FILE = "positions.json"  # where each stream was read to, and the log it matches
LOG_BYTES = "log_bytes"
ON_DISK = "on_disk_unread"  # lines past log_bytes that no read has brought again yet


class WriterLock:
    """The job folder's writer lock, taken without waiting.  Each instance opens the lock
    file on its own, so two handles in one process exclude each other too."""

    def __init__(self, directory: Path):
        self.path = Path(directory) / LOCK_FILE
        self._file: IO[bytes] | None = None  # closed (and so released) if dropped
        self.held = False

    def take(self, wait: float = 0.0) -> bool:
        """Whether this follower is the writer now, trying for up to ``wait`` seconds."""
        if self.held:
            return True
        if self._file is None:  # held open for the lock's life; not inherited by children
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
            self._file = os.fdopen(os.open(self.path, flags, 0o600), "ab")
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.02)
                continue
            self.held = True
            return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file, self.held = None, False


@dataclass
class Resumed:
    """What a writer starts from: the saved positions, the log lines this follower has
    not shown yet, and the lines on disk that the reads will bring again."""

    positions: dict[str, Any]
    replay: list[LogEvent] = field(default_factory=list)
    on_disk: Counter[LogEvent] = field(default_factory=Counter)


class SavedLog:
    """``job.log`` and the positions it matches; used by the writer only."""

    def __init__(self, directory: Path):
        self.folder = JobDir(directory)
        self.positions_file = self.folder.path / POSITIONS_FILE

    def resume(self, shown: int) -> Resumed:
        """Where the saved positions leave off.  ``shown``: the bytes of the log this
        follower has handed out already (0 for a new handle)."""
        positions = read_json(self.positions_file)
        size = self.folder.log_size()
        if positions and LOG_BYTES not in positions:  # an older release's: all covered
            covered = size
        else:  # no positions yet: every stream is read from its start again
            covered = min(size, int(positions.pop(LOG_BYTES, 0)))
        on_disk = Counter(LogEvent(*fields) for fields in positions.pop(ON_DISK, []))
        start = min(shown, covered)
        try:
            with open(self.folder.log_file, "rb") as f:
                f.seek(start)
                data = f.read()
        except FileNotFoundError:
            data = b""
        on_disk.update(parse_records(data[covered - start:]))
        return Resumed(positions, parse_records(data[max(0, shown - start):]), on_disk)

    def save(self, events: list[LogEvent], positions: dict[str, Any],
             on_disk: Counter[LogEvent]) -> None:
        """Append the lines, then the positions with the log's new length: a crash
        between the two leaves positions that cover less, and the next resume knows."""
        if events:
            self.folder.append_log(events)
        write_json(self.positions_file, {**positions, LOG_BYTES: self.folder.log_size(),
                                         ON_DISK: [list(e) for e in on_disk.elements()]})


def take(on_disk: Counter[LogEvent], event: LogEvent) -> bool:
    """Whether ``event`` is one of the lines already on disk (now one fewer is)."""
    if on_disk[event] <= 0:
        return False
    on_disk[event] -= 1
    if not on_disk[event]:
        del on_disk[event]
    return True
