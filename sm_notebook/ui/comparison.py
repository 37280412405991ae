"""A comparison of jobs as plain outputs, under the snapshot's rules (``snapshot.py``).

- the chart: the jobs' metrics on shared per-metric subplots (train / validation forms
  paired as in a job's own chart), one colour per job, dash per metric; plotly's JSON for
  JupyterLab and VS Code, matplotlib's SVG beside it for nbviewer, GitHub and nbconvert;
- the table: one row per job, in the chart's colours, with its status, each hyperparameter
  (those that differ first, marked) and each final metric value.

No widget and no plotly.js: what is shown is what a saved notebook keeps.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from ..compare_runs import Run, differing
from .chart_model import chart, fmt
from .series import DEFAULT_MAX_POINTS, SeriesBuffer, Trace
from .snapshot import Part, chart_bundle
from .text import aligned
from .theme import source_class, stylesheet

CELL = "padding:2px 10px;text-align:left;white-space:nowrap"
#: a differing hyperparameter: bold, with a bar in the muted tone (no colour to read)
MARK = "font-weight:700;box-shadow:inset 3px 0 0 var(--smnb-muted)"


def comparison_traces(runs: Sequence[Run], max_points: int = DEFAULT_MAX_POINTS
                      ) -> list[Trace]:
    """One trace per run and metric, its source the run's name.  By step when every run
    logs a step on every metric line, else by seconds since each run's own first point
    (runs made at different times line up from their starts)."""
    by_step = all(p.step is not None for run in runs for p in run.points)
    out: list[Trace] = []
    for run in runs:
        buffer = SeriesBuffer(max_points)
        buffer.add(p._replace(host=run.name, step=p.step if by_step else None)
                   for p in run.points)
        out += buffer.traces()
    return out


def comparison_parts(runs: Sequence[Run], dark: bool = False) -> list[Part]:
    """The chart (when any job has a metric point) and the table."""
    names = [run.name for run in runs]
    model = chart(comparison_traces(runs), sources=names, source_kind="job")
    parts = [Part(chart_bundle(model, dark))] if model.lines else []
    return [*parts, Part({"text/plain": table_text(runs), "text/html": table_html(runs)})]


def columns(runs: Sequence[Run]) -> tuple[list[str], list[str], list[str]]:
    """(differing hyperparameters, the same ones, final metrics), each in first-seen order."""
    changed = differing(runs)
    every = list(dict.fromkeys(k for run in runs for k in run.hyperparameters))
    metrics = list(dict.fromkeys(m for run in runs for m in run.final))
    return changed, [k for k in every if k not in changed], metrics


def table_html(runs: Sequence[Run]) -> str:
    changed, same, metrics = columns(runs)
    heads = ["job", "status", *changed, *same, *metrics]
    marked = set(changed)
    head = "".join(f'<th style="{CELL}{";" + MARK if h in marked and i > 1 else ""}">'
                   f"{html.escape(h)}</th>" for i, h in enumerate(heads))
    rows = []
    for slot, run in enumerate(runs):
        cells = [f'<td class="{source_class(slot)}" style="{CELL};font-weight:600">'
                 f"{html.escape(run.name)}</td>", f'<td style="{CELL}">'
                 f"{html.escape(run.status)}</td>"]
        for name in (*changed, *same):
            style = CELL + (";" + MARK if name in marked else "")
            cells.append(f'<td style="{style}">'
                         f"{html.escape(_text(run.hyperparameters.get(name)))}</td>")
        cells += [f'<td style="{CELL}">{_number(run.final.get(m))}</td>' for m in metrics]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    note = (f'<div class="smnb-muted" style="font-size:11px">marked: the hyperparameters '
            f"that differ ({html.escape(', '.join(changed))})</div>" if changed else
            '<div class="smnb-muted" style="font-size:11px">the hyperparameters are the same'
            "</div>")
    return (f'{stylesheet()}<div class="smnb-comparison"><table style="border-collapse:'
            f'collapse;font-size:12px"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}'
            f"</tbody></table>{note}</div>")


def table_text(runs: Sequence[Run]) -> str:
    """The table as text, for frontends without HTML; differing names starred."""
    changed, same, metrics = columns(runs)
    heads = ["job", "status", *(f"{h}*" for h in changed), *same, *metrics]
    rows = [[run.name, run.status,
             *(_text(run.hyperparameters.get(h)) for h in (*changed, *same)),
             *(_number(run.final.get(m)) for m in metrics)] for run in runs]
    lines = aligned([heads, *rows])
    return "\n".join(lines + (["* differs between the jobs"] if changed else []))


def table_rows(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """The table's rows as values (for a DataFrame)."""
    changed, same, metrics = columns(runs)
    return [{"job": run.name, "mode": run.mode, "status": run.status,
             **{h: run.hyperparameters.get(h) for h in (*changed, *same)},
             **{m: run.final.get(m) for m in metrics}} for run in runs]


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else repr(value)


def _number(value: float | None) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else fmt(value)


class Comparison:
    """What ``%sm_compare`` and ``sm_notebook.compare`` return: shown as the chart and the
    table; ``table`` is the same as a DataFrame, ``runs`` what was read."""

    def __init__(self, runs: Sequence[Run], dark: bool = False):
        self.runs = list(runs)
        self.parts = comparison_parts(self.runs, dark)

    @property
    def table(self) -> Any:
        import pandas as pd

        return pd.DataFrame(table_rows(self.runs)).set_index("job")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for part in self.parts:
            display(part)

    def __repr__(self) -> str:
        return table_text(self.runs)


def compare(jobs: Sequence[Any], jobs_root: Any = None, dark: bool | None = None
            ) -> Comparison:
    """Compare jobs (handles or names): their metrics on shared subplots, one colour per
    job, and their hyperparameters and final metrics side by side.  ``dark``: draw for a
    dark page (default: as the page was when a dashboard last saw it)."""
    from pathlib import Path

    from ..compare_runs import load_runs
    from ..jobs import jobs_dir_from
    from .theme_probe import last_reported

    root = Path(jobs_root) if jobs_root is not None else jobs_dir_from(None)
    return Comparison(load_runs(list(jobs), root), last_reported() if dark is None else dark)
