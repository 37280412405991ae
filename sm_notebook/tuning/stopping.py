"""Stopping trials early by their per-step objective (pure).

- ``--early-stopping auto``: the median rule, as SageMaker's Auto early stopping: a running
  trial whose best objective so far is worse than the median of the completed trials'
  best values up to the same step is stopped (once ``MIN_COMPLETED`` trials completed).
- ``--strategy hyperband``: asynchronous successive halving (the rung rule of Hyperband's
  brackets, as Ray Tune's ASHA runs it): at each rung (steps 1, η, η², ...) a trial goes on
  only if it is in the top 1/η of the trials that reached that rung.

A curve is a trial's ``[(step, value), ...]`` as its log gave them (the line's step, or
the value's order where lines name none).
"""

from __future__ import annotations

import math
import statistics

MIN_COMPLETED = 3  # completed trials before the median rule stops anything
ETA = 3  # successive halving keeps the top 1/ETA at each rung
MIN_RUNG_TRIALS = ETA  # trials at a rung before it stops any


def best_until(curve: list[tuple[float, float]], step: float, maximize: bool) -> float | None:
    """The best value logged at or before ``step``."""
    values = [v for s, v in curve if s <= step]
    if not values:
        return None
    return max(values) if maximize else min(values)


def median_stop(curve: list[tuple[float, float]], completed: list[list[tuple[float, float]]],
                maximize: bool) -> str | None:
    """Why the running trial should stop (None to go on), by the median rule."""
    if len(completed) < MIN_COMPLETED or len(curve) < 2:
        return None  # a first step is never judged
    step = curve[-1][0]
    mine = best_until(curve, step, maximize)
    others = [b for c in completed if (b := best_until(c, step, maximize)) is not None]
    if mine is None or len(others) < MIN_COMPLETED:
        return None
    median = statistics.median(others)
    worse = mine < median if maximize else mine > median
    if worse:
        return (f"stopped early at step {step:g}: best {mine:g} is worse than the median "
                f"{median:g} of {len(others)} completed trials")
    return None


def rungs(max_step: float) -> list[float]:
    """Steps 1, η, η², ... up to ``max_step``."""
    out, step = [], 1.0
    while step <= max_step:
        out.append(step)
        step *= ETA
    return out


def halving_stop(curve: list[tuple[float, float]], others: list[list[tuple[float, float]]],
                 maximize: bool) -> str | None:
    """Why the running trial should stop at the rung it just reached (None to go on)."""
    if len(curve) < 2:
        return None
    step = curve[-1][0]
    passed = [r for r in rungs(step) if r > 1 or step > 1]
    if not passed:
        return None
    rung = passed[-1]
    mine = best_until(curve, rung, maximize)
    peers = [b for c in others if c and c[-1][0] >= rung
             and (b := best_until(c, rung, maximize)) is not None]
    if mine is None or len(peers) + 1 < MIN_RUNG_TRIALS:
        return None
    ranked = sorted([*peers, mine], reverse=maximize)
    keep = max(1, math.floor(len(ranked) / ETA))
    cutoff = ranked[keep - 1]
    worse = mine < cutoff if maximize else mine > cutoff
    if worse:
        return (f"stopped early at rung {rung:g}: best {mine:g} is outside the top "
                f"{keep} of {len(ranked)} trials there")
    return None
