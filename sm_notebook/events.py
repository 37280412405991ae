"""What flows from a backend to a job: log lines and status changes."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

TERMINAL = frozenset({"Completed", "Failed", "Stopped"})


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around bulk parsing.

    Parsing a batch makes a few hundred thousand small tuples and no reference cycles,
    yet each allocation burst triggers collections that walk every live object: pausing
    the collector for the batch makes ingestion two to three times faster.  It is only
    re-enabled if it was enabled on entry.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class LogEvent(NamedTuple):
    """One line of output; ``time`` is ISO-8601 UTC (parsed only when needed).

    A named tuple, not a dataclass: hundreds of thousands are made per second."""

    time: str
    host: str
    message: str
    stream: str = "stdout"

    def to_record(self) -> str:
        """The line's form in the job's log file (``time\\thost\\tstream\\tmessage\\n``).

        The file is read back line by line, so a message holding line breaks becomes one
        record per line (same time, host and stream) rather than a record whose tail is
        lost; tabs and backslashes are kept as they are."""
        head = f"{self.time}\t{self.host}\t{self.stream}\t"
        if "\n" not in self.message:
            return f"{head}{self.message}\n"
        return "".join(f"{head}{line}\n" for line in _LINE_BREAK.split(self.message))

    @classmethod
    def from_record(cls, record: str) -> LogEvent:
        """One record (one line of the log file, with or without its newline)."""
        text = record[:-1] if record.endswith("\n") else record
        time, host, stream, message = text.split("\t", 3)
        return cls(time, host, message, stream)


_LINE_BREAK = re.compile(r"\r?\n")


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A status change in SageMaker's vocabulary (``InProgress``/``Training``/...)."""

    time: str
    status: str
    secondary_status: str
    message: str = ""
    failure_reason: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL
