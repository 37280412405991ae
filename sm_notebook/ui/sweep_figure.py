"""The sweep dashboard's figure, in plotly's plain dicts (pure: no plotly).

One figure (so one plotly bundle for the live widget): the best objective so far against
the trial number, each trial's objective over steps beside it, and under them the
parallel coordinates of the hyperparameters against the objective.  The live
``FigureWidget`` and the saved ``application/vnd.plotly.v1+json`` are both made from
:func:`figure`.

Colour is the objective, the same scale in the curves and the parallel coordinates, its
bright end the better one (whichever way the sweep optimises); a running trial is grey
until it completes, and the best trial's curve is drawn thicker.
"""

from __future__ import annotations

import math
from typing import Any

from .chart_model import fmt
from .sweep_model import Curve, SweepState, best_so_far, curves, dimensions
from .theme import TONES

#: a perceptual scale (viridis, its palest yellow left out so lines read on white)
SCALE = ("#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187", "#4ac16d", "#a0da39")
#: the same on a dark page: its darkest purples left out, its yellow kept
DARK_SCALE = ("#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725")
RUNNING_GREY = "#8c959f"
HEIGHT = 660
TOP, SPLIT, LOWER = 0.58, 0.5, 0.4  # the upper row's bottom, the columns' split, the lower
GAP = 0.08  # between the two columns of the upper row
UIDS = ("best", "objectives", "parcoords")  # the figure's fixed traces; curves follow


def scale(dark: bool = False) -> tuple[str, ...]:
    return DARK_SCALE if dark else SCALE


def colour_at(fraction: float, dark: bool = False) -> str:
    """The scale's colour at ``fraction`` (0 worst … 1 best), interpolated."""
    stops = scale(dark)
    position = min(max(fraction, 0.0), 1.0) * (len(stops) - 1)
    low = int(position)
    high = min(low + 1, len(stops) - 1)
    mix = position - low
    a, b = (_rgb(stops[low]), _rgb(stops[high]))
    return "#" + "".join(f"{round(x + (y - x) * mix):02x}" for x, y in zip(a, b, strict=True))


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def colourscale(maximize: bool, dark: bool = False) -> list[list[Any]]:
    """plotly's colourscale of the scale, its bright end at the better objective."""
    stops = scale(dark) if maximize else tuple(reversed(scale(dark)))
    return [[i / (len(stops) - 1), c] for i, c in enumerate(stops)]


def curve_colours(found: list[Curve], maximize: bool, dark: bool = False) -> dict[str, str]:
    """Each curve's colour: where its completed objective falls among them all."""
    finals = [c.objective for c in found if c.objective is not None]
    low, high = (min(finals), max(finals)) if finals else (0.0, 0.0)
    out = {}
    for c in found:
        if c.objective is None:
            out[c.job] = RUNNING_GREY
            continue
        fraction = 1.0 if high == low else (c.objective - low) / (high - low)
        out[c.job] = colour_at(fraction if maximize else 1 - fraction, dark)
    return out


def traces(state: SweepState, found: list[Curve], dark: bool = False
           ) -> list[dict[str, Any]]:
    """The fixed traces (best so far, each trial's objective, the parallel coordinates,
    once a trial has completed), then a curve a trial."""
    xs, ys = best_so_far(state)
    done = [t for t in state.trials if t.status == "Completed" and t.objective is not None]
    best = state.best
    out: list[dict[str, Any]] = [
        {"type": "scatter", "uid": "best", "name": "best so far", "mode": "lines+markers",
         "x": xs, "y": ys, "line": {"shape": "hv", "width": 2, "color": SCALE[3]},
         "xaxis": "x", "yaxis": "y", "hovertemplate": "after trial %{x}: %{y:.4g}"
         "<extra>best so far</extra>"},
        {"type": "scatter", "uid": "objectives", "name": "trials", "mode": "markers",
         "x": [t.number for t in done], "y": [t.objective for t in done],
         "text": [t.job for t in done], "xaxis": "x", "yaxis": "y",
         "marker": {"size": [14 if best and t.number == best.number else 7 for t in done],
                    "symbol": ["star" if best and t.number == best.number else "circle"
                               for t in done], "color": RUNNING_GREY},
         "hovertemplate": "%{text}: %{y:.4g}<extra></extra>"}]
    if done:
        axes, drawn = dimensions(state)
        out.append({"type": "parcoords", "uid": "parcoords", "name": "hyperparameters",
                    "domain": {"x": [0.03, 0.92], "y": [0.0, LOWER - 0.06]},
                    "line": {"color": [t.objective for t in drawn],
                             "colorscale": colourscale(state.maximize, dark),
                             "showscale": False},
                    "dimensions": [_dimension(d) for d in axes]})
    colours = curve_colours(found, state.maximize, dark)
    for c in found:
        out.append({"type": "scatter", "uid": f"curve|{c.job}", "name": c.job,
                    "mode": "lines", "x": c.x, "y": c.y, "xaxis": "x2", "yaxis": "y2",
                    "line": {"color": colours[c.job], "width": 3.5 if c.best else 1.6},
                    "hovertemplate": f"{c.job}: %{{y:.4g}} at step %{{x}}<extra></extra>"})
    return out


