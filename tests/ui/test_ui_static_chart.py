"""The final chart is a small inline SVG that any notebook viewer shows."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sm_notebook.metrics import MetricPoint
from sm_notebook.ui.series import traces
from sm_notebook.ui.static_chart import svg

NS = "{http://www.w3.org/2000/svg}"


def test_one_line_and_one_legend_entry_per_trace_in_well_formed_svg():
    points = [MetricPoint(float(i), "algo-1", "loss", 1 / (i + 1), i) for i in range(50)]
    points += [MetricPoint(float(i), "algo-1", "acc<&>", i / 50, i) for i in range(50)]
    chart = svg(traces(points))
    root = ET.fromstring(chart)  # well formed, names escaped
    assert len(root.findall(f"{NS}polyline")) == 2
    legend = [t.text for t in root.findall(f"{NS}text")]
    assert "acc<&> (algo-1): 0 … 0.98 (last 0.98, 50 points)" in legend
    assert any(text.startswith("step 0 … 49") for text in legend)
    assert len(chart) < 20_000


def test_nothing_to_draw_is_no_chart():
    assert svg([]) == ""


def test_a_flat_metric_is_drawn_without_dividing_by_zero():
    root = ET.fromstring(svg(traces([MetricPoint(0.0, "algo-1", "lr", 3e-4, None),
                                     MetricPoint(5.0, "algo-1", "lr", 3e-4, None)])))
    (line,) = root.findall(f"{NS}polyline")
    assert len(line.get("points").split()) == 2
