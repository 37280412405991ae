"""``job.metrics()``: long with the chart's step, or wide with a column per metric."""

from __future__ import annotations

import math

from sm_notebook.metricframe import metric_frame
from sm_notebook.runtime.metric_rules import MetricPoint

T = 1_800_000_000.0
STEPPED = [MetricPoint(T, "algo-1", "train_loss", 0.5, 1.0),
           MetricPoint(T, "algo-1", "val_loss", 0.7, 1.0),
           MetricPoint(T + 1, "algo-1", "train_loss", 0.25, 2.0),
           MetricPoint(T + 2, "algo-1", "train_loss", 0.2, 2.0),  # step 2 again: the last wins
           MetricPoint(T + 2, "algo-1", "val_loss", 0.4, 2.0)]


def test_the_long_frame_has_the_step_the_chart_plots_by_as_integers():
    frame = metric_frame(STEPPED)
    assert list(frame.columns) == ["timestamp", "host", "metric", "value", "step"]
    assert str(frame["step"].dtype) == "Int64" and frame["step"].tolist() == [1, 1, 2, 2, 2]
    assert str(frame["timestamp"].dt.tz) == "UTC"


def test_the_wide_frame_has_a_column_per_metric_indexed_by_step():
    wide = metric_frame(STEPPED, wide=True)
    assert wide.index.name == "step" and list(wide.index) == [1, 2]
    assert list(wide.columns) == ["train_loss", "val_loss"]  # as the metrics first appear
    assert wide.loc[2, "train_loss"] == 0.2 and wide.loc[1, "val_loss"] == 0.7
    assert (wide["val_loss"] - wide["train_loss"]).round(2).tolist() == [0.2, 0.2]


def test_without_a_step_on_every_line_the_step_is_empty_and_wide_is_by_time():
    points = [*STEPPED, MetricPoint(T + 3, "algo-2", "train_loss", 0.3, None)]
    frame = metric_frame(points)
    assert frame["step"].isna().all() and frame["step"].dtype == "float64"
    wide = metric_frame(points, wide=True)
    assert wide.index.name == "timestamp"
    assert list(wide.columns) == ["train_loss (algo-1)", "val_loss (algo-1)",
                                  "train_loss (algo-2)"]  # several hosts: each named
    assert math.isnan(wide["train_loss (algo-2)"].iloc[0])


def test_fractional_steps_stay_floats_and_no_points_give_empty_frames():
    frame = metric_frame([MetricPoint(T, "algo-1", "loss", 1.0, 0.5)])
    assert frame["step"].tolist() == [0.5]
    assert list(metric_frame([]).columns) == ["timestamp", "host", "metric", "value", "step"]
    assert metric_frame([], wide=True).empty
