"""Metric definitions applied to log lines, in the kernel.

Metrics are parsed from log lines with SageMaker-style ``MetricDefinitions`` (the first
capture group is the value), so every emitted value is kept, not CloudWatch's one-minute
averages.  The semantics (built-in definitions, the prefilter, steps) live in
``runtime/metric_rules.py``, which the job folder's parser beside the job uses too; a job
reads its points from the folder (``jobdir.METRIC_POINTS_FILE``), so no user pattern runs
in the kernel while a job is followed.
"""

from __future__ import annotations

from collections.abc import Sequence

from .clock import iso_to_epoch
from .events import LogEvent, gc_paused
from .runtime.line_search import required_literal
from .runtime.metric_rules import (
    DEFAULT_METRICS,
    MetricPoint,
    Rules,
    step_of,
)


class MetricParser:
    """Apply metric definitions to log lines (``DEFAULT_METRICS`` when none are given)."""

    def __init__(self, definitions: Sequence[tuple[str, str]] | None = None):
        self.rules = Rules(definitions)
        self.definitions = self.rules.definitions

    def parse(self, message: str) -> list[tuple[str, float]]:
        """``[(metric, value), ...]`` found on one line, in definition order."""
        return [(self.rules.names[index], value) for _, index, value, _ in self._hits([message])]

    def points(self, events: Sequence[LogEvent]) -> list[MetricPoint]:
        """Every metric value on these lines, in line order then definition order."""
        with gc_paused():
            hits = self._hits([ev.message for ev in events])
            out = []
            last_time, epoch, last_line, step = None, 0.0, -1, None
            for line, index, value, _ in hits:
                ev = events[line]
                if ev.time != last_time:  # a batch of lines shares one timestamp
                    last_time, epoch = ev.time, iso_to_epoch(ev.time)
                if line != last_line:
                    last_line, step = line, step_of(ev.message)
                out.append(MetricPoint(epoch, ev.host, self.rules.names[index], value, step))
            return out

    def _hits(self, messages: list[str]):
        return self.rules.hits(messages)


__all__ = ["DEFAULT_METRICS", "MetricParser", "MetricPoint", "required_literal", "step_of"]
