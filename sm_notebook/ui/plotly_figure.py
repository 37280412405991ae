"""A :class:`~.chart_model.Chart` as a plotly figure, in plain dicts (pure: no plotly).

The live ``FigureWidget`` and the final ``application/vnd.plotly.v1+json`` output are both
made from :func:`figure`, so the chart a job ends on has the live chart's layout, colours
and controls.  The layout:

- one subplot per panel, stacked, their x axes matched (zoom one, all follow); ticks and
  the x title only under the bottom one;
- each subplot titled with its metrics' last and best values;
- unified hover with full names; the width follows the output (``autosize``);
- two button rows, which work without a kernel: linear / log y, and smoothing off / on
  (TensorBoard's moving average, the raw line kept faint behind it).

Each line is two traces, ``uid`` ``NAME|raw`` and ``NAME|smooth``, grouped in the legend.
"""

from __future__ import annotations

from typing import Any

from .chart_model import SMOOTHING, Chart
from .theme import source_colour

ROW_PX = 170  # plot height of a subplot
GAP_PX = 48  # between subplots: the lower one's title sits there
TOP_PX, BOTTOM_PX = 44, 92  # the first title and the buttons; the x title and legend
FAINT = 0.25  # the raw line's opacity while smoothing is on
#: the buttons' colours in either theme: plotly.js paints the active and hovered button
#: #F4FAFF whatever the template, so their ink is dark in both (13:1 and more)
BUTTON_INK, BUTTON_FACE, BUTTON_EDGE = "#1f2328", "#e6eaef", "#8c959f"
CONFIG = {"responsive": True, "displaylogo": False,
          "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def axis_name(kind: str, row: int) -> str:
    """``xaxis``, ``xaxis2``, ...: the layout key of row ``row`` (from 1)."""
    return f"{kind}axis{row if row > 1 else ''}"


def axis_ref(kind: str, row: int) -> str:
    return f"{kind}{row if row > 1 else ''}"


def height(rows: int) -> int:
    return TOP_PX + BOTTOM_PX + rows * ROW_PX + max(rows - 1, 0) * GAP_PX


def traces(chart: Chart, smoothing: bool = False, dark: bool = False) -> list[dict[str, Any]]:
    """Every line's raw and smoothed trace, in the order of the panels."""
    out = []
    for row, panel in enumerate(chart.panels, 1):
        for line in panel.lines:
            common = {"type": "scatter", "mode": "lines", "legendgroup": line.name,
                      "xaxis": axis_ref("x", row), "yaxis": axis_ref("y", row),
                      "line": {"color": source_colour(line.slot, dark), "dash": line.dash,
                               "width": 1.8},
                      "x": line.x, "hovertemplate": "%{y:.4g}"}
            out.append({**common, "uid": f"{line.name}|raw", "name": line.name,
                        "y": line.y, "opacity": FAINT if smoothing else 1.0})
            out.append({**common, "uid": f"{line.name}|smooth", "name": f"{line.name} (smoothed)",
                        "y": line.smooth_y, "showlegend": False, "visible": smoothing})
    return out


def layout(chart: Chart, dark: bool = False, smoothing: bool = False,
           log_y: bool = False) -> dict[str, Any]:
    rows = len(chart.panels)
    total = height(rows)
    plot = total - TOP_PX - BOTTOM_PX
    out: dict[str, Any] = {
        "template": "plotly_dark" if dark else "plotly_white",
        "autosize": True, "height": total,
        "margin": {"l": 64, "r": 16, "t": TOP_PX, "b": BOTTOM_PX},
        "hovermode": "x unified", "hoverlabel": {"namelength": -1},
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -60 / plot,
                   "yanchor": "top"},
        "annotations": [], "updatemenus": menus(chart, smoothing, log_y),
    }
    if dark:  # the notebook's own background shows through
        out["paper_bgcolor"] = out["plot_bgcolor"] = "rgba(0,0,0,0)"
    if chart.legend_note:
        out["legend"]["title"] = {"text": chart.legend_note + "  "}
    for row, panel in enumerate(chart.panels, 1):
        top = 1 - (row - 1) * (ROW_PX + GAP_PX) / plot
        bottom = max(0.0, top - ROW_PX / plot)
        last = row == rows
        out[axis_name("x", row)] = {
            "anchor": axis_ref("y", row), "domain": [0, 1], "showticklabels": last,
            **({"matches": "x"} if row > 1 else {}),
            **({"title": {"text": chart.x_title}} if last else {})}
        out[axis_name("y", row)] = {"anchor": axis_ref("x", row), "domain": [bottom, top],
                                    "type": "log" if log_y else "linear"}
        out["annotations"].append({
            "text": panel.heading, "xref": "paper", "yref": "paper", "x": 0, "y": top,
            "xanchor": "left", "yanchor": "bottom", "showarrow": False,
            "font": {"size": 13}})
    return out


def menus(chart: Chart, smoothing: bool, log_y: bool) -> list[dict[str, Any]]:
    """The two button rows (their arrays name every trace, so they are remade when a
    line is added)."""
    rows = len(chart.panels)
    scale = [{"label": label, "method": "relayout",
              "args": [{f"{axis_name('y', r)}.type": kind for r in range(1, rows + 1)}]}
             for label, kind in (("linear y", "linear"), ("log y", "log"))]
    count = len(chart.lines)
    smooth = [{"label": label, "method": "restyle",
               "args": [{"opacity": [FAINT if on else 1.0, 1.0] * count,
                         "visible": [True, on] * count}]}
              for label, on in (("raw", False), (f"smoothed {SMOOTHING:g}", True))]
    common = {"type": "buttons", "direction": "right", "showactive": True, "yanchor": "bottom",
              "xanchor": "right", "pad": {"r": 4, "t": 0, "b": 4},
              "font": {"size": 11, "color": BUTTON_INK}, "bgcolor": BUTTON_FACE,
              "bordercolor": BUTTON_EDGE, "borderwidth": 1}
    plot = height(rows) - TOP_PX - BOTTOM_PX
    return [{**common, "buttons": scale, "active": int(log_y), "x": 1.0,
             "y": 1 + (TOP_PX - 20) / plot, "name": "scale"},
            {**common, "buttons": smooth, "active": int(smoothing), "x": 0.78,
             "y": 1 + (TOP_PX - 20) / plot, "name": "smoothing"}]


def figure(chart: Chart, dark: bool = False, smoothing: bool = False,
           log_y: bool = False) -> dict[str, Any]:
    """The whole figure, as plotly's JSON has it (``data``, ``layout``)."""
    return {"data": traces(chart, smoothing, dark), "layout": layout(chart, dark, smoothing, log_y)}
