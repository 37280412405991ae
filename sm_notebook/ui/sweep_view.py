"""The sweep dashboard under a ``%%sm_tune`` cell (issue 15): a header, Stop all, the
trial table (sortable in the browser, the best trial marked, each row opening that
trial's own dashboard), and one figure: the best objective so far, each trial's
objective over steps, and the parallel coordinates of the hyperparameters against the
objective (``sweep_model.py``, ``sweep_figure.py``).

Light on the kernel as the job dashboard is (``dashboard.py``):

- One flusher thread owns every widget it writes (header, table rows, figure); the
  buttons and the table's *open* belong to the main thread and only set flags or fill
  the trial panel, which the flusher never touches.  Nothing here prints.
- A refresh reads the sweep's two small files, at most ``refresh_rate`` times a second,
  and sends only what changed: the rows when they differ (each second while a trial
  runs, for its duration), the figure at most every ``FIGURE_EVERY`` s (every curve
  decimated to ``CURVE_POINTS``).  A running trial's curve is read from its job's metric
  points as they come, once each.
- The figure is a plotly ``FigureWidget`` where a browser draws it, else matplotlib's SVG
  redrawn every ``SVG_EVERY`` s.
- A plain note follows the widget, as the job dashboard's does (``saved_note.py``): a
  notebook saved while the sweep runs reopens on it (``sweep = %sm_attach NAME``).
- When the sweep ends, the widgets give way to two plain outputs through their display
  handles (the head: header and table, best first; the figure: plotly's JSON and the SVG),
  so a saved notebook shows the final state anywhere.
- Where no widget is drawn (nbclient, papermill, a terminal) the sweep is plain text; in
  a kernel it becomes the same final outputs at the end of the first cell that finds the
  sweep over (a ``--wait`` cell: its own), as nbclient keeps only a running cell's output.
"""

from __future__ import annotations

import contextlib
import html
import threading
import time
from dataclasses import asdict
from typing import Any, Protocol

from ..errors import SmNotebookError
from . import sweep_figure, sweep_static, theme
from . import sweep_model as model
from .dashboard import NOTE_EVERY, Dashboard, close_widgets, preload_chart
from .live_chart import place
from .saved_note import note_bundle
from .series import pick
from .snapshot import Part, final_snapshot, plotly_bundle
from .sweep_model import SweepState, read_state
from .sweep_table import sweep_table

TICK = 1.0  # seconds: running trials' durations move even when nothing else does
FIGURE_EVERY = 1.0  # seconds between redraws of the live plotly figure, at least
SVG_EVERY = 3.0  # seconds between redraws of a static live figure
LIVE_POINTS = 4000  # points of a running trial's curve kept, at most
_EMPTY = {"text/plain": ""}  # a placeholder output, filled when the sweep ends
STYLE = "<style>.smnb-sweep .smnb-header{margin:2px 0 4px}</style>"


class SweepSettings(Protocol):
    """What the view reads of the magics' ``%config`` settings (``SmTrainMagics``)."""

    refresh_rate: float
    dashboard: str
    dashboard_lines: int
    chart_points: int
    shell: Any

    @property
    def in_kernel(self) -> bool: ...

    def interactive(self) -> bool: ...

    def chart_kind(self) -> str: ...


def show(sweep: Any, settings: SweepSettings | None = None, blocking: bool = False
         ) -> SweepView | TextView:
    """The dashboard under the cell where a widget is drawn and answers clicks, else the
    plain text.  ``blocking``: the cell waits for the sweep (``--wait``), so a click is
    only taken once it is over: Stop all is off and says to interrupt instead."""
    from IPython.display import display

    settings = settings or magics_settings()
    if settings.interactive() and settings.dashboard == "widgets":
        return SweepView(sweep, settings, blocking=blocking, show=display)
    return TextView(sweep, display, settings.shell if settings.in_kernel else None)


def magics_settings(shell: Any = None) -> SweepSettings:
    """The training magics' settings object, which holds the dashboard settings."""
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    return shell.magics_manager.registry["SmTrainMagics"]


def text_bundle(state: SweepState) -> dict[str, Any]:
    """The sweep as text and HTML (header and table), for outputs without widgets."""
    return {"text/plain": model.sweep_text(state),
            "text/html": f'{theme.stylesheet()}<div class="smnb-sweep smnb-sweep-text">'
                         f"{model.header_html(state)}{model.table_html(state)}</div>"}


