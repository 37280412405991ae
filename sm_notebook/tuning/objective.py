"""``--objective Maximize|Minimize:METRIC`` and the tuning options that go with it (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError
from .ranges import Range

OBJECTIVE_EXPECTED = "Maximize:METRIC or Minimize:METRIC, METRIC one of the --metric names"


@dataclass(frozen=True)
class Objective:
    type: str  # Maximize or Minimize
    metric: str

    @property
    def maximize(self) -> bool:
        return self.type == "Maximize"

    def better(self, a: float, b: float) -> bool:
        """Whether ``a`` beats ``b``."""
        return a > b if self.maximize else a < b


def parse_objective(text: str, metrics: list[str]) -> Objective:
    """The objective, whose metric must be one the job defines (``--metric``)."""
    kind, sep, metric = text.partition(":")
    kind = {"maximize": "Maximize", "minimize": "Minimize"}.get(kind.lower(), "")
    if not sep or not kind or not metric:
        raise SpecError("--objective", f"{text!r} is not an objective", OBJECTIVE_EXPECTED)
    if metric not in metrics:
        defined = ", ".join(metrics) or "none: add --metric NAME='regex'"
        raise SpecError("--objective", f"{metric!r} is not a defined metric (defined: "
                        f"{defined})", OBJECTIVE_EXPECTED)
    return Objective(kind, metric)


@dataclass
class TuningOptions:
    """What ``%%sm_tune`` adds to ``%%sm_train``'s options."""

    ranges: list[Range] = field(default_factory=list)
    objective: Objective | None = None
    max_jobs: int = 10
    max_parallel: int = 1
    strategy: str = "bayesian"
    early_stopping: str = "off"  # off | auto
    warm_start: list[str] = field(default_factory=list)
    seed: int | None = None

    def check(self) -> None:
        if self.objective is None:
            raise SpecError("--objective", "a sweep needs an objective", OBJECTIVE_EXPECTED)
        if self.max_parallel > self.max_jobs:
            raise SpecError("--max-parallel", f"{self.max_parallel} is above --max-jobs "
                            f"{self.max_jobs}", "--max-parallel ≤ --max-jobs")

    def to_dict(self) -> dict[str, Any]:
        return {"ranges": [r.__dict__ for r in self.ranges],
                "objective": self.objective.__dict__ if self.objective else None,
                "max_jobs": self.max_jobs, "max_parallel": self.max_parallel,
                "strategy": self.strategy, "early_stopping": self.early_stopping,
                "warm_start": self.warm_start, "seed": self.seed}
