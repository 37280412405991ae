"""The sweep's figure as SVG drawn by matplotlib, for viewers without plotly (nbviewer,
GitHub, nbconvert) and for live views where no browser draws plotly.

The same three panels, colours and titles as the plotly figure (``sweep_figure.py``):
best objective so far, each trial's objective over steps, and parallel coordinates
(each axis scaled to its range, ticked with its values; the objective last).
"""

from __future__ import annotations

import math
from typing import Any

from .chart_model import fmt
from .static_figure import GRID, MUTED, WIDTH_IN, canvas, to_svg
from .sweep_figure import RUNNING_GREY, SCALE, colour_at, curve_colours, titles
from .sweep_model import Dimension, SweepState, best_so_far, curves, dimensions

HEIGHT_IN = 6.4


def svg(state: SweepState, live: dict[str, list[tuple[float, float]]] | None = None) -> str:
    """The figure as one ``<svg>`` element."""
    found = curves(state, live)
    first, second, lower = titles(state)
    with canvas(WIDTH_IN, HEIGHT_IN) as figure:
        grid = figure.add_gridspec(2, 2, height_ratios=(1, 1))
        best_ax = figure.add_subplot(grid[0, 0])
        steps_ax = figure.add_subplot(grid[0, 1])
        lines_ax = figure.add_subplot(grid[1, :])
        xs, ys = best_so_far(state)
        best_ax.step(xs, ys, where="post", color=SCALE[3], linewidth=1.8)
        done = [t for t in state.trials if t.status == "Completed" and t.objective is not None]
        best_ax.scatter([t.number for t in done], [t.objective for t in done], s=14,
                        color=RUNNING_GREY, zorder=3)
        if state.best is not None:
            best_ax.scatter([state.best.number], [state.best.objective], marker="*", s=120,
                            color=SCALE[-1], edgecolor=SCALE[0], zorder=4)
        best_ax.set_xlabel("trial")
        best_ax.xaxis.get_major_locator().set_params(integer=True)
        colours = curve_colours(found, state.maximize)
        for c in found:
            steps_ax.plot(c.x, c.y, color=colours[c.job], linewidth=2.6 if c.best else 1.2)
        steps_ax.set_xlabel("step")
        for ax, title in ((best_ax, first), (steps_ax, second), (lines_ax, lower)):
            ax.set_title(title, loc="left", fontsize=10)
        for ax in (best_ax, steps_ax):
            ax.grid(True, color=GRID, linewidth=0.6)
        parallel(lines_ax, state)
        return to_svg(figure)


def parallel(ax: Any, state: SweepState) -> None:
    """Parallel coordinates on one axes: x the dimensions, y each scaled to [0, 1]."""
    axes, drawn = dimensions(state)
    ax.set_xlim(-0.2, len(axes) - 0.8)
    ax.set_ylim(-0.08, 1.08)
    ax.set_yticks([])
    ax.set_xticks(range(len(axes)), [d.label for d in axes], fontsize=9)
    for side in ("left", "right", "top", "bottom"):
        ax.spines[side].set_visible(False)
    scaled = [scale(d) for d in axes]
    objective = scaled[-1]
    for i in range(len(drawn)):
        ys = [column[i] for column in scaled]
        if any(math.isnan(y) for y in ys):
            continue
        better = objective[i] if state.maximize else 1 - objective[i]
        ax.plot(range(len(axes)), ys, color=colour_at(better), linewidth=1.4, alpha=0.9)
    for x, d in enumerate(axes):
        ax.axvline(x, color=MUTED, linewidth=0.8)
        for tick, label in ticks(d):
            ax.text(x + 0.03, tick, label, fontsize=7, color=MUTED, va="center")


def bounds(d: Dimension) -> tuple[float, float]:
    if d.range is not None:
        return d.range
    finite = [v for v in d.values if not math.isnan(v)]
    return (min(finite), max(finite)) if finite else (0.0, 1.0)


def scale(d: Dimension) -> list[float]:
    low, high = bounds(d)
    span = high - low
    return [0.5 if span == 0 else (v - low) / span for v in d.values]


def ticks(d: Dimension) -> list[tuple[float, str]]:
    """(height in [0, 1], label) of an axis's ticks: its own, else its ends."""
    low, high = bounds(d)
    span = (high - low) or 1.0
    if d.tickvals is not None:
        return [((v - low) / span, t) for v, t in zip(d.tickvals, d.ticktext or [],
                                                      strict=True)]
    return [(0.0, fmt(low)), (1.0, fmt(high))] if high > low else [(0.5, fmt(low))]