def snapshot_parts(state: SweepState, live: dict[str, list[tuple[float, float]]] | None = None,
                   dark: bool = False) -> tuple[Part, Part | None]:
    """What an ended sweep leaves: the head (header and table, best first) and the figure
    (None when no trial gave a value)."""
    ordered = model.sort_rows(model.rows(state), "objective", descending=state.maximize)
    text = f"{state.summary}\n{model.table_text(state, ordered)}" if state.trials \
        else state.summary
    head = Part({"text/plain": text, "text/html": (
        f'{theme.stylesheet()}{theme.hide_saved_note(state.name)}'
        '<div class="smnb-sweep smnb-sweep-snapshot">'
        f"{model.header_html(state)}{model.table_html(state, ordered)}</div>")})
    if not sweep_figure.drawable(state, live or {}):
        return head, None
    bundle = plotly_bundle(sweep_figure.figure(state, live, dark),
                           sweep_static.svg(state, live),
                           "\n".join(sweep_figure.titles(state)))
    return head, Part(bundle)


class TextView:
    """The sweep as plain text where no widget is drawn.  ``shell`` (a kernel's): the
    text gives way to the final outputs at the end of the first cell that finds the sweep
    over; without one (a terminal) the table is printed once, when it has a row."""

    def __init__(self, sweep: Any, show: Any, shell: Any = None):
        self.sweep = sweep
        self.shell = shell
        self.finished = False
        self.handle = self.figure_handle = None
        state = read_state(sweep)
        if shell is None and not state.trials:  # a terminal: the magic said all there is
            return
        self.handle = show(text_bundle(state), raw=True, display_id=True)
        if shell is not None:
            self.figure_handle = show(_EMPTY, raw=True, display_id=True)
            shell.events.register("post_run_cell", self.cell_ended)

    def cell_ended(self, _result: Any = None) -> None:
        """After each cell (in the cell's own output context): the final state, once."""
        if self.finished or not self.sweep.done:
            return
        self.finished = True
        self.shell.events.unregister("post_run_cell", self.cell_ended)
        head, figure = snapshot_parts(read_state(self.sweep))
        self.handle.update(head)
        self.figure_handle.update(figure or Part(_EMPTY))


