"""A :class:`~.chart_model.Chart` as SVG drawn by matplotlib, for viewers without plotly.

nbviewer, GitHub and nbconvert show no plotly output; they show this, which is in the same
bundle.  matplotlib (imported here only, when a job ends) draws real axes and ticks, and
keeps text as text (``svg.fonttype: none``), so the chart is a few tens of kB.  Same
subplots, colours, dashes and titles as the plotly chart, on white, which reads in any
viewer.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .chart_model import Chart

#: plotly's dash names → matplotlib's line styles
STATIC_DASH = {"solid": "-", "dash": (0, (6, 3)), "dot": (0, (1.5, 2.5)),
               "dashdot": "-.", "longdash": (0, (10, 4)), "longdashdot": (0, (10, 3, 2, 3))}
INK, MUTED, GRID = "#1f2328", "#424a53", "#d8dee4"  # 15.8:1 and 8.8:1 on white
WIDTH_IN, ROW_IN, DPI = 8.0, 1.9, 96
_RC_LOCK = threading.Lock()  # rc_context changes matplotlib's global settings


def svg(chart: Chart) -> str:
    """The chart as one ``<svg>`` element (``""`` when it has nothing to draw)."""
    if not chart.lines:
        return ""
    rows = len(chart.panels)
    with canvas(WIDTH_IN, 0.6 + ROW_IN * rows) as figure:
        axes = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
        for ax, panel in zip(axes, chart.panels, strict=True):
            for line in panel.lines:
                ax.plot(line.x, line.y, color=line.colour, linestyle=STATIC_DASH[line.dash],
                        linewidth=1.5, label=line.name)
            ax.set_title(panel.heading, loc="left", fontsize=10)
            ax.grid(True, color=GRID, linewidth=0.6)
            if len(panel.lines) > 1:
                ax.legend(fontsize=8, frameon=False, title=chart.legend_note or None,
                          title_fontsize=8)
        axes[-1].set_xlabel(chart.x_title)
        return to_svg(figure)


@contextmanager
def canvas(width_in: float, height_in: float) -> Iterator[Any]:
    """A matplotlib ``Figure`` drawn in this module's style (ink on white, text kept as
    text), for as long as the block lasts: matplotlib's settings are global, so one
    figure is drawn at a time."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    style = {"svg.fonttype": "none", "font.size": 9, "text.color": INK,
             "axes.labelcolor": INK, "xtick.color": MUTED, "ytick.color": MUTED,
             "axes.edgecolor": MUTED, "font.family": "sans-serif"}
    with _RC_LOCK, matplotlib.rc_context(style):
        figure = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
        FigureCanvasSVG(figure)
        yield figure


def to_svg(figure: Any) -> str:
    """The figure as one ``<svg>`` element, on white."""
    out = io.StringIO()
    figure.savefig(out, format="svg", facecolor="white", metadata={"Date": None})
    text = out.getvalue()
    return text[text.index("<svg"):]
