"""Chart traces: one per metric and host, by step when the script logs one, and never
longer than the bound however long the job."""

from __future__ import annotations

from sm_notebook.metrics import MetricPoint
from sm_notebook.ui.series import decimate, traces


def test_one_trace_per_metric_and_host_by_step_when_every_point_has_one():
    points = [MetricPoint(100.0, "algo-1", "loss", 0.9, 1),
              MetricPoint(101.0, "algo-2", "loss", 0.8, 1),
              MetricPoint(102.0, "algo-1", "loss", 0.5, 2),
              MetricPoint(103.0, "algo-1", "accuracy", 0.7, 2)]
    out = traces(points)
    assert [(t.name, t.x, t.y, t.by_step) for t in out] == [
        ("accuracy (algo-1)", [2], [0.7], True),
        ("loss (algo-1)", [1, 2], [0.9, 0.5], True),
        ("loss (algo-2)", [1], [0.8], True)]


def test_a_point_without_step_puts_every_trace_on_seconds_so_they_line_up():
    points = [MetricPoint(100.0, "algo-1", "loss", 0.9, 1),
              MetricPoint(103.0, "algo-1", "throughput", 950.0, None)]
    assert [(t.x, t.by_step) for t in traces(points)] == [([0.0], False), ([3.0], False)]


def test_a_long_series_is_cut_to_the_bound_keeping_ends_and_spikes():
    xs = list(range(100_000))
    ys = [1.0] * 100_000
    ys[31_337] = 50.0  # one spike
    ys[77_777] = -5.0  # one dip
    x, y = decimate(xs, ys, 400)
    assert len(x) <= 400
    assert (x[0], x[-1]) == (0, 99_999)
    assert 50.0 in y and -5.0 in y
    assert x == sorted(x)


def test_short_series_and_tiny_bounds():
    assert decimate([1, 2, 3], [4, 5, 6], 10) == ([1, 2, 3], [4, 5, 6])
    assert decimate([1, 2, 3], [4, 5, 6], 2) == ([1, 3], [4, 6])
    assert decimate([1, 2, 3], [4, 5, 6], 1) == ([3], [6])


def test_the_trace_remembers_how_many_points_it_stands_for():
    points = [MetricPoint(float(i), "algo-1", "loss", 1 / (i + 1), i) for i in range(5_000)]
    (trace,) = traces(points, max_points=100)
    assert trace.total == 5_000 and len(trace.x) <= 100


def test_points_added_as_they_come_stay_within_twice_the_bound_and_keep_the_spike():
    from sm_notebook.ui.series import SeriesBuffer

    buffer = SeriesBuffer(max_points=100)
    for start in range(0, 50_000, 1_000):
        buffer.add(MetricPoint(float(i), "algo-1", "loss", 99.0 if i == 12_345 else 1.0, i)
                   for i in range(start, start + 1_000))
        assert len(buffer.kept["loss", "algo-1"].values) <= 200
    (trace,) = buffer.traces()
    assert len(trace.x) <= 100 and trace.total == 50_000
    assert 99.0 in trace.y and (trace.x[0], trace.x[-1]) == (0, 49_999)
