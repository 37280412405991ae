"""How far a script has got, read from its log as tqdm.notebook would show it (pure).

A script that prints ``epoch 3/10``, ``step 13 of 80`` or ``Epoch [3/10]``, or runs a
tqdm bar (``45%|████▌     | 45/100 [00:02<00:03, 18.5it/s]``), gets a progress bar in
the dashboard's header.  The newest line that says so gives the count; the rate and the
time left are tqdm's own where it prints them, else measured from the oldest line of
the same count in the window (same host, same total) to the newest.  Stateless: the live
header and the saved snapshot read the same lines and agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..clock import iso_to_epoch

if TYPE_CHECKING:
    from ..events import LogEvent

SEARCHED_CHARS = 4_000  # of a line: counters sit at its start, and a regex stays cheap
_COUNTER = re.compile(r"\b(epoch|step|iteration|iter|batch)s?\b\W{0,3}?(\d+)\s*(?:/|of)\s*"
                      r"(\d+)\b", re.IGNORECASE)
_TQDM = re.compile(r"(\d{1,3})%\|[^|\n]{0,200}\|\s*(\d+(?:\.\d+)?)([kMG]?)/"
                   r"(\d+(?:\.\d+)?)([kMG]?)\s*\[([\d:]+)<([\d:?]+)"
                   r"(?:,\s*([\d.]+|\?)\s*([^\s/\]]+)/([^\s,\]]+))?")
_SCALE = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}
_UNITS = {"iteration": "iter"}


@dataclass(frozen=True)
class Progress:
    unit: str  # epoch, step, iter, batch, or tqdm's unit (it)
    done: float
    total: float
    rate: float | None = None  # units a second
    left: float | None = None  # seconds to go

    @property
    def fraction(self) -> float:
        return max(0.0, min(1.0, self.done / self.total)) if self.total > 0 else 0.0

    def text(self) -> str:
        """``epoch 3/10 · 0.52 epoch/s · 13 s left``."""
        parts = [f"{self.unit} {_number(self.done)}/{_number(self.total)}"]
        if self.rate:
            parts.append(f"{self.rate:.3g} {self.unit}/s" if self.rate >= 1
                         else f"{1 / self.rate:.3g} s/{self.unit}")
        if self.left is not None and self.done < self.total:
            from .text import compact_duration

            parts.append(f"{compact_duration(self.left)} left")
        return " · ".join(parts)


def progress(lines: Sequence[LogEvent]) -> list[Progress]:
    """The progress the newest line that reports one reports (an epoch counter and a
    step counter on one line give two), with rate and time left where known."""
    for newest in range(len(lines) - 1, -1, -1):
        event = lines[newest]
        found = _tqdm(event.message) or _counters(event.message)
        if found:
            return [p if p.rate is not None else _measured(p, lines, newest) for p in found]
    return []


def _counters(message: str) -> list[Progress]:
    if "/" not in message and " of " not in message.lower():
        return []
    out: dict[str, Progress] = {}
    for m in _COUNTER.finditer(message[:SEARCHED_CHARS]):
        unit = m.group(1).lower()
        unit = _UNITS.get(unit, unit)
        done, total = int(m.group(2)), int(m.group(3))
        if total > 0 and done <= total and unit not in out:
            out[unit] = Progress(unit, done, total)
    return list(out.values())


def _tqdm(message: str) -> list[Progress]:
    if "%|" not in message:
        return []
    m = _TQDM.search(message[:SEARCHED_CHARS])
    if m is None:
        return []
    done = float(m.group(2)) * _SCALE[m.group(3)]
    total = float(m.group(4)) * _SCALE[m.group(5)]
    rate, unit = None, "it"
    if m.group(8) and m.group(8) != "?":
        value = float(m.group(8))
        if m.group(9) == "s" and value > 0:  # "1.23s/it": slower than one a second
            rate, unit = 1 / value, m.group(10)
        else:
            rate, unit = value, m.group(9)
    return [Progress(unit, done, total, rate, _seconds(m.group(7)))] if total > 0 else []


def _measured(current: Progress, lines: Sequence[LogEvent], newest: int) -> Progress:
    """The rate from the oldest line of the same count (host, unit, total) in the window."""
    host, end = lines[newest].host, iso_to_epoch(lines[newest].time)
    for event in lines[:newest]:
        if event.host != host:
            continue
        first = next((p for p in _counters(event.message)
                      if p.unit == current.unit and p.total == current.total), None)
        if first is None:
            continue
        seconds, moved = end - iso_to_epoch(event.time), current.done - first.done
        if seconds <= 0 or moved <= 0:
            return current
        rate = moved / seconds
        return Progress(current.unit, current.done, current.total, rate,
                        (current.total - current.done) / rate)
    return current


def _seconds(clock: str) -> float | None:
    """``01:02:03`` or ``02:03`` → seconds (``?``: None)."""
    if "?" in clock:
        return None
    total = 0.0
    for part in clock.split(":"):
        total = total * 60 + int(part)
    return total


def _number(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.3g}"
