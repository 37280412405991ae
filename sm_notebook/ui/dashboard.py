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
  a metric, and only where a browser will draw it (``chart="plotly"``); its imports are
  loaded by the flusher as the dashboard starts, so it comes with the first point.  Elsewhere
  (``chart="svg"``: nbclient and papermill, which also save every widget's state, the 5 MB
  included) the chart is the snapshot's matplotlib SVG, redrawn every ``SVG_EVERY`` s.
- A plain note follows the widget (``saved_note.py``), hidden while the widget is drawn
  and refreshed every ``NOTE_EVERY`` s: a notebook saved while the job runs reopens on it
  (the job, its state, ``job = %sm_attach NAME``) instead of a widget error.
- When the job ends, the widgets give way to the snapshot's three plain outputs (head,
  chart, log; ``snapshot.py``) through their display handles, and are closed, so a saved
  notebook shows the final state anywhere and does not carry the live bundle.  The chart
  and log outputs are empty placeholders until then, and the note is emptied.
- Text colours follow the page's theme by CSS (``theme.py``); the chart's plotly template
  follows what a theme probe widget reports.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .. import modes
from . import panels, static_figure, theme
from .chart_model import chart
from .log_controls import LogControls
from .progress import progress
from .saved_note import saved_note
from .series import DEFAULT_MAX_POINTS, SeriesBuffer
from .snapshot import Part, Snapshot, final_snapshot
from .text import status_text
from .theme_probe import theme_probe

if TYPE_CHECKING:
    from ..job import Job

