"""SageMaker ``MetricDefinitions`` semantics, the one copy (standard library only).

The first capture group of a definition's regex is the value; a capture that is not a
number is dropped, as the service drops it.  Without definitions, the built-in ones for
the common names (loss, accuracy and their validation forms) apply.  This file runs
beside a job without the package (``metric_points.py`` imports it as a sibling), and the
package's ``metrics.py`` imports it, so the kernel and the job folder's parser agree.

The built-in patterns hold no nested or adjacent unbounded repeats (``\\s*[:=]?\\s*``
tried every split of a run of spaces: quadratic), so each runs in time linear in the
line; each starts with a one-character lookahead for its first letter, so the many
lookbehinds run only where a name may start (a 1 MiB line takes milliseconds).
A user's pattern may still backtrack without end: ``metric_points.py`` runs them under a
watchdog, and :class:`Rules` reports which line and definition it is on.
"""

from __future__ import annotations

import re
from collections.abc import MutableSequence, Sequence
from typing import NamedTuple

#: a number as training scripts print it: ``-2``, ``.5``, ``97.``, ``1.5e-3``
NUM = r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
#: between a name and its value: a closing quote, then spaces, then ``:`` or ``=`` and
#: spaces; the runs of spaces are possessive (nothing after them can start with a space),
#: so a long run is read once, never split two ways
SEP = r"['\"]?\s*+(?:[:=]\s*+)?"
EVAL = r"(?:val|valid|validation|eval|test)"
# "val loss", "val/loss", "test-acc" belong to the validation metrics, not these ("val_loss"
# and "val.loss" are excluded by the (?<![\w.]) before the name).
EVAL_SEP = "[_ /-]"
NOT_EVAL = "".join(f"(?<!{w}{sep})" for w in ("val", "valid", "validation", "eval", "test")
                   for sep in " /-")
DEFAULT_METRICS: tuple[tuple[str, str], ...] = (
    ("loss", rf"(?i)(?=[lt])(?<![\w.]){NOT_EVAL}(?:train[_ ])?loss{SEP}{NUM}"),
    ("accuracy", rf"(?i)(?=[at])(?<![\w.]){NOT_EVAL}(?:train[_ ])?acc(?:uracy)?{SEP}{NUM}"),
    ("val_loss", rf"(?i)(?=[vet])\b{EVAL}{EVAL_SEP}loss{SEP}{NUM}"),
    ("val_accuracy", rf"(?i)(?=[vet])\b{EVAL}{EVAL_SEP}acc(?:uracy)?{SEP}{NUM}"),
)
STEP = re.compile(rf"(?i)(?=[esi])\b(?:epoch|step|iter(?:ation)?){SEP}(\d+)")
#: definitions a progress mark can tell apart (SageMaker allows 40)
MAX_DEFINITIONS = 64


class MetricPoint(NamedTuple):
    timestamp: float
    host: str
    metric: str
    value: float
    step: float | None = None


#: a hit: (index of the line in the batch, index of the definition, value, its text)
Hit = tuple[int, int, float, str]


class Rules:
    """Compiled definitions, each with the literal text every match of it contains.

    Most lines hold no metric, so each definition first checks, with a plain substring
    test, for the longest literal its regex requires (``loss`` in ``loss=([0-9.]+)``) and
    runs the regex only where that literal occurs; a regex that starts with its literal
    (after ``\\b`` or ``^``) is searched from the literal's first occurrence on."""

    def __init__(self, definitions: Sequence[tuple[str, str]] | None = None):
        defs = list(definitions) if definitions else list(DEFAULT_METRICS)
        if len(defs) > MAX_DEFINITIONS:
            raise ValueError(f"at most {MAX_DEFINITIONS} metric definitions")
        self.definitions = [(name, re.compile(regex)) for name, regex in defs]
        self.names = [name for name, _ in defs]
        self._checks = [(regex, *required_literal(regex), leading_literal(regex))
                        for _, regex in self.definitions]
        self.folds = any(fold for _, _, fold, _ in self._checks)

    def hits(self, messages: Sequence[str], folded: Sequence[str] | None = None,
             first_line: int = 0, mark: MutableSequence[int] | None = None,
             off: dict[int, int] | None = None) -> list[Hit]:
        """Every definition's first match on each line, in line then definition order.

        ``folded`` holds the messages case-folded (needed when ``self.folds``).  Before
        each regex call ``mark[0]`` is set to ``(first_line + i) * MAX_DEFINITIONS + d``,
        so a watchdog knows which line and definition a stuck call is on.  A definition
        in ``off`` is applied only to lines numbered below its value."""
        mark = mark if mark is not None else [0]
        out: list[Hit] = []
        count = len(messages)
        for index, (regex, literal, fold, lead) in enumerate(self._checks):
            stop = count if off is None or index not in off else min(
                count, max(0, off[index] - first_line))
            texts = folded if fold and folded is not None else messages
            if stop < count:
                texts = texts[:stop]
            candidates = ([i for i, text in enumerate(texts) if literal in text] if literal
                          else range(stop))
            base = first_line * MAX_DEFINITIONS + index
            search = regex.search
            for i in candidates:
                text = messages[i]
                mark[0] = base + i * MAX_DEFINITIONS
                m = search(text, text.find(lead)) if lead else search(text)
                if m:
                    try:
                        raw = m.group(1)
                        out.append((i, index, float(raw), raw))
                    except (TypeError, ValueError, IndexError):
                        continue  # SageMaker drops non-numeric captures too
        out.sort(key=_line_of)  # stable: definition order stays within a line
        return out


def _line_of(hit: Hit) -> int:
    return hit[0]


def leading_literal(regex: re.Pattern[str]) -> str:
    """The literal every match of ``regex`` starts with, after zero-width ``\\b``/``^``
    (``""`` when it starts otherwise or ignores case): a search may start where that
    literal first occurs."""
    try:
        import re._constants as c
        import re._parser as sre

        parsed = sre.parse(regex.pattern, regex.flags)
    except Exception:
        return ""
    if parsed.state.flags & re.IGNORECASE:
        return ""
    lead = ""
    for op, arg in parsed:
        if op is c.AT and not lead and arg in (c.AT_BEGINNING, c.AT_BEGINNING_STRING,
                                                c.AT_BOUNDARY):
            continue
        if op is not c.LITERAL:
            break
        lead += chr(arg)
    return lead


def required_literal(regex: re.Pattern[str]) -> tuple[str, bool]:
    """The longest run of literal text every match of ``regex`` contains, and whether to
    compare it case-folded; ``("", False)`` when nothing is certain."""
    try:  # the stdlib's own regex parser (sre_parse); private, so any failure → no filter
        import re._parser as sre

        parsed = sre.parse(regex.pattern, regex.flags)
    except Exception:
        return "", False
    runs: list[str] = []
    _literal_runs(parsed, runs)
    fold = bool(parsed.state.flags & re.IGNORECASE)
    longest = max(runs, key=len, default="")
    return (longest.casefold(), True) if fold else (longest, False)


def _literal_runs(items, runs: list[str]) -> None:
    """Collect runs of consecutive literals at the top level and in plain groups."""
    import re._constants as c

    run = ""
    for op, arg in items:
        if op is c.LITERAL:
            run += chr(arg)
            continue
        if op is c.AT:  # \b, ^, $ consume nothing: the run goes on
            continue
        runs.append(run)
        run = ""
        if op is c.SUBPATTERN and not arg[1] and not arg[2]:  # a group without scoped flags
            _literal_runs(arg[3], runs)
    runs.append(run)


def step_of(message: str) -> float | None:
    """The epoch/step/iteration number on a line, when it names one."""
    text = step_text(message)
    return float(text) if text else None


def step_text(message: str) -> str:
    """The digits of the line's epoch/step/iteration number (``""`` when none)."""
    m = STEP.search(message)
    return m.group(1) if m else ""