def _dimension(d: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"label": d.label, "values": d.values}
    if d.range is not None:
        out["range"] = list(d.range)
    if d.tickvals is not None:
        out["tickvals"], out["ticktext"] = d.tickvals, d.ticktext
    return out


def titles(state: SweepState) -> list[str]:
    """The three panels' titles (also the figure's text)."""
    best = state.best
    tail = f": {fmt(best.objective)} ({best.job})" if best is not None else ""
    return [f"best {state.metric} so far{tail}", f"{state.metric} by step",
            f"hyperparameters → {state.metric} (completed trials)"]


def layout(state: SweepState, dark: bool = False) -> dict[str, Any]:
    first, second, lower = titles(state)
    ink = TONES["muted"][1 if dark else 0]
    out: dict[str, Any] = {
        "template": "plotly_dark" if dark else "plotly_white", "autosize": True,
        "height": HEIGHT, "showlegend": False, "hovermode": "closest",
        "margin": {"l": 64, "r": 24, "t": 36, "b": 24},
        "xaxis": {"domain": [0.0, SPLIT - GAP / 2], "anchor": "y",
                  "title": {"text": "trial"}, "tick0": 1,
                  "dtick": max(1, math.ceil(len(state.trials) / 10))},
        "yaxis": {"domain": [TOP, 1.0], "anchor": "x"},
        "xaxis2": {"domain": [SPLIT + GAP / 2, 1.0], "anchor": "y2",
                   "title": {"text": "step"}},
        "yaxis2": {"domain": [TOP, 1.0], "anchor": "x2"},
        "annotations": [
            _title(first, 0.0, 1.0), _title(second, SPLIT + GAP / 2, 1.0),
            _title(lower, 0.0, LOWER + 0.02),
            {"text": "colour: the objective, brighter is better · grey: running",
             "xref": "paper", "yref": "paper", "x": 1.0, "y": LOWER + 0.02,
             "xanchor": "right", "yanchor": "bottom", "showarrow": False,
             "font": {"size": 11, "color": ink}}]}
    if dark:  # the notebook's own background shows through
        out["paper_bgcolor"] = out["plot_bgcolor"] = "rgba(0,0,0,0)"
    return out


def _title(text: str, x: float, y: float) -> dict[str, Any]:
    return {"text": text, "xref": "paper", "yref": "paper", "x": x, "y": y,
            "xanchor": "left", "yanchor": "bottom", "showarrow": False,
            "font": {"size": 13}}


def figure(state: SweepState, live: dict[str, list[tuple[float, float]]] | None = None,
           dark: bool = False) -> dict[str, Any]:
    """The whole figure (``data``, ``layout``); ``live``: running trials' points so far."""
    return {"data": traces(state, curves(state, live), dark), "layout": layout(state, dark)}


def drawable(state: SweepState, live: dict[str, list[tuple[float, float]]]) -> bool:
    """Whether the figure has anything to draw yet (a completed trial, or a step)."""
    return any(t.status == "Completed" and t.objective is not None for t in state.trials) \
        or any(t.steps for t in state.trials) or any(live.values())
