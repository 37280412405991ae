"""Metric points → chart traces of bounded size (pure: no plotly, no widgets).

One trace per metric and host.  Their x is the step when the script logs one on every line
that carries a metric (``epoch 3 ... loss=0.2``), else seconds since the first point: one
x for all traces, so they line up.

A dashboard flush must cost the same after a million points as after ten.  So points are
added as they come, and a trace that grows past twice its bound is cut back to the bound:
the range is cut into buckets, each keeping its first, lowest, highest and last point, so
spikes and the ends survive (the M4 scheme of Jugel et al., used by time-series plotters
for the same reason).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..metrics import MetricPoint

DEFAULT_MAX_POINTS = 500


@dataclass
class Trace:
    metric: str
    host: str
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    by_step: bool = True
    total: int = 0  # points before decimation

    @property
    def name(self) -> str:
        return f"{self.metric} ({self.host})"


@dataclass
class _Kept:
    times: list[float] = field(default_factory=list)
    steps: list[float | None] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    total: int = 0


class SeriesBuffer:
    """Points added as they come, kept per trace within twice ``max_points``."""

    def __init__(self, max_points: int = DEFAULT_MAX_POINTS):
        self.max_points = max_points
        self.kept: dict[tuple[str, str], _Kept] = {}
        self.start: float | None = None
        self.by_step = True
        self.version = 0  # moves with every add: a flush can skip an unchanged chart

    def add(self, points: Iterable[MetricPoint]) -> None:
        for point in points:
            kept = self.kept.get((point.metric, point.host))
            if kept is None:
                kept = self.kept[(point.metric, point.host)] = _Kept()
            kept.times.append(point.timestamp)
            kept.steps.append(point.step)
            kept.values.append(point.value)
            kept.total += 1
            self.by_step = self.by_step and point.step is not None
            self.start = point.timestamp if self.start is None else min(self.start,
                                                                        point.timestamp)
            if len(kept.values) > 2 * self.max_points:
                self._compact(kept)
            self.version += 1

    def traces(self) -> list[Trace]:
        """Traces sorted by metric then host, each at most ``max_points`` long."""
        out = []
        for (metric, host), kept in sorted(self.kept.items()):
            xs = kept.steps if self.by_step else [t - (self.start or 0.0) for t in kept.times]
            x, y = decimate(xs, kept.values, self.max_points)
            out.append(Trace(metric, host, x, y, self.by_step, kept.total))
        return out

    def _compact(self, kept: _Kept) -> None:
        picks = pick(kept.values, self.max_points)
        kept.times = [kept.times[i] for i in picks]
        kept.steps = [kept.steps[i] for i in picks]
        kept.values = [kept.values[i] for i in picks]


def traces(points: Iterable[MetricPoint], max_points: int = DEFAULT_MAX_POINTS
           ) -> list[Trace]:
    """Traces of these points, each at most ``max_points`` long."""
    buffer = SeriesBuffer(max_points)
    buffer.add(points)
    return buffer.traces()


def decimate(xs: Sequence[float], ys: Sequence[float], max_points: int
             ) -> tuple[list[float], list[float]]:
    """At most ``max_points`` of the points, in order (see ``pick``)."""
    picks = pick(ys, max_points)
    return [xs[i] for i in picks], [ys[i] for i in picks]


def pick(ys: Sequence[float], max_points: int) -> list[int]:
    """Indices of at most ``max_points`` points, in order: per bucket, the first, lowest,
    highest and last (each once); all of them when they fit."""
    n = len(ys)
    if n <= max_points:
        return list(range(n))
    if max_points < 4:
        return sorted({0, n - 1}) if max_points >= 2 else [n - 1]
    buckets = max_points // 4
    picks: list[int] = []
    for b in range(buckets):
        lo, hi = n * b // buckets, n * (b + 1) // buckets
        if lo >= hi:
            continue
        chunk = range(lo, hi)
        low = min(chunk, key=ys.__getitem__)
        high = max(chunk, key=ys.__getitem__)
        picks += sorted({lo, low, high, hi - 1})
    return picks
