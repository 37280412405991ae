"""``job.metrics()``: the metric points as a DataFrame, long or wide.

Long: one row per value, ``timestamp, host, metric, value, step``; ``step`` is the x the
dashboard's chart plots by (the step or epoch logged on the metric's line), empty where
the chart plots by time because some line carries no step.  Wide: one column per metric
(``metric (host)`` where there are several hosts), indexed by step (or by the timestamp
where there are no steps); a step logged twice keeps its last value, as the chart does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .runtime.metric_rules import MetricPoint

if TYPE_CHECKING:
    import pandas as pd


def metric_frame(points: Sequence[MetricPoint], wide: bool = False) -> pd.DataFrame:
    import pandas as pd

    by_step = bool(points) and all(p.step is not None for p in points)
    frame = pd.DataFrame({
        "timestamp": pd.to_datetime([p.timestamp for p in points], unit="s",
                                    utc=True).round("us"),  # as written, no float noise
        "host": [p.host for p in points],
        "metric": [p.metric for p in points],
        "value": pd.Series([p.value for p in points], dtype="float64"),
        "step": pd.Series([p.step if by_step else None for p in points], dtype="float64")})
    if by_step and frame["step"].mod(1).eq(0).all():
        frame["step"] = frame["step"].astype("Int64")
    return _wide(frame, by_step) if wide else frame


def _wide(frame: pd.DataFrame, by_step: bool) -> pd.DataFrame:
    column = frame["metric"]
    if frame["host"].nunique() > 1:
        column = column + " (" + frame["host"] + ")"
    index = "step" if by_step else "timestamp"
    table = (frame.assign(column=column)
             .pivot_table(index=index, columns="column", values="value", aggfunc="last",
                          sort=True))
    table.columns.name = None
    order = list(dict.fromkeys(column))  # the metrics as they first appear
    return table[[c for c in order if c in table.columns]]
