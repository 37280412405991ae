"""What the sweep dashboard shows, decided once for the live view, the saved snapshot and
the plain text (pure: no widgets, no plotly).

- One read of the sweep a refresh (:func:`read_state`: its status and ``trials.json``),
  so the header, the table and the charts of one refresh agree with each other.
- The table: a row a trial (its number, job, status, each hyperparameter, the objective,
  the duration, why it failed or was stopped), the best completed trial marked; each row
  carries the raw values it sorts by, so a browser sorts it without the kernel.
- The charts' data: the best objective so far against the trial number, each trial's
  objective over steps, and the parallel-coordinates dimensions (one axis a ranged
  hyperparameter, the last the objective; log ranges on a log axis, categories by name).
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..tuning.sweep_dir import Trial, best_trial
from .chart_model import fmt
from .series import decimate
from .text import aligned, compact_duration
from .theme import badge

RUNNING = ("Pending", "InProgress")
BEST_MARK = "★"
CURVE_POINTS = 200  # points of one trial's curve, at most (longer ones are decimated)
ALL_POINTS = 4000  # points of all the curves together, at most (so a redraw stays small)
MIN_POINTS = 16  # a curve's points, at least, however many trials share the total
TICKS = 5  # ticks of a log axis


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = False


@dataclass
class SweepState:
    """The sweep as one refresh sees it."""

    name: str
    status: str
    summary: str  # the handle's one line (``Sweep.summary``)
    objective: dict[str, str]  # {type: Maximize|Minimize, metric}
    ranges: list[dict[str, Any]]  # {name, kind, low, high, values, scaling}
    max_jobs: int
    max_parallel: int
    strategy: str
    trials: list[Trial] = field(default_factory=list)

    @property
    def maximize(self) -> bool:
        return self.objective["type"] == "Maximize"

    @property
    def metric(self) -> str:
        return self.objective["metric"]

    @property
    def best(self) -> Trial | None:
        return best_trial(self.trials, self.maximize)

    @property
    def done(self) -> bool:
        return self.status in ("Completed", "Stopped", "Failed")


def read_state(sweep: Any) -> SweepState:
    """The sweep's status, options and trials, each file read once."""
    options = sweep.options
    return SweepState(sweep.name, sweep.status, sweep.summary(), dict(sweep.objective),
                      list(options["ranges"]), options["max_jobs"], options["max_parallel"],
                      options["strategy"], sweep.trial_list())


# ---- the table ------------------------------------------------------------------------

def columns(state: SweepState) -> list[Column]:
    hps = [Column(r["name"], r["name"], r["kind"] != "cat") for r in state.ranges]
    return [Column("trial", "#", True), Column("job", "job"), Column("status", "status"),
            *hps, Column("objective", state.metric, True),
            Column("duration", "duration", True), Column("note", "note")]


def rows(state: SweepState, now: float | None = None) -> list[dict[str, Any]]:
    """A row a trial, in trial order: ``cells`` (text), ``sort`` (raw values: numbers,
    text or None), whether it is the best, its job and status."""
    now = time.time() if now is None else now
    best = state.best
    out = []
    for trial in state.trials:
        took = duration(trial, now)
        values = {r["name"]: trial.values.get(r["name"]) for r in state.ranges}
        raw: dict[str, Any] = {"trial": trial.number, "job": trial.job,
                               "status": trial.status, **values,
                               "objective": trial.objective, "duration": took,
                               "note": note(trial)}
        cells = {key: value_text(value) for key, value in raw.items()}
        cells["duration"] = compact_duration(took)
        out.append({"cells": cells, "sort": raw, "job": trial.job, "status": trial.status,
                    "best": best is not None and trial.number == best.number})
    return out


def duration(trial: Trial, now: float) -> float | None:
    if trial.started is None:
        return None
    return (trial.ended if trial.ended is not None else now) - trial.started


