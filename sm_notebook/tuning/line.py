"""``%%sm_tune``'s own options, taken out of the expanded line before the rest is read as
``%%sm_train``'s (pure): every training option is the base of each trial."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..line.expand import ExpandedLine
from .objective import TuningOptions, parse_objective
from .ranges import check_ranges, parse_range, ranges_from_mapping
from .search import STRATEGIES

#: flag → (takes several, the accepted form)
FLAGS: dict[str, tuple[bool, str]] = {
    "--hp-range": (True, "NAME=int:MIN:MAX|float:MIN:MAX|log:MIN:MAX|cat:A,B,..."),
    "--hp-ranges": (True, "FILE.yaml or $dict of NAME: range"),
    "--objective": (False, "Maximize|Minimize:METRIC"),
    "--max-jobs": (False, "a whole number ≥ 1"),
    "--max-parallel": (False, "a whole number ≥ 1"),
    "--strategy": (False, "|".join(STRATEGIES)),
    "--early-stopping": (False, "off|auto"),
    "--warm-start": (False, "PARENT[,PARENT...] (earlier sweeps' names)"),
    "--seed": (False, "a whole number"),
}


def split_tuning(line: ExpandedLine) -> tuple[dict[str, list[str]], ExpandedLine]:
    """The tuning flags' values (as given) and the line without them."""
    given: dict[str, list[str]] = {}
    rest: list[str] = []
    args = list(line.args)
    while args:
        word = args.pop(0)
        flag, eq, inline = word.partition("=") if word.startswith("--") else (word, "", "")
        if flag not in FLAGS:
            rest.append(word)
            continue
        if not eq:
            if not args or args[0].startswith("--"):
                raise SpecError(flag, f"expected a value ({flag} {FLAGS[flag][1]})")
            inline = args.pop(0)
        if given.get(flag) and not FLAGS[flag][0]:
            raise SpecError(flag, "given twice", f"one {flag}")
        given.setdefault(flag, []).append(inline)
    return given, ExpandedLine(rest, line.objects)


def tuning_options(given: dict[str, list[str]], line: ExpandedLine, metrics: list[str],
                   fixed: Mapping[str, Any], sagemaker: bool, base: Path) -> TuningOptions:
    """The sweep's options, checked against the base job (its metrics and --hp)."""
    options = TuningOptions()
    ranges = [parse_range(str(line.resolve(text))) for text in given.get("--hp-range", [])]
    for text in given.get("--hp-ranges", []):
        ranges += ranges_from_mapping(_mapping(line.resolve(text), base))
    check_ranges(ranges, fixed, sagemaker)
    options.ranges = ranges
    if "--objective" not in given:
        raise SpecError("--objective", "a sweep needs an objective",
                        "--objective Maximize:METRIC or Minimize:METRIC, a --metric name")
    options.objective = parse_objective(str(line.resolve(given["--objective"][0])), metrics)
    for flag, attribute in (("--max-jobs", "max_jobs"), ("--max-parallel", "max_parallel"),
                            ("--seed", "seed")):
        if flag in given:
            setattr(options, attribute, _whole(flag, line.resolve(given[flag][0]),
                                               minimum=0 if flag == "--seed" else 1))
    for flag, attribute, choices in (("--strategy", "strategy", STRATEGIES),
                                     ("--early-stopping", "early_stopping", ("off", "auto"))):
        if flag in given:
            value = str(line.resolve(given[flag][0])).lower()
            if value not in choices:
                raise SpecError(flag, f"{value!r} is not one of {', '.join(choices)}",
                                FLAGS[flag][1])
            setattr(options, attribute, value)
    if "--warm-start" in given:
        options.warm_start = [p.strip() for p in str(line.resolve(
            given["--warm-start"][0])).split(",") if p.strip()]
    options.check()
    return options


def _whole(flag: str, value: Any, minimum: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise SpecError(flag, f"expected a whole number, got {value!r}", FLAGS[flag][1]) from None
    if number < minimum:
        raise SpecError(flag, f"expected a whole number ≥ {minimum}, got {number}",
                        FLAGS[flag][1])
    return number


def _mapping(value: Any, base: Path) -> Any:
    """A ``$dict`` as it is; a file name read as YAML (JSON is YAML too)."""
    if isinstance(value, Mapping):
        return value
    path = Path(str(value)).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise SpecError("--hp-ranges", f"{value!r} is neither a dict nor a file",
                        FLAGS["--hp-ranges"][1])
    import yaml

    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise SpecError("--hp-ranges", f"{path.name} is not valid YAML: "
                        f"{' '.join(str(exc).split())}", FLAGS["--hp-ranges"][1]) from None
