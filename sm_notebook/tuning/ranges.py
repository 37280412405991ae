"""Hyperparameter ranges, as ``--hp-range`` and ``--hp-ranges`` give them (pure).

``NAME=int:MIN:MAX``, ``float:MIN:MAX``, ``log:MIN:MAX`` (a float range searched on a log
scale) or ``cat:A,B,...``; a fourth field sets SageMaker's scaling of a numeric range
(``linear``, ``log`` or ``reverse``, for ReverseLogarithmic).  Every check is here, so a
sweep that starts has ranges SageMaker would take too: each error is one line naming the
option and the accepted form.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError

KINDS = ("int", "float", "log", "cat")
SCALINGS = {"auto": "Auto", "linear": "Linear", "log": "Logarithmic",
            "reverse": "ReverseLogarithmic"}
EXPECTED = ("NAME=int:MIN:MAX, NAME=float:MIN:MAX, NAME=log:MIN:MAX or NAME=cat:A,B,... "
            "(a fourth field linear|log|reverse sets the scaling)")
NAME_RE = re.compile(r"^[A-Za-z_][\w.\-:]{0,255}$")
SAGEMAKER_MAX = 30  # ranges of one kind in a tuning job
MAX_VALUES = 30  # values of one categorical range (SageMaker's limit)


@dataclass(frozen=True)
class Range:
    """One hyperparameter's range."""

    name: str
    kind: str  # int, float, log or cat
    low: float = 0.0
    high: float = 0.0
    values: tuple[str, ...] = ()
    scaling: str = "Auto"

    @property
    def sagemaker_kind(self) -> str:
        """Which of the tuning job's ParameterRanges lists holds it."""
        return {"int": "Integer", "cat": "Categorical"}.get(self.kind, "Continuous")

    @property
    def size(self) -> float:
        """How many values it holds (infinite for a float range)."""
        if self.kind == "cat":
            return len(self.values)
        if self.kind == "int":
            return int(self.high) - int(self.low) + 1
        return math.inf

    def describe(self) -> str:
        if self.kind == "cat":
            return f"{self.name} in {{{', '.join(self.values)}}}"
        return f"{self.name} {self.kind} [{_number(self.low)}, {_number(self.high)}]"


def parse_range(text: str, option: str = "--hp-range") -> Range:
    """``NAME=KIND:...`` → a checked :class:`Range`."""
    name, sep, spec = text.partition("=")
    if not sep or not name:
        raise SpecError(option, f"{text!r} has no NAME=", EXPECTED)
    return range_from(name.strip(), spec.strip(), option)


def range_from(name: str, spec: Any, option: str) -> Range:
    """One range from its text (``log:1e-4:1e-1``), a list (categories) or a mapping
    (``{"type": "int", "min": 2, "max": 8}``), as ``--hp-ranges`` files write them."""
    if not NAME_RE.match(name):
        raise SpecError(option, f"{name!r} is not a hyperparameter name", EXPECTED)
    if isinstance(spec, (list, tuple)):
        return _categorical(name, [str(v) for v in spec], option)
    if isinstance(spec, Mapping):
        kind = str(spec.get("type", ""))
        if kind == "cat":
            return _categorical(name, [str(v) for v in spec.get("values") or []], option)
        spec = ":".join(str(spec[k]) for k in ("type", "min", "max", "scaling") if k in spec)
    if not isinstance(spec, str):
        raise SpecError(option, f"{name}: {spec!r} is not a range", EXPECTED)
    kind, _, rest = spec.partition(":")
    if kind not in KINDS:
        raise SpecError(option, f"{name}: unknown range kind {kind!r}", EXPECTED)
    if kind == "cat":
        return _categorical(name, [v.strip() for v in rest.split(",")], option)
    return _numeric(name, kind, rest.split(":"), option)


