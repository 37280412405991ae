"""What the charts show, decided once (chart_model) and drawn by plotly and matplotlib."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import pytest

from sm_notebook.runtime.metric_rules import MetricPoint
from sm_notebook.ui import plotly_figure, static_figure
from sm_notebook.ui.chart_model import better, chart, smoothed, split_role
from sm_notebook.ui.series import traces

SVG = "{http://www.w3.org/2000/svg}"


def points(*series: tuple[str, str, list[float]]) -> list[MetricPoint]:
    return [MetricPoint(float(step), host, metric, value, float(step))
            for metric, host, values in series for step, value in enumerate(values)]


@pytest.mark.parametrize(("metric", "split"), [
    ("val_loss", ("loss", "validation")), ("train_loss", ("loss", "train")),
    ("validation:rmse", ("rmse", "validation")), ("train:rmse", ("rmse", "train")),
    ("loss_val", ("loss", "validation")), ("test-acc", ("acc", "test")),
    ("eval_loss", ("loss", "validation")), ("loss", ("loss", "")),
    ("interval", ("interval", "")), ("validation", ("validation", "")),
])
def test_a_train_validation_or_test_prefix_or_suffix_is_a_role(metric, split):
    assert split_role(metric) == split


def test_train_and_validation_metrics_share_a_subplot_named_after_what_they_share():
    model = chart(traces(points(("train_loss", "algo-1", [0.5, 0.0996]),
                                ("val_loss", "algo-1", [0.6, 0.2353]),
                                ("lr", "algo-1", [3e-4, 3e-4]))))
    assert [(p.title, p.metrics) for p in model.panels] == [
        ("loss", ["train_loss", "val_loss"]), ("lr", ["lr"])]
    loss = model.panels[0]
    # the overfitting gap shows: both on one y axis, told apart by dash, titled with values
    assert [(line.name, line.dash) for line in loss.lines] == [("train_loss", "solid"),
                                                             ("val_loss", "dash")]
    assert loss.heading == "loss: train_loss 0.0996 (best 0.0996) · val_loss 0.2353 (best 0.2353)"
    assert model.panels[1].heading == "lr: 0.0003"  # no better way for a learning rate
    assert model.legend_note == ""


def test_colour_is_the_host_and_hosts_are_named_only_when_there_are_several():
    model = chart(traces(points(("loss", "algo-1", [1.0, 0.5]), ("loss", "algo-2", [1.1, 0.6]))))
    (panel,) = model.panels
    assert [line.name for line in panel.lines] == ["loss (algo-1)", "loss (algo-2)"]
    assert panel.lines[0].colour != panel.lines[1].colour
    assert {line.dash for line in panel.lines} == {"solid"}  # one metric: one dash
    assert model.legend_note == "colour: host · dash: metric"


def test_best_is_the_lowest_loss_and_the_highest_accuracy():
    assert (better("val_loss"), better("train:rmse"), better("accuracy"), better("f1_score"),
            better("lr")) == ("min", "min", "max", "max", None)
    model = chart(traces(points(("accuracy", "algo-1", [0.5, 0.9, 0.8]),
                                ("loss", "algo-1", [1.0, 0.2, 0.3]))))
    assert [p.heading for p in model.panels] == ["accuracy: 0.8 (best 0.9)",
                                                 "loss: 0.3 (best 0.2)"]


def test_smoothing_is_tensorboards_debiased_moving_average():
    assert smoothed([1.0, 1.0, 1.0]) == pytest.approx([1.0, 1.0, 1.0])  # no pull towards 0
    two = smoothed([0.0, 1.0])
    assert two[0] == 0.0 and two[1] == pytest.approx(0.4 / 0.64)
    gap = smoothed([1.0, float("nan"), 1.0])
    assert math.isnan(gap[1]) and gap[2] == pytest.approx(1.0)  # a gap stays a gap
    assert smoothed([2.0, 4.0], weight=0.0) == [2.0, 4.0]


def test_the_plotly_figure_stacks_subplots_over_one_zoom_with_ticks_under_the_last():
    model = chart(traces(points(("accuracy", "algo-1", [0.5, 0.9]),
                                ("loss", "algo-1", [1.0, 0.2]))))
    spec = plotly_figure.figure(model)
    layout = spec["layout"]
    assert (layout["xaxis"]["showticklabels"], layout["xaxis2"]["showticklabels"]) == (False, True)
    assert layout["xaxis2"]["matches"] == "x" and layout["xaxis2"]["title"]["text"] == "step"
    top, bottom = layout["yaxis"]["domain"], layout["yaxis2"]["domain"]
    assert bottom[1] < top[0]  # stacked, with room for the lower title between
    assert "width" not in layout and layout["autosize"] and layout["hovermode"] == "x unified"
    assert [t["name"] for t in spec["data"]] == ["accuracy", "accuracy (smoothed)", "loss",
                                                 "loss (smoothed)"]
    scale, smoothing = layout["updatemenus"]
    assert scale["buttons"][1]["args"] == [{"yaxis.type": "log", "yaxis2.type": "log"}]
    on = smoothing["buttons"][1]["args"][0]
    assert on["visible"] == [True, True, True, True] and on["opacity"][0] < 1
    json.dumps(spec)  # plain JSON: the saved output needs nothing else


def test_a_dark_figure_uses_plotlys_dark_template_on_a_transparent_background():
    model = chart(traces(points(("loss", "algo-1", [1.0, 0.2]))))
    light, dark = plotly_figure.layout(model), plotly_figure.layout(model, dark=True)
    assert light["template"] == "plotly_white" and "paper_bgcolor" not in light
    assert dark["template"] == "plotly_dark" and dark["paper_bgcolor"] == "rgba(0,0,0,0)"


def test_the_static_chart_is_matplotlibs_svg_with_real_axes_and_the_same_titles():
    model = chart(traces(points(("train_loss", "algo-1", [0.5, 0.0996]),
                                ("val_loss", "algo-1", [0.6, 0.2353]))))
    drawn = static_figure.svg(model)
    root = ET.fromstring(drawn)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert model.panels[0].heading in texts  # text kept as text
    assert "step" in texts and "0.2" in " ".join(t for t in texts if t)  # ticks
    assert "train_loss" in texts and "val_loss" in texts  # the legend
    assert len(drawn) < 60_000
    assert static_figure.svg(chart([])) == ""