TICK = 1.0  # seconds: the clock in the header moves even when the job is quiet
TEXT_EVERY = 2.0  # seconds between plain-text status updates (frontends without widgets)
TEXT_LINES = 5  # log lines in that status
SVG_EVERY = 2.0  # seconds between redraws of a static (matplotlib) live chart
NOTE_EVERY = 5.0  # seconds between updates of the note a notebook saved mid-run shows
_EMPTY = {"text/plain": ""}  # a placeholder output, filled when the job ends


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
        self.live_chart: Any = None  # a LiveChart, once the job has a point
        self._svg_drawn = 0.0
        self._seen_points = 0
        self._drawn_version = -1
        self._drawn_dark: bool | None = None
        self.dark = False  # the page's theme, once the probe has said
        self.hosts: list[str] = []  # every host seen, sorted: the order of their colours
        self._noted = (0.0, "")
        self._changed = threading.Event()
        self._finished = threading.Event()

        self.style = widgets.HTML(theme.stylesheet() + theme.hide_saved_note(job.name),
                                  layout=widgets.Layout(display="none"))
        self.probe = theme_probe()
        self.probe.observe(self._theme_changed, names="dark")

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
        self.log_controls = LogControls(self._changed.set)
        if blocking:
            for button in (self.stop_button, self.detach_button):
                button.disabled = True
                button.tooltip = _blocked_tip(job)
        self.controls = widgets.HBox([self.stop_button, self.detach_button,
                                      *self.log_controls.widgets],
                                     layout=widgets.Layout(flex_flow="row wrap"))
        self.root = widgets.VBox([self.style, self.probe, self.header, self.timeline,
                                  self.chart, self.log, self.log_caption, self.controls])
        self.root.add_class("smnb-dashboard")
        self.stop_button.on_click(self._stop)
        self.detach_button.on_click(self._detach)

        self._flush()  # the first state goes out with the display
        self.handle = self.note_handle = self.chart_handle = self.log_handle = None
        self.text_status = text_status and not embed
        self._texted = 0.0
        if embed:
            show = None
        elif show is None:
            from IPython.display import display as show
        if show is not None:
            self.handle = show(self._bundle(), raw=True, display_id=True)
            self.note_handle = show(self._note(), raw=True, display_id=True)
            self.chart_handle = show(_EMPTY, raw=True, display_id=True)
            self.log_handle = show(_EMPTY, raw=True, display_id=True)
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

    def _theme_changed(self, change: dict[str, Any]) -> None:
        self.dark = bool(change["new"])
        self._changed.set()

    # ---- pump thread ------------------------------------------------------------------
    def _job_changed(self, _job: Job) -> None:
        self._changed.set()

    # ---- flusher thread ---------------------------------------------------------------
    def _run(self) -> None:
        if self.chart_kind == "plotly":
            with contextlib.suppress(Exception):
                preload_chart()  # before the first point, so the chart comes with it
        while True:
            self._changed.wait(TICK)
            self._changed.clear()
            done = self.job.done
            with contextlib.suppress(Exception):  # a dashboard must never take a job down
                self._flush()
                if self.text_status and self.handle is not None and not done \
                        and time.monotonic() - self._texted >= TEXT_EVERY:
                    self.handle.update(self._bundle(), raw=True)
                if self.note_handle is not None and not done:
                    self._update_note()
            if done:
                self._finish()
                return
            time.sleep(self.interval)

    def _flush(self) -> None:
        job = self.job
        self.flushes += 1
        lines = job.recent_lines(self.log_lines)
        self.header.value = panels.header_html(job, progress(lines))
        self.timeline.value = panels.timeline_html(job.transitions, time.time())
        points, self._seen_points = job.metric_points_since(self._seen_points)
        self.series.add(points)
        hosts = {ev.host for ev in lines} | {p.host for p in points}
        if not hosts <= set(self.hosts):
            self.hosts = sorted(hosts | set(self.hosts))
            self.log_controls.show_hosts(self.hosts)
        shown = self.log_controls.filter
        self.log.value = panels.log_html(lines, shown, self.hosts)
        self.log_caption.value = panels.log_caption(lines, str(job.log_path), shown)
        if (self.series.version, self.dark) != (self._drawn_version, self._drawn_dark) \
                and self._draw():
            self._drawn_version, self._drawn_dark = self.series.version, self.dark

    def _note(self) -> dict[str, Any]:
        self._noted = (time.monotonic(), panels.header_html(self.job))
        return saved_note(self.job)

    def _update_note(self) -> None:
        """The saved note, at most every ``NOTE_EVERY`` s and only after a change."""
        last, header = self._noted
        if time.monotonic() - last >= NOTE_EVERY and panels.header_html(self.job) != header:
            self.note_handle.update(self._note(), raw=True)

    @property
    def figure(self) -> Any:
        """The live plotly ``FigureWidget`` (None before the first point)."""
        return self.live_chart.figure if self.live_chart is not None else None

    def _draw(self) -> bool:
        """Redraw the chart; False when it is left for later (nothing to draw yet, or a
        static chart drawn less than ``SVG_EVERY`` ago)."""
        model = chart(self.series.traces(), sources=self.hosts)
        if not model.lines:
            return False
        if self.chart_kind == "svg":
            if time.monotonic() - self._svg_drawn < SVG_EVERY and not self.job.done:
                return False
            self._svg_drawn = time.monotonic()
            if not self.chart.children:
                import ipywidgets as widgets

                self.chart.children = (widgets.HTML(),)
            self.chart.children[0].value = static_figure.svg(model)
            return True
        if self.live_chart is None:
            from .live_chart import LiveChart

            self.live_chart = LiveChart(self.dark)
            self.chart.children = (self.live_chart.figure,)
        self.live_chart.draw(model, self.dark)
        return True

    def _finish(self) -> None:
        """Swap the widgets for the snapshot's outputs and close them."""
        snapshot = Snapshot(self.job, self.series, self.log_lines, self.dark, self.hosts)
        keep: Any = None
        with contextlib.suppress(Exception):
            if self.handle is not None:
                self.handle.update(snapshot.head)
                self.note_handle.update(_EMPTY, raw=True)
                self.chart_handle.update(snapshot.figure or Part(_EMPTY))
                self.log_handle.update(snapshot.log)
            else:  # embedded (or never shown): the snapshot inside the root widget
                import ipywidgets as widgets

                keep = self.root
                self.root.children = (widgets.HTML(snapshot.html()),)
        with contextlib.suppress(Exception):
            self.log_controls.close()
        close_widgets((self.figure, *self.chart.children, self.style, self.probe, self.header,
                       self.timeline, self.chart, self.log, self.log_caption,
                       self.stop_button, self.detach_button, self.controls, self.root), keep)
        self._finished.set()

    def wait_finished(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)


def close_widgets(widgets: Iterable[Any], keep: Any = None) -> None:
    """Close each widget but ``keep`` (None: all), whatever fails: a view that ends must
    never raise."""
    for widget in widgets:
        if widget is not None and widget is not keep:
            with contextlib.suppress(Exception):
                widget.close()


def preload_chart() -> None:
    """Import what a live chart needs (plotly's FigureWidget pulls in nbformat and
    jsonschema: about two seconds, once per kernel)."""
    import plotly.graph_objects as go

    _ = go.FigureWidget


def _blocked_tip(job: Job) -> str:
    """What interrupting a ``--wait`` cell does to its job (the mode table's wording)."""
    return f"the cell waits for this job (--wait): {modes.get(job.mode).interrupt_wording}"


def _stop_tip(job: Job) -> str:
    return modes.get(job.mode).stop_wording


__all__ = ["Dashboard", "Snapshot", "final_snapshot"]
