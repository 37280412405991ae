"""Which hyperparameters the next trial gets (pure, but for Optuna, imported lazily).

Every strategy is asked the same two things: ``suggest()`` (the next trial's values, None
when the search has nothing left) and ``tell(values, objective)`` (a trial's result,
None when it failed).  Random and grid are exact and repeat with the same seed; Bayesian
is Optuna's TPE sampler seeded likewise, told each result as the sweep learns it.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

from ..errors import SpecError
from .ranges import Range

STRATEGIES = ("random", "grid", "bayesian", "hyperband")


def draw(r: Range, rng: random.Random) -> Any:
    """One value of ``r``: uniform, or uniform in the log for log-scaled ranges."""
    if r.kind == "cat":
        return rng.choice(r.values)
    if r.kind == "int":
        if r.scaling == "Logarithmic":
            return min(int(r.high), int(math.exp(rng.uniform(math.log(r.low),
                                                             math.log(r.high + 1)))))
        return rng.randint(int(r.low), int(r.high))
    if r.scaling == "Logarithmic":
        return math.exp(rng.uniform(math.log(r.low), math.log(r.high)))
    if r.scaling == "ReverseLogarithmic":
        return 1 - math.exp(rng.uniform(math.log(1 - r.high), math.log(1 - r.low)))
    return rng.uniform(r.low, r.high)


def grid(ranges: list[Range]) -> list[dict[str, Any]]:
    """Every combination of the ranges' values, in order (int and cat ranges only, as
    SageMaker's Grid strategy)."""
    floats = [r.name for r in ranges if r.kind in ("float", "log")]
    if floats:
        raise SpecError("--strategy", f"grid search takes int and cat ranges only "
                        f"({', '.join(floats)} is continuous)",
                        "int:MIN:MAX or cat:A,B,... ranges, or --strategy random|bayesian")
    axes = [list(r.values) if r.kind == "cat" else list(range(int(r.low), int(r.high) + 1))
            for r in ranges]
    return [dict(zip([r.name for r in ranges], combo, strict=True))
            for combo in itertools.product(*axes)]


def grid_size(ranges: list[Range]) -> float:
    return math.prod(r.size for r in ranges)


class Search:
    """The random search, and the base of the others."""

    def __init__(self, ranges: list[Range], max_jobs: int, seed: int | None = None):
        self.ranges, self.max_jobs = ranges, max_jobs
        self.rng = random.Random(seed)
        self.suggested = 0

    def suggest(self) -> dict[str, Any] | None:
        if self.suggested >= self.max_jobs:
            return None
        self.suggested += 1
        return self._next()

    def _next(self) -> dict[str, Any]:
        return {r.name: draw(r, self.rng) for r in self.ranges}

    def tell(self, values: dict[str, Any], objective: float | None) -> None:
        """A trial's result (random search learns nothing from it)."""

    def warm(self, values: dict[str, Any], objective: float) -> None:
        """A parent sweep's result, known before the first trial (``--warm-start``)."""


class GridSearch(Search):
    def __init__(self, ranges: list[Range], max_jobs: int, seed: int | None = None):
        super().__init__(ranges, max_jobs, seed)
        self.points = grid(ranges)
        if len(self.points) > max_jobs:
            raise SpecError("--max-jobs", f"the grid has {len(self.points)} points, more "
                            f"than --max-jobs {max_jobs}",
                            f"--max-jobs {len(self.points)}, or fewer values")
        self.max_jobs = len(self.points)

    def _next(self) -> dict[str, Any]:
        return self.points[self.suggested - 1]


class BayesianSearch(Search):
    """Optuna's TPE sampler (imported when a Bayesian sweep starts, not before)."""

    def __init__(self, ranges: list[Range], max_jobs: int, seed: int | None = None,
                 maximize: bool = True):
        super().__init__(ranges, max_jobs, seed)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        self.study = optuna.create_study(
            direction="maximize" if maximize else "minimize",
            sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(5, max_jobs)))
        self.asked: dict[str, Any] = {}  # the values' key → Optuna's trial

    def _next(self) -> dict[str, Any]:
        trial = self.study.ask()
        values = {r.name: self._ask(trial, r) for r in self.ranges}
        self.asked[_key(values)] = trial
        return values

    def _ask(self, trial: Any, r: Range) -> Any:
        if r.kind == "cat":
            return trial.suggest_categorical(r.name, list(r.values))
        log = r.scaling == "Logarithmic"
        if r.kind == "int":
            return trial.suggest_int(r.name, int(r.low), int(r.high), log=log)
        return trial.suggest_float(r.name, r.low, r.high, log=log)

    def warm(self, values: dict[str, Any], objective: float) -> None:
        """A parent's trial, added to the study as if it had run here."""
        dists = self._distributions()
        params = {k: v for k, v in values.items() if k in dists}
        if len(params) != len(dists):
            return  # a parent without one of the ranges says nothing of this space
        try:
            self.study.add_trial(self.optuna.trial.create_trial(
                params=params, distributions=dists, value=objective))
        except ValueError:
            return  # a value outside this sweep's ranges

    def _distributions(self) -> dict[str, Any]:
        d = self.optuna.distributions
        out: dict[str, Any] = {}
        for r in self.ranges:
            log = r.scaling == "Logarithmic"
            if r.kind == "cat":
                out[r.name] = d.CategoricalDistribution(list(r.values))
            elif r.kind == "int":
                out[r.name] = d.IntDistribution(int(r.low), int(r.high), log=log)
            else:
                out[r.name] = d.FloatDistribution(r.low, r.high, log=log)
        return out

    def tell(self, values: dict[str, Any], objective: float | None) -> None:
        trial = self.asked.pop(_key(values), None)
        if trial is None:
            return
        if objective is None:
            self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(trial, objective)


def _key(values: dict[str, Any]) -> str:
    return repr(sorted(values.items()))


def search_for(strategy: str, ranges: list[Range], max_jobs: int, seed: int | None,
               maximize: bool) -> Search:
    """The strategy's search; hyperband samples as random search does, and stops trials
    by their per-step objective as the sweep runs them."""
    if strategy == "grid":
        return GridSearch(ranges, max_jobs, seed)
    if strategy == "bayesian":
        return BayesianSearch(ranges, max_jobs, seed, maximize)
    if strategy in ("random", "hyperband"):
        return Search(ranges, max_jobs, seed)
    raise SpecError("--strategy", f"unknown strategy {strategy!r}", "|".join(STRATEGIES))
