"""What a dashboard leaves in the notebook when its job ends: three plain outputs.

- the head: header and status timeline (HTML, and text for text-only frontends);
- the chart: ``application/vnd.plotly.v1+json``, which JupyterLab and VS Code draw with
  plotly itself, interactive and without any widget state or plotly.js in the notebook,
  and an ``image/svg+xml`` drawn by matplotlib for nbviewer, GitHub and nbconvert;
- the log: its last lines and where the full log is.

The chart is a :class:`~.chart_model.Chart`, the same the live chart drew, so the
subplots, colours and titles do not change when the job ends.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import panels, plotly_figure, static_figure, theme
from .chart_model import Chart, chart
from .progress import progress
from .series import DEFAULT_MAX_POINTS, SeriesBuffer
from .text import status_text

if TYPE_CHECKING:
    from ..job import Job

SNAPSHOT_LINES = 30  # log lines kept in the snapshot (the full log is on disk)
PLOTLY_MIME = "application/vnd.plotly.v1+json"


class Part:
    """One output of a snapshot."""

    def __init__(self, bundle: dict[str, Any]):
        self.bundle = bundle

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return self.bundle


class Snapshot:
    """The final state of a job, for any notebook viewer."""

    def __init__(self, job: Job, series: SeriesBuffer, log_lines: int, dark: bool = False,
                 hosts: list[str] | None = None):
        """``dark``: the page's theme (the plotly chart's template); ``hosts``: every host,
        in the order of their colours (default: those in the last lines)."""
        lines = job.recent_lines(log_lines)
        hosts = hosts or sorted({ev.host for ev in lines})
        self.chart = chart(series.traces(), sources=hosts)
        style = theme.stylesheet() + theme.hide_saved_note(job.name)
        header = panels.header_html(job, progress(lines))
        self.head = Part({"text/plain": status_text(job, lines=min(log_lines, 20)),
                          "text/html": f'{style}<div class="smnb-dashboard smnb-snapshot">'
                          f"{header}{panels.timeline_html(job.transitions)}</div>"})
        self.figure = Part(chart_bundle(self.chart, dark)) if self.chart.lines else None
        self.log = Part({"text/plain": "", "text/html": (
            f'{theme.stylesheet()}<div class="smnb-dashboard smnb-snapshot-log">'
            f"{panels.log_html(lines[-SNAPSHOT_LINES:], hosts=hosts)}"
            f"{panels.log_caption(lines, str(job.log_path))}</div>")})

    @property
    def parts(self) -> list[Part]:
        return [self.head, *([self.figure] if self.figure else []), self.log]

    def html(self) -> str:
        """All of it as one HTML block, the chart as static SVG (inside a widget)."""
        return "".join([self.head.bundle["text/html"], static_figure.svg(self.chart),
                        self.log.bundle["text/html"]])


def chart_bundle(model: Chart, dark: bool = False) -> dict[str, Any]:
    """The chart's output: plotly's JSON (the template spelled out, as plotly.js knows no
    template names), matplotlib's SVG, and the values as text."""
    return plotly_bundle(plotly_figure.figure(model, dark), static_figure.svg(model),
                         "\n".join(panel.heading for panel in model.panels))


def plotly_bundle(spec: dict[str, Any], svg: str, text: str) -> dict[str, Any]:
    """A figure's output: ``spec`` (plotly's dicts) as plotly's JSON with its template
    spelled out, ``svg`` for viewers without plotly, ``text`` for text-only ones."""
    import plotly.graph_objects as go
    import plotly.io

    figure = json.loads(plotly.io.to_json(go.Figure(spec), validate=False))
    return {PLOTLY_MIME: {**figure, "config": plotly_figure.CONFIG},
            "image/svg+xml": svg, "text/plain": text}


def final_snapshot(job: Job, log_lines: int = 200,
                   max_points: int = DEFAULT_MAX_POINTS) -> Snapshot:
    """The snapshot of a job that had ended before it was shown (``%sm_attach`` after the
    end): what a live dashboard would end on, without its widgets."""
    series = SeriesBuffer(max_points)
    series.add(job.metric_points())
    return Snapshot(job, series, log_lines)
