"""Metric points → chart traces of bounded size (pure: no plotly, no widgets).

One trace per metric and host.  Its x is the step when the script logs one on every line
that carries the metric (``epoch 3 ... loss=0.2``), else seconds since the first point.
A dashboard flush must cost the same after a million points as after ten, so each trace is
decimated to at most ``max_points``: the x range is cut into buckets and each keeps its
first, lowest, highest and last point, so spikes and the ends survive (the M4 scheme of
Jugel et al., used by time-series plotters for the same reason).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..events import MetricPoint

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


def traces(points: Iterable[MetricPoint], max_points: int = DEFAULT_MAX_POINTS
           ) -> list[Trace]:
    """Traces sorted by metric then host, each at most ``max_points`` long."""
    grouped: dict[tuple[str, str], list[MetricPoint]] = {}
    start = None
    for point in points:
        grouped.setdefault((point.metric, point.host), []).append(point)
        start = point.timestamp if start is None else min(start, point.timestamp)
    out = []
    for (metric, host), group in sorted(grouped.items()):
        by_step = all(p.step is not None for p in group)
        xs = [p.step if by_step else p.timestamp - start for p in group]
        ys = [p.value for p in group]
        x, y = decimate(xs, ys, max_points)
        out.append(Trace(metric, host, x, y, by_step, len(group)))
    return out


def decimate(xs: Sequence[float], ys: Sequence[float], max_points: int
             ) -> tuple[list[float], list[float]]:
    """At most ``max_points`` of the points, in order: per bucket of the x range, the
    first, lowest, highest and last (each once)."""
    n = len(xs)
    if n <= max_points:
        return list(xs), list(ys)
    if max_points < 4:
        picks = sorted({0, n - 1} if max_points >= 2 else {n - 1})
        return [xs[i] for i in picks], [ys[i] for i in picks]
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
    return [xs[i] for i in picks], [ys[i] for i in picks]