def _categorical(name: str, values: list[str], option: str) -> Range:
    if any(not v for v in values):
        raise SpecError(option, f"{name}: an empty category", "cat:A,B,... with no empty value")
    if len(set(values)) != len(values):
        raise SpecError(option, f"{name}: a category is listed twice", "distinct values")
    if len(values) < 2:
        raise SpecError(option, f"{name}: a category list needs two values or more (one "
                        "value is a fixed hyperparameter: --hp)", "cat:A,B,...")
    if len(values) > MAX_VALUES:
        raise SpecError(option, f"{name}: {len(values)} categories; SageMaker takes at "
                        f"most {MAX_VALUES}", f"at most {MAX_VALUES} values")
    return Range(name, "cat", values=tuple(values))


def _numeric(name: str, kind: str, parts: list[str], option: str) -> Range:
    expected = f"{kind}:MIN:MAX[:linear|log|reverse]"
    if len(parts) not in (2, 3):
        raise SpecError(option, f"{name}: {kind} takes MIN and MAX", expected)
    try:
        low, high = (int(p) if kind == "int" else float(p) for p in parts[:2])
    except ValueError:
        number = "whole numbers" if kind == "int" else "numbers"
        raise SpecError(option, f"{name}: MIN and MAX must be {number}, got "
                        f"{parts[0]!r} and {parts[1]!r}", expected) from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise SpecError(option, f"{name}: MIN and MAX must be finite", expected)
    if low >= high:
        raise SpecError(option, f"{name}: the range is empty or inverted ({_number(low)} ≥ "
                        f"{_number(high)})", f"{kind}:MIN:MAX with MIN < MAX")
    scaling = "Logarithmic" if kind == "log" else "Auto"
    if len(parts) == 3:
        if parts[2] not in SCALINGS:
            raise SpecError(option, f"{name}: unknown scaling {parts[2]!r}", expected)
        scaling = SCALINGS[parts[2]]
    if scaling == "Logarithmic" and low <= 0:
        raise SpecError(option, f"{name}: a log range must be positive (MIN > 0, got "
                        f"{_number(low)})", f"{kind}:MIN:MAX with 0 < MIN < MAX")
    if scaling == "ReverseLogarithmic" and not (low >= 0 and high < 1):
        raise SpecError(option, f"{name}: a reverse-log range must lie in [0, 1)",
                        f"{kind}:MIN:MAX with 0 ≤ MIN < MAX < 1")
    return Range(name, kind, float(low), float(high), scaling=scaling)


def ranges_from_mapping(mapping: Any, option: str = "--hp-ranges") -> list[Range]:
    """``--hp-ranges FILE.yaml`` or ``$dict``: ``{name: "log:1e-4:1e-1", ...}``."""
    if not isinstance(mapping, Mapping) or not mapping:
        raise SpecError(option, "not a mapping of hyperparameter names to ranges",
                        "a YAML file or dict such as {lr: 'log:1e-4:1e-1', opt: [adam, sgd]}")
    return [range_from(str(name), spec, option) for name, spec in mapping.items()]


def check_ranges(ranges: list[Range], fixed: Mapping[str, Any], sagemaker: bool) -> None:
    """No range twice, none also fixed with ``--hp``, and SageMaker's limits."""
    seen: set[str] = set()
    for r in ranges:
        if r.name in seen:
            raise SpecError("--hp-range", f"{r.name} is given two ranges", "one range a name")
        seen.add(r.name)
        if r.name in fixed:
            raise SpecError("--hp-range", f"{r.name} is both fixed (--hp) and ranged",
                            "either --hp or --hp-range for a hyperparameter")
    if not ranges:
        raise SpecError("--hp-range", "a sweep needs at least one range", EXPECTED)
    if sagemaker:
        for kind in ("Integer", "Continuous", "Categorical"):
            count = sum(r.sagemaker_kind == kind for r in ranges)
            if count > SAGEMAKER_MAX:
                raise SpecError("--hp-range", f"{count} {kind.lower()} ranges; a SageMaker "
                                f"tuning job takes at most {SAGEMAKER_MAX} of each kind",
                                f"at most {SAGEMAKER_MAX} {kind.lower()} ranges")


def _number(value: float) -> str:
    return f"{value:g}"