class SweepView:
    """Shows ``sweep`` under the current cell and keeps it up to date until it ends."""

    def __init__(self, sweep: Any, settings: SweepSettings, blocking: bool = False,
                 show: Any = None):
        import ipywidgets as widgets

        from .theme_probe import theme_probe

        self.sweep = sweep
        self.settings = settings
        self.chart_kind = settings.chart_kind()
        rate = settings.refresh_rate
        self.interval = 1.0 / rate if rate > 0 else 0.25
        self.dark = False  # the page's theme, once the probe has said
        self.live: dict[str, list[tuple[float, float]]] = {}  # running trials' curves
        self._seen: dict[str, int] = {}  # each running trial's metric points read
        self._logged: dict[str, int] = {}  # and its objective's values among them
        self.boards: dict[str, Any] = {}  # trial job → its live dashboard, once opened
        self.flushes = self.figure_draws = 0
        self.figure: Any = None  # the FigureWidget, once there is something to draw
        self._uids: list[str] = []
        self._sent: dict[str, dict[str, Any]] = {}  # each trace as last drawn
        self._sent_rows: list[dict[str, Any]] | None = None
        self._drawn: tuple | None = None  # what the figure shows: (signature, dark)
        self._drawn_at = 0.0
        self._changed = threading.Event()
        self._closed = threading.Event()
        self._finished = threading.Event()
        state = self.state = read_state(sweep)

        self.style = widgets.HTML(theme.stylesheet() + theme.hide_saved_note(sweep.name) + STYLE,
                                  layout=widgets.Layout(display="none"))
        self.probe = theme_probe()
        self.probe.observe(self._theme_changed, names="dark")
        self.header = widgets.HTML()
        self.stop_button = widgets.Button(
            description="Stop all", icon="stop", button_style="danger",
            tooltip="stop every running trial (SIGTERM, then SIGKILL) and launch no more")
        if blocking:
            self.stop_button.disabled = True
            self.stop_button.tooltip = ("the cell waits for this sweep (--wait): interrupt "
                                        "the kernel to stop it")
        self.table = sweep_table(columns=[asdict(c) for c in model.columns(state)],
                                 best_high=state.maximize)
        self.chart = widgets.Box(layout=widgets.Layout(width="100%"))
        self.trial_caption = widgets.HTML()
        self.close_trial = widgets.Button(description="close", icon="times",
                                          tooltip="close this trial's dashboard",
                                          layout=widgets.Layout(display="none"))
        self.trial = widgets.Box(layout=widgets.Layout(width="100%"))
        self.trial_bar = widgets.HBox([self.trial_caption, self.close_trial],
                                      layout=widgets.Layout(align_items="center"))
        self.root = widgets.VBox([self.style, self.probe, self.header, self.stop_button,
                                  self.table, self.chart, self.trial_bar, self.trial])
        self.root.add_class("smnb-sweep")
        self.stop_button.on_click(self.stop)
        self.close_trial.on_click(self._close_trial)
        self.table.on_msg(self._table_message)

        self._flush(state)  # the first state goes out with the display
        self.handle = self.note_handle = self.figure_handle = None
        self._noted = (0.0, "")
        if show is not None:
            self.handle = show(self._bundle(state), raw=True, display_id=True)
            self.note_handle = show(self._note(state), raw=True, display_id=True)
            self.figure_handle = show(_EMPTY, raw=True, display_id=True)
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"sm_notebook-sweep-{sweep.name}")
        self._thread.start()

    def _bundle(self, state: SweepState) -> dict[str, Any]:
        """The widget, and the sweep as text and HTML for a viewer without its state."""
        return {**self.root._repr_mimebundle_(), **text_bundle(state)}

    def _note(self, state: SweepState) -> dict[str, Any]:
        """What a notebook saved while the sweep runs shows instead (``saved_note.py``)."""
        self._noted = (time.monotonic(), state.summary)
        return note_bundle(state.name, state.summary, f"sweep = %sm_attach {state.name}",
                           "the sweep")

    # ---- main thread (clicks) ------------------------------------------------------------
    def stop(self, _button: Any = None) -> None:
        """Stop all: every running trial, and no more launched."""
        if self.stop_button.disabled:  # a second click of a double click
            return
        self.stop_button.disabled = True
        self.stop_button.description = "Stopping"
        self.sweep.stop()
        self._changed.set()

    def _table_message(self, _widget: Any, content: Any, _buffers: Any = None) -> None:
        if isinstance(content, dict) and isinstance(content.get("open"), str):
            self.open_trial(content["open"])

    def open_trial(self, name: str) -> None:
        """The trial's own dashboard under the sweep's: live while it runs, its final
        snapshot once it has ended."""
        import ipywidgets as widgets

        s = self.settings
        try:
            job = self.sweep.job(name)
        except SmNotebookError as exc:  # a trial refused at launch has no job
            self.trial_caption.value = f'<span class="smnb-error">{html.escape(str(exc))}</span>'
            return
        board = self.boards.get(name)
        if board is None and not job.done:  # the view's handle only read its points
            job.catch_up()  # an ended trial is read to its end
        if board is None and job.done:
            content = widgets.HTML(final_snapshot(job, s.dashboard_lines, s.chart_points)
                                   .html())
        else:
            if board is None:
                board = self.boards[name] = Dashboard(
                    job, rate=s.refresh_rate, log_lines=s.dashboard_lines,
                    max_points=s.chart_points, chart=self.chart_kind, embed=True)
                job.start()  # its pump
            content = board.root
        self.trial_caption.value = (f'<span class="smnb-muted">trial dashboard:</span> '
                                    f"<b>{html.escape(name)}</b>")
        self.close_trial.layout.display = None
        self.trial.children = (content,)

    def _close_trial(self, _button: Any = None) -> None:
        self.trial.children = ()
        self.trial_caption.value = ""
        self.close_trial.layout.display = "none"

    def _theme_changed(self, change: dict[str, Any]) -> None:
        self.dark = bool(change["new"])
        self._changed.set()

    # ---- flusher thread --------------------------------------------------------------------
    def _run(self) -> None:
        if self.chart_kind == "plotly":
            with contextlib.suppress(Exception):
                preload_chart()  # before the first trial ends, so the figure comes with it
        shown = (model.signature(self.state, self.live), self.dark, time.monotonic())
        while not self._closed.is_set():
            self._changed.wait(self.interval)
            self._changed.clear()
            state = None
            with contextlib.suppress(Exception):  # a view must never take a sweep down
                state = read_state(self.sweep)
                self._follow(state)
                now = (model.signature(state, self.live), self.dark, time.monotonic())
                if now[:2] != shown[:2] or now[2] - shown[2] >= TICK:
                    self._flush(state)
                    shown = now
                if self.note_handle is not None and not state.done \
                        and now[2] - self._noted[0] >= NOTE_EVERY \
                        and state.summary != self._noted[1]:
                    self.note_handle.update(self._note(state), raw=True)
            if state is not None and state.done:
                self._finish(state)
                return

    def _follow(self, state: SweepState) -> None:
        """Running trials' objective points since the last look (a trial's own record,
        once the driver has it, replaces them)."""
        for trial in state.trials:
            if trial.steps or trial.status != "InProgress":
                if trial.steps:
                    self.live.pop(trial.job, None)
                continue
            try:
                job = self.sweep.job(trial.job)
            except Exception:
                continue
            points, self._seen[trial.job] = job.metric_points_since(
                self._seen.get(trial.job, 0))
            curve = self.live.setdefault(trial.job, [])
            for p in points:
                if p.metric == state.metric:  # no step: the value's order, as the driver
                    self._logged[trial.job] = self._logged.get(trial.job, 0) + 1
                    curve.append((p.step if p.step is not None
                                  else float(self._logged[trial.job]), p.value))
            if len(curve) > LIVE_POINTS:  # thinned, its spikes and ends kept
                curve[:] = [curve[i] for i in pick([v for _, v in curve], LIVE_POINTS // 2)]

    def _flush(self, state: SweepState) -> None:
        self.flushes += 1
        self.state = state
        self.header.value = model.header_html(state)
        table = model.rows(state)
        if table != self._sent_rows:
            self.table.rows = table
            self._sent_rows = table
        self._draw(state)

    def _draw(self, state: SweepState) -> None:
        """Redraw the figure when what it shows changed, at most every ``FIGURE_EVERY``
        (``SVG_EVERY``) seconds; a change skipped is drawn by a later flush."""
        key = (model.signature(state, self.live), self.dark)
        if key == self._drawn or not sweep_figure.drawable(state, self.live):
            return
        every = FIGURE_EVERY if self.chart_kind == "plotly" else SVG_EVERY
        if time.monotonic() - self._drawn_at < every and not state.done:
            return
        import ipywidgets as widgets

        theme_changed = self._drawn is not None and self._drawn[1] != self.dark
        self._drawn, self._drawn_at = key, time.monotonic()
        self.figure_draws += 1
        if self.chart_kind != "plotly":
            if not self.chart.children:
                self.chart.children = (widgets.HTML(),)
            self.chart.children[0].value = sweep_static.svg(state, self.live)
            return
        spec = sweep_figure.figure(state, self.live, self.dark)
        layout = spec["layout"]
        if self.figure is None:
            import plotly.graph_objects as go

            self.figure = go.FigureWidget(layout=layout)
            self.chart.children = (self.figure,)
        elif not theme_changed:  # the template is sent once, and again with a theme
            layout = {k: v for k, v in layout.items() if k != "template"}
        elif not self.dark:  # back to light: the dark theme's transparent backgrounds go
            layout = {**layout, "paper_bgcolor": None, "plot_bgcolor": None}
        fresh = [t for t in spec["data"] if t["uid"] not in self._uids]
        self._sent.update((t["uid"], t) for t in fresh)  # added whole, just now
        drawn, _ = place(self.figure, self._uids, spec["data"])
        with self.figure.batch_update():
            for trace in spec["data"]:  # only what changed: an ended trial's curve stays
                if self._sent.get(trace["uid"]) != trace:
                    drawn[trace["uid"]].update({k: v for k, v in trace.items()
                                                if k not in ("type", "uid")})
                    self._sent[trace["uid"]] = trace
            self.figure.layout.update(layout)

    def _finish(self, state: SweepState) -> None:
        """Swap the widgets for the final outputs and close them."""
        head, figure = snapshot_parts(state, self.live, self.dark)
        keep: Any = None
        with contextlib.suppress(Exception):
            if self.handle is not None:
                self.handle.update(head)
                self.note_handle.update(_EMPTY, raw=True)
                self.figure_handle.update(figure or Part(_EMPTY))
            else:  # never shown: the snapshot inside the root widget
                import ipywidgets as widgets

                keep = self.root
                svg = figure.bundle["image/svg+xml"] if figure is not None else ""
                self.root.children = (widgets.HTML(head.bundle["text/html"] + svg),)
        close_widgets((self.figure, *self.chart.children, self.style, self.probe,
                       self.header, self.stop_button, self.table, self.chart,
                       self.trial_caption, self.close_trial, self.trial_bar, self.trial,
                       self.root), keep)
        self._finished.set()

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Whether the final outputs are in place (within ``timeout`` seconds)."""
        return self._finished.wait(timeout)

    def close(self) -> None:
        """Stop following (the sweep goes on); the widgets stay as they are."""
        self._closed.set()
        self._changed.set()


__all__ = ["SweepView", "TextView", "show", "snapshot_parts", "text_bundle"]
