"""The window of a job's last log lines, parsed only when they are shown.

A job that prints a million lines a second would have its follower parse every line it
keeps, at every poll, though nothing shows most of them.  A read of ``job.log`` is kept
as the bytes of its last lines (:class:`LogTail`), and :class:`LogWindow` turns into events
only the lines a renderer asks for, once: the follower's work per poll is a count and a
slice at C speed, whatever the job prints.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence

from .events import LogEvent
from .jobdir import parse_records


class LogTail(Sequence[LogEvent]):
    """Whole ``job.log`` records, parsed on first use (the last ones first)."""

    def __init__(self, data: bytes, count: int | None = None):
        self.data = data
        self.count = data.count(b"\n") if count is None else count
        self._parsed: list[LogEvent] = []  # the last records, parsed
        self._parsed_lines = 0  # how many lines those were
        self._start = len(data)  # where the parsed ones start

    @classmethod
    def of(cls, data: bytes, keep: int) -> tuple[int, LogTail]:
        """How many lines ``data`` (whole records) holds, and its last ``keep`` lines."""
        count = data.count(b"\n")
        if count <= keep:
            return count, cls(data, count)
        start = len(data) - sum(map(len, data.rsplit(b"\n", keep + 1)[1:])) - keep
        return count, cls(data[start:], keep)

    def last(self, n: int) -> list[LogEvent]:
        """The events of the last ``n`` lines (fewer where a line is not a record)."""
        n = min(n, self.count)
        if n > self._parsed_lines:
            start = 0 if n == self.count else (
                len(self.data) - sum(map(len, self.data.rsplit(b"\n", n + 1)[1:])) - n)
            self._parsed = parse_records(self.data[start:self._start]) + self._parsed
            self._start, self._parsed_lines = start, n
        return self._parsed[len(self._parsed) - n:] if n < len(self._parsed) else self._parsed

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):  # type: ignore[override]
        return self.last(self.count)[index]

    def __iter__(self) -> Iterator[LogEvent]:
        return iter(self.last(self.count))


class LogWindow:
    """The last ``size`` lines of a log, as read: events, or tails not parsed yet."""

    def __init__(self, size: int):
        self.size = size
        self._parts: deque[Sequence[LogEvent]] = deque()
        self._lines = 0

    def extend(self, events: Sequence[LogEvent]) -> None:
        if not events:
            return
        last = self._parts[-1] if self._parts else None
        if isinstance(last, list) and not isinstance(events, LogTail) \
                and len(last) < self.size:
            last.extend(events)  # small reads join the one before
        else:
            self._parts.append(events if isinstance(events, LogTail) else list(events))
        self._lines += len(events)
        while self._lines - len(self._parts[0]) >= self.size:
            self._lines -= len(self._parts.popleft())

    def append(self, event: LogEvent) -> None:
        self.extend([event])

    def last(self, n: int | None = None) -> list[LogEvent]:
        """The last ``n`` lines (all the window holds when ``n`` is None)."""
        need = self.size if n is None else min(n, self.size)
        taken: list[list[LogEvent]] = []
        for part in reversed(self._parts):
            if need <= 0:
                break
            events = part.last(need) if isinstance(part, LogTail) else part[-need:]
            taken.append(events)
            need -= min(len(part), need)
        return [event for events in reversed(taken) for event in events]

    def __len__(self) -> int:
        return min(self._lines, self.size)
