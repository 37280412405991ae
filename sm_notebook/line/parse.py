"""The magic line → a spec and launch options: the whole of what ``%%sm_train`` parses.

Each option's value is read by the kind its declaration names (``line.grammar``); what
is left to this module is the line as a whole: the variable name, empty values, and the
``%config`` defaults, applied by what the mode's table entry says it takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import hyperparameters as hp
from .. import modes
from ..cellscript import check_cell
from ..checks import MULTILINE, check_printable
from ..errors import SpecError
from ..spec import MULTILINE_FIELDS, TrainingSpec
from .argv import parse_args, stray_value
from .expand import PLACEHOLDER, ExpandedLine, expand_line
from .grammar import OPTIONS, SPEC_OPTIONS, Option
from .values import Reading, as_text, parse_duration

__all__ = ["Defaults", "LaunchOptions", "build_spec", "parse_duration", "parse_expanded",
           "parse_line", "stray_value"]


@dataclass
class LaunchOptions:
    """How to launch (not part of the job's description)."""

    variable: str | None = None
    wait: bool = False
    quiet: bool = False
    form: bool = False
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)
    frames: dict[str, Any] = field(default_factory=dict)  # channel → DataFrame, as CSV


@dataclass
class Defaults:
    """``%config`` defaults applied where the line says nothing."""

    mode: str = modes.DEFAULT
    region: str | None = None
    role: str | None = None
    image: str | None = None
    instance_type: str | None = None
    hp_style: str = hp.DEFAULT_STYLE


def parse_line(line: str, cell: str, namespace: Mapping[str, Any], defaults: Defaults,
               base: Path) -> tuple[TrainingSpec, LaunchOptions]:
    """The magic's line and cell → a validated spec and the launch options (with the
    validation notes); :class:`SpecError`, naming the option, on any bad input."""
    return parse_expanded(expand_line(line, namespace), cell, defaults, base)


def parse_expanded(expanded: ExpandedLine, cell: str, defaults: Defaults,
                   base: Path) -> tuple[TrainingSpec, LaunchOptions]:
    """An expanded line (``%%sm_tune``'s, its own options taken out) → a validated spec."""
    spec, launch = build_spec(parse_args(expanded), expanded, cell, defaults, base)
    launch.notes = spec.validate(base)
    check_cell(spec.cell, spec.entry_script)
    return spec, launch


def build_spec(args: Any, line: ExpandedLine, cell: str, defaults: Defaults | None = None,
               base_dir: Path | None = None) -> tuple[TrainingSpec, LaunchOptions]:
    """Interpret parsed options (``argparse.Namespace``) into a spec and launch options
    (not validated: ``TrainingSpec.validate`` does that)."""
    base = base_dir or Path.cwd()
    _check_values_given(args, line)
    variable = _variable(args, line)
    frames: dict[str, Any] = {}
    given: dict[str, Any] = {}
    for opt in SPEC_OPTIONS:
        raw = getattr(args, opt.dest)
        if opt.kind.parse is None or raw is None:
            continue  # read with another option, or not given: the spec's default
        reading = Reading(opt.flag, opt.expected or opt.metavar or "", args, line, base, frames)
        given[opt.field] = opt.kind.parse(reading, raw)
    values = given | _defaults(given, defaults or Defaults())
    spec = TrainingSpec(cell=cell, **values)
    launch = LaunchOptions(variable=variable, wait=args.wait, quiet=args.quiet, form=args.form,
                           dry_run=args.dry_run, frames=frames)
    return spec, launch


def _defaults(given: dict[str, Any], d: Defaults) -> dict[str, Any]:
    """The mode (said, implied by a local_* instance type, or configured) and the
    ``%config`` defaults for what the line left out, where that mode takes them."""
    implied = modes.implied_by(given.get("instance_type") or d.instance_type)
    mode = given.get("mode") or (implied.name if implied else d.mode)
    out: dict[str, Any] = {"mode": mode, "region": given.get("region") or d.region,
                           "hp_style": given.get("hp_style") or d.hp_style}
    entry = modes.MODES.get(mode)  # an unknown mode is refused by validation
    if entry is None:
        return out
    if "instance_type" not in given and not entry.describes_instance_only:
        out["instance_type"] = d.instance_type
    if not given.get("image") and entry.takes_image:
        out["image"] = d.image
    if not given.get("role") and entry.takes_role:
        out["role"] = d.role
    return out


_KEYWORDS = {"None", "True", "False", "and", "or", "not", "in", "is", "if", "else", "for", "def",
             "class", "return", "import", "from", "lambda", "with", "as", "try", "while", "pass"}


def _variable(args: Any, line: ExpandedLine) -> str | None:
    """The name the job handle is bound to: the first word only, a Python name."""
    if args.variable is not None and line.args[0] != args.variable:
        raise stray_value(args.variable, line)
    if not args.variable:
        return None
    variable = as_text(line.resolve(args.variable))
    if not variable.isidentifier() or variable in _KEYWORDS:
        raise SpecError("variable", f"{variable!r} is not a valid Python name",
                        "an optional variable name before the options, e.g. %%sm_train job")
    return variable


def _check_values_given(args: Any, line: ExpandedLine) -> None:
    """An option given an empty value (``--mode ''``, ``--region $blank``) is an error, never
    silently the default; a control character is refused before any message shows it."""
    for opt in OPTIONS:
        if opt.kind.flag:
            continue
        given = getattr(args, opt.dest)
        allowed = MULTILINE if opt.field in MULTILINE_FIELDS else ""
        for raw in given if isinstance(given, list) else [given]:
            value = None if raw is None else line.resolve(raw)
            if isinstance(value, str) and not value.strip():
                raise SpecError(opt.flag, "empty value", _usage(opt))
            if isinstance(raw, str):  # the line's own text; objects: the spec's check
                text = PLACEHOLDER.sub("", raw)
                check_printable(opt.flag, shown(text), text, allowed)


def shown(value: str, limit: int = 40) -> str:
    """A value in a message: escaped (``repr``), and cut when long."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…"


def _usage(opt: Option) -> str:
    return f"{opt.flag} {opt.metavar or 'VALUE'}"