def note(trial: Trial) -> str:
    if trial.stopped_early:
        return f"stopped early: {trial.failure_reason}" if trial.failure_reason else \
            "stopped early"
    return trial.failure_reason or ""


def value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return fmt(value)
    return str(value)


def sort_key(value: Any) -> tuple:
    """Numbers before text, blanks last (in either direction)."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return (2,)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value))
    try:
        return (0, float(value))  # a category of numbers, as "5"
    except (TypeError, ValueError):
        return (1, str(value).lower())


def sort_rows(table: Sequence[dict[str, Any]], key: str = "trial",
              descending: bool = False) -> list[dict[str, Any]]:
    """The rows by one column (the browser sorts the same way: ``sweep_table.ESM``)."""
    filled = [r for r in table if sort_key(r["sort"].get(key))[0] < 2]
    blank = [r for r in table if sort_key(r["sort"].get(key))[0] == 2]
    filled.sort(key=lambda r: sort_key(r["sort"].get(key)), reverse=descending)
    return filled + blank


def table_text(state: SweepState, table: Sequence[dict[str, Any]] | None = None) -> str:
    """The table as aligned text, the best row starred."""
    cols = columns(state)
    table = rows(state) if table is None else table
    lines = [["", *(c.label for c in cols)]]
    lines += [[BEST_MARK if r["best"] else "", *(r["cells"][c.key] for c in cols)]
              for r in table]
    return "\n".join(aligned(lines))


def sweep_text(state: SweepState) -> str:
    """The plain-text form: the summary line, then the table (headless runs, and the
    text beside every rich output)."""
    if not state.trials:
        return state.summary
    return f"{state.summary}\n{table_text(state)}"


def header_html(state: SweepState) -> str:
    """``name · strategy · [status] · N/M trials (k at once) · Maximize metric · best``."""
    running = sum(t.status == "InProgress" for t in state.trials)
    parts = [f"<b>{html.escape(state.name)}</b>", html.escape(state.strategy),
             badge(state.status), f"{len(state.trials)}/{state.max_jobs} trials"
             + (f" ({running} running)" if running else ""),
             f"{state.max_parallel} at once",
             f"{html.escape(state.objective['type'])} <code>{html.escape(state.metric)}"
             "</code>"]
    best = state.best
    if best is not None:
        values = ", ".join(f"{k}={value_text(v)}" for k, v in best.values.items())
        parts.append(f'<span class="smnb-sweep-best">best {fmt(best.objective)} '
                     f"({html.escape(best.job)}: {html.escape(values)})</span>")
    return f'<div class="smnb-header">{" · ".join(parts)}</div>'


def table_html(state: SweepState, table: Sequence[dict[str, Any]] | None = None) -> str:
    """The table as static HTML (the snapshot's), the best row marked."""
    cols = columns(state)
    table = rows(state) if table is None else table
    cell = "padding:2px 10px;text-align:left;white-space:nowrap"
    head = "".join(f'<th style="{cell}">{html.escape(c.label)}</th>' for c in cols)
    body = []
    for r in table:
        marked = ' class="smnb-best" style="font-weight:700"' if r["best"] else ""
        cells = "".join(f'<td style="{cell}">{html.escape(r["cells"][c.key])}'
                        f'{" " + BEST_MARK if r["best"] and c.key == "trial" else ""}</td>'
                        for c in cols)
        body.append(f"<tr{marked}>{cells}</tr>")
    return (f'<table class="smnb-sweep-table" style="border-collapse:collapse;'
            f'font-size:12px"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
            "</tbody></table>")


# ---- the charts' data -------------------------------------------------------------------

@dataclass
class Curve:
    """One trial's objective over steps."""

    job: str
    number: int
    x: list[float]
    y: list[float]
    objective: float | None  # the final objective of a completed trial (its colour)
    best: bool = False


@dataclass
class Dimension:
    """One axis of the parallel-coordinates plot."""

    label: str
    values: list[float]
    range: tuple[float, float] | None = None
    tickvals: list[float] | None = None
    ticktext: list[str] | None = None


def best_so_far(state: SweepState) -> tuple[list[int], list[float]]:
    """(trial numbers, the best objective up to each): the completed trials, in order."""
    better: Callable[[float, float], bool] = (lambda a, b: a > b) if state.maximize \
        else (lambda a, b: a < b)
    xs: list[int] = []
    ys: list[float] = []
    for trial in state.trials:
        if trial.status != "Completed" or trial.objective is None:
            continue
        top = trial.objective if not ys or better(trial.objective, ys[-1]) else ys[-1]
        xs.append(trial.number)
        ys.append(top)
    return xs, ys


def curves(state: SweepState, live: dict[str, list[tuple[float, float]]] | None = None,
           max_points: int = CURVE_POINTS) -> list[Curve]:
    """Each trial's objective over steps: the driver's record where it has one, else
    ``live[job]`` (what a running trial has logged so far); trials with none are left
    out.  Each curve keeps at most ``max_points``, and all of them ``ALL_POINTS``."""
    live = live or {}
    best = state.best
    found = [(trial, [(float(s), float(v)) for s, v in trial.steps]
              or live.get(trial.job, [])) for trial in state.trials]
    found = [(trial, points) for trial, points in found if points]
    each = min(max_points, max(MIN_POINTS, ALL_POINTS // max(len(found), 1)))
    out = []
    for trial, points in found:
        x, y = decimate([p[0] for p in points], [p[1] for p in points], each)
        final = trial.objective if trial.status == "Completed" else None
        out.append(Curve(trial.job, trial.number, x, y, final,
                         best is not None and trial.number == best.number))
    return out


def dimensions(state: SweepState) -> tuple[list[Dimension], list[Trial]]:
    """The axes, and the trials they draw (those completed with an objective): one axis a
    ranged hyperparameter over its whole range, the objective last."""
    drawn = [t for t in state.trials if t.status == "Completed" and t.objective is not None]
    axes = [axis(r, [t.values.get(r["name"]) for t in drawn]) for r in state.ranges]
    axes.append(Dimension(f"{state.metric} ({state.objective['type'].lower()})",
                          [float(t.objective) for t in drawn]))
    return axes, drawn


def axis(rng: dict[str, Any], values: list[Any]) -> Dimension:
    """A hyperparameter's axis: categories at 0, 1, ... by name; a log range (or a
    logarithmic scaling) as log10, ticked with the values themselves."""
    name = rng["name"]
    if rng["kind"] == "cat":
        names = [str(v) for v in rng.get("values") or ()]
        return Dimension(name, [float(names.index(str(v))) if str(v) in names else math.nan
                                for v in values], (0.0, float(max(len(names) - 1, 1))),
                         [float(i) for i in range(len(names))], names)
    low, high = float(rng["low"]), float(rng["high"])
    if log_scale(rng):
        lo, hi = math.log10(low), math.log10(high)
        ticks = [lo + (hi - lo) * i / (TICKS - 1) for i in range(TICKS)]
        return Dimension(f"{name} (log)", [math.log10(float(v)) if _positive(v) else math.nan
                                           for v in values], (lo, hi), ticks,
                         [fmt(10 ** t) for t in ticks])
    return Dimension(name, [float(v) if v is not None else math.nan for v in values],
                     (low, high) if high > low else None)


def log_scale(rng: dict[str, Any]) -> bool:
    return rng["kind"] == "log" or rng.get("scaling") == "Logarithmic"


def _positive(value: Any) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def signature(state: SweepState, live: dict[str, list[tuple[float, float]]]) -> tuple:
    """What changes when anything drawn changes (a refresh skips an unchanged sweep)."""
    return (state.status, tuple((t.number, t.status, t.objective, len(t.steps))
                                for t in state.trials),
            tuple((job, len(points)) for job, points in sorted(live.items())))
