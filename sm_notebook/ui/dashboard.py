"""The live dashboard under a job's cell: header, status timeline, one metrics chart, the
last log lines with a filter, and Stop / Detach buttons.

Light on the kernel by construction (``reference/jupyter-notes.md`` §2):

- One flusher thread per dashboard owns every widget it writes (header, timeline, chart,
  log, and the root's children); the buttons and the filter box belong to the main thread
  and only set flags the flusher reads.  Nothing here prints or uses ``with Output()``.
- A flush happens at most ``rate`` times a second, after the job changed (or once a second
  for the clock), and costs a bounded payload however long the job: panels are a few kB,
  the log is the last ``log_lines``, and each chart trace at most ``max_points`` points in
  one ``batch_update``.
- The chart (a plotly ``FigureWidget``, whose bundle is 5 MB) is made only once the job has
  a metric, and only where a browser will draw it (``chart="plotly"``).  Elsewhere
  (``chart="svg"``: nbclient and papermill, which also save every widget's state, the 5 MB
  included) the chart is the small SVG of the final snapshot, redrawn in an HTML widget.
- When the job ends, a static snapshot (HTML with an SVG chart) replaces the widgets
  through the display handle and the widgets are closed, so a saved notebook shows the
  final state anywhere and does not carry the live bundle.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any

from .. import modes
from . import panels
from .series import DEFAULT_MAX_POINTS, SeriesBuffer
from .static_chart import colour, svg
from .text import status_text

if TYPE_CHECKING:
    from ..job import Job

CHART_ROW_PX = 170  # height per metric
SNAPSHOT_LINES = 30  # log lines kept in the final snapshot (the full log is on disk)
TICK = 1.0  # seconds: the clock in the header moves even when the job is quiet
TEXT_EVERY = 2.0  # seconds between plain-text status updates (frontends without widgets)
TEXT_LINES = 5  # log lines in that status


class Snapshot:
    """The final state of a job as plain HTML and text, for any notebook viewer."""

    def __init__(self, job: Job, series: SeriesBuffer, log_lines: int):
        self.text = status_text(job, lines=min(log_lines, 20))
        self.html = "".join([
            '<div class="smnb-dashboard smnb-snapshot">', panels.header_html(job),
            panels.timeline_html(job.transitions), svg(series.traces()),
            panels.log_html(job.recent_lines(min(log_lines, SNAPSHOT_LINES))),
            panels.log_caption(job.recent_lines(log_lines), str(job.log_path)), "</div>"])

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.text, "text/html": self.html}


class Dashboard:
    """Shows ``job`` under the current cell and keeps it up to date until it ends."""

    def __init__(self, job: Job, rate: float = 4.0, log_lines: int = 200,
                 max_points: int = DEFAULT_MAX_POINTS, chart: str = "plotly",
                 show: Any = None, embed: bool = False, text_status: bool = False,
                 blocking: bool = False):
        """``embed``: not displayed here; the caller places ``root`` (the form does), and
        the snapshot ends up inside it.  ``text_status``: for frontends without widgets
        (nbclient, papermill), the display's text and HTML are kept up to date too, at most
        once every ``TEXT_EVERY`` seconds (an update re-renders a widget view, so never
        where widgets are drawn).  ``blocking``: the cell waits for the job (``--wait``),
        so the kernel would only take a click once the job is over: the buttons are off and
        say to interrupt the kernel instead."""
        import ipywidgets as widgets

        self.job = job
        self.chart_kind = chart
        self.interval = 1.0 / rate if rate > 0 else 0.25
        self.log_lines = log_lines
        self.series = SeriesBuffer(max_points)
        self.flushes = 0
        self.figure: Any = None
        self._seen_points = 0
        self._drawn_version = -1
        self._filter = ""
        self._changed = threading.Event()
        self._finished = threading.Event()

        self.header = widgets.HTML()
        self.timeline = widgets.HTML()
        self.chart = widgets.Box()
        # The widget's own layout scrolls the log (a notebook's HTML sanitizer would strip
        # such styles): column-reverse keeps the view at the newest line, as a terminal.
        self.log = widgets.HTML(layout=widgets.Layout(
            max_height="18em", overflow="auto", display="flex", flex_flow="column-reverse"))
        self.log_caption = widgets.HTML()
        self.stop_button = widgets.Button(description="Stop", icon="stop",
                                          button_style="danger", tooltip=_stop_tip(job))
        self.detach_button = widgets.Button(description="Detach", icon="unlink",
                                            tooltip="stop following; the job keeps running")
        self.filter_box = widgets.Text(placeholder="filter the log",
                                       layout=widgets.Layout(width="18em"))
        if blocking:
            for button in (self.stop_button, self.detach_button):
                button.disabled = True
                button.tooltip = _blocked_tip(job)
        self.controls = widgets.HBox([self.stop_button, self.detach_button, self.filter_box])
        self.root = widgets.VBox([self.header, self.timeline, self.chart, self.log,
                                  self.log_caption, self.controls])
        self.root.add_class("smnb-dashboard")
        self.stop_button.on_click(self._stop)
        self.detach_button.on_click(self._detach)
        self.filter_box.observe(self._filter_changed, names="value")

        self._flush()  # the first state goes out with the display
        self.handle = None
        self.text_status = text_status and not embed
        self._texted = 0.0
        if embed:
            show = None
        elif show is None:
            from IPython.display import display as show
        if show is not None:
            self.handle = show(self._bundle(), raw=True, display_id=True)
        job.add_listener(self._job_changed)
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"sm_notebook-dashboard-{job.name}")
        self._thread.start()

    def _bundle(self) -> dict[str, Any]:
        """The widget view, and the state as text and HTML for whatever shows the output
        without a widget manager (nbclient's saved notebook, nbviewer) until the end."""
        self._texted = time.monotonic()
        return {**self.root._repr_mimebundle_(),
                "text/plain": status_text(self.job, TEXT_LINES if self.text_status else 0),
                "text/html": panels.header_html(self.job)}

    # ---- main thread (button and filter callbacks) -------------------------------------
    def _stop(self, _button: Any) -> None:
        if self.stop_button.disabled:  # a second click of a double click
            return
        self.stop_button.disabled = True
        self.stop_button.description = "Stopping"
        self.job.stop()

    def _detach(self, _button: Any) -> None:
        self.detach_button.disabled = True
        self.stop_button.disabled = True
        self.job.detach()

    def _filter_changed(self, change: dict[str, Any]) -> None:
        self._filter = change["new"]
        self._changed.set()

    # ---- pump thread ------------------------------------------------------------------
    def _job_changed(self, _job: Job) -> None:
        self._changed.set()

    # ---- flusher thread ---------------------------------------------------------------
    def _run(self) -> None:
        while True:
            self._changed.wait(TICK)
            self._changed.clear()
            done = self.job.done
            with contextlib.suppress(Exception):  # a dashboard must never take a job down
                self._flush()
                if self.text_status and self.handle is not None and not done \
                        and time.monotonic() - self._texted >= TEXT_EVERY:
                    self.handle.update(self._bundle(), raw=True)
            if done:
                self._finish()
                return
            time.sleep(self.interval)

    def _flush(self) -> None:
        job = self.job
        self.flushes += 1
        self.header.value = panels.header_html(job)
        self.timeline.value = panels.timeline_html(job.transitions, time.time())
        lines = job.recent_lines(self.log_lines)
        self.log.value = panels.log_html(lines, self._filter)
        self.log_caption.value = panels.log_caption(lines, str(job.log_path), self._filter)
        points, self._seen_points = job.metric_points_since(self._seen_points)
        self.series.add(points)
        if self.series.version != self._drawn_version:
            self._drawn_version = self.series.version
            self._draw()

    def _draw(self) -> None:
        """One ``batch_update`` for every trace (new traces are added first: plotly
        batches no ``add_trace``)."""
        traces = self.series.traces()
        if not traces:
            return
        if self.chart_kind == "svg":
            if not self.chart.children:
                import ipywidgets as widgets

                self.chart.children = (widgets.HTML(),)
            self.chart.children[0].value = svg(traces)
            return
        if self.figure is None:
            import plotly.graph_objects as go

            self.figure = go.FigureWidget(layout=go.Layout(
                margin={"l": 60, "r": 10, "t": 10, "b": 40}, template="plotly_white",
                legend={"orientation": "h", "y": -0.15}))
            self.chart.children = (self.figure,)
        metrics = sorted({t.metric for t in traces})
        named = {trace.name: trace for trace in self.figure.data}
        missing = [t for t in traces if t.name not in named]
        if missing:
            self.figure.add_traces([{"type": "scatter", "mode": "lines", "name": t.name,
                                     "line": {"color": colour(index)}}
                                    for index, t in enumerate(missing, len(named))])
            named = {trace.name: trace for trace in self.figure.data}
        with self.figure.batch_update():
            self._lay_out(metrics, traces[0].by_step)
            for t in traces:
                drawn = named[t.name]
                drawn.x, drawn.y = t.x, t.y
                drawn.yaxis = _axis_ref(metrics.index(t.metric))

    def _lay_out(self, metrics: list[str], by_step: bool) -> None:
        """One row per metric, stacked over one shared x axis."""
        rows, gap = len(metrics), 0.06
        height = (1 - gap * (rows - 1)) / rows
        layout = self.figure.layout
        layout.height = 60 + CHART_ROW_PX * rows
        layout.xaxis.title = "step" if by_step else "seconds"
        for index, metric in enumerate(metrics):
            top = 1 - index * (height + gap)
            axis = {"domain": [max(0.0, top - height), top], "title": {"text": metric},
                    "anchor": "x"}
            layout[f"yaxis{index + 1 if index else ''}"] = axis

    def _finish(self) -> None:
        """Swap the widgets for the static snapshot and close them."""
        snapshot = Snapshot(self.job, self.series, self.log_lines)
        keep: Any = None
        with contextlib.suppress(Exception):
            if self.handle is not None:
                self.handle.update(snapshot)
            else:  # embedded (or never shown): the snapshot inside the root widget
                import ipywidgets as widgets

                keep = self.root
                self.root.children = (widgets.HTML(snapshot.html),)
        for widget in (self.figure, *self.chart.children, self.header, self.timeline,
                       self.chart, self.log, self.log_caption, self.stop_button,
                       self.detach_button, self.filter_box, self.controls, self.root):
            if widget is not None and widget is not keep:
                with contextlib.suppress(Exception):
                    widget.close()
        self._finished.set()

    def wait_finished(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)


def final_snapshot(job: Job, log_lines: int = 200,
                   max_points: int = DEFAULT_MAX_POINTS) -> Snapshot:
    """The snapshot of a job that had ended before it was shown (``%sm_attach`` after the
    end): what a live dashboard would end on, without its widgets."""
    series = SeriesBuffer(max_points)
    series.add(job.metric_points())
    return Snapshot(job, series, log_lines)


def _axis_ref(index: int) -> str:
    return f"y{index + 1}" if index else "y"


def _blocked_tip(job: Job) -> str:
    """What interrupting a ``--wait`` cell does to its job (the mode table's wording)."""
    return f"the cell waits for this job (--wait): {modes.get(job.mode).interrupt_wording}"


def _stop_tip(job: Job) -> str:
    return modes.get(job.mode).stop_wording


__all__ = ["Dashboard", "Snapshot", "final_snapshot"]
