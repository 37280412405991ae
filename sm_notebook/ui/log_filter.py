"""Which log lines the dashboard shows (pure).

A line reads ``[algo-2] step 20 loss=0.1`` on the page, and the filter matches what the
reader sees: the text is searched in the line with its host tag, case-insensitively, as a
plain substring or, with ``regex``, as a regular expression (``step 2\\b`` matches step 2
and not step 20).  Hosts are switched off and on one by one.  A regex that does not
compile filters nothing and says why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..events import LogEvent

#: a regex searches this much of a line: the reader's own pattern runs in the kernel's
#: process, and a long line would let a backtracking one hold it
SEARCHED_CHARS = 2_000


@dataclass(frozen=True)
class LogFilter:
    text: str = ""
    regex: bool = False
    hidden_hosts: frozenset[str] = field(default_factory=frozenset)

    @property
    def error(self) -> str | None:
        """Why the regex does not compile (None: it does, or there is none)."""
        if self.regex and self.text:
            try:
                re.compile(self.text)
            except re.error as exc:
                return f"not a regular expression: {exc}"
        return None

    @property
    def active(self) -> bool:
        return bool(self.hidden_hosts) or (bool(self.text) and self.error is None)

    def apply(self, lines: Sequence[LogEvent]) -> list[LogEvent]:
        if not self.active:
            return list(lines)
        shown = [ev for ev in lines if ev.host not in self.hidden_hosts]
        if not self.text or self.error:
            return shown
        if self.regex:
            pattern = re.compile(self.text, re.IGNORECASE)
            return [ev for ev in shown
                    if pattern.search(f"[{ev.host}] {ev.message[:SEARCHED_CHARS]}")]
        wanted = self.text.lower()
        return [ev for ev in shown if wanted in f"[{ev.host}] {ev.message}".lower()]

    def describe(self) -> str:
        """What is filtered, for the caption: ``“step 2\\b” (regex), without algo-2``."""
        parts = []
        if self.text and not self.error:
            parts.append(f"“{self.text}”" + (" (regex)" if self.regex else ""))
        if self.hidden_hosts:
            parts.append("without " + ", ".join(sorted(self.hidden_hosts)))
        return ", ".join(parts)
