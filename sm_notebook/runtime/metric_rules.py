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
from itertools import repeat
from typing import NamedTuple

try:  # imported as part of the package (the kernel, tests)
    from .line_search import Block, LinePattern
except ImportError:  # run as a file beside the job: its siblings are on the path
    from line_search import Block, LinePattern  # type: ignore[no-redef]

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
STEP_BODY = rf"(?=[esi])\b(?:epoch|step|iter(?:ation)?){SEP}(\d+)"
STEP = re.compile(f"(?i){STEP_BODY}")
#: STEP on every line of a text at once, one match a line (empty where the line names no
#: step), so ``findall`` lists each line's step in one call: the first position of the line
#: where STEP matches, as ``STEP.search`` finds it, with SEP's spaces short of the newline
STEP_PER_LINE = re.compile(
    "(?im)^(?:[^\n]*?" + STEP_BODY.replace(r"\s", r"[^\S\n]") + ")?[^\n]*$")
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
#: one definition's values: the lines they are on (indices in the batch, ascending), each
#: value, and each value's text as printed
Values = tuple[list[int], list[float], list[str]]


class Rules:
    """Compiled definitions, each searched through a whole batch of lines at once
    (``line_search.py``: a regex run per line only where the batch's text cannot be
    scanned as one)."""

    def __init__(self, definitions: Sequence[tuple[str, str]] | None = None):
        defs = list(definitions) if definitions else list(DEFAULT_METRICS)
        if len(defs) > MAX_DEFINITIONS:
            raise ValueError(f"at most {MAX_DEFINITIONS} metric definitions")
        self.definitions = [(name, re.compile(regex)) for name, regex in defs]
        self.names = [name for name, _ in defs]
        self.patterns = [LinePattern(regex) for _, regex in self.definitions]

    def values(self, block: Block, first_line: int = 0,
               mark: MutableSequence[int] | None = None, off: dict[int, int] | None = None,
               line_by_line: Sequence[int] = ()) -> list[Values]:
        """Each definition's first match on each line, where it is a number.

        Before each regex call ``mark[0]`` is set as :class:`LinePattern` says, with the
        line numbered from ``first_line`` and ``MAX_DEFINITIONS`` times it plus the
        definition's index, so a watchdog knows which line and definition a stuck call is
        on.  A definition in ``off`` is applied only to lines numbered below its value; one
        whose ``line_by_line`` entry is true is never scanned as one text."""
        out = []
        for index, pattern in enumerate(self.patterns):
            stop = None if not off or index not in off else max(0, off[index] - first_line)
            lines, texts = pattern.first_matches(
                block, stop, mark, first_line * MAX_DEFINITIONS + index, MAX_DEFINITIONS,
                index < len(line_by_line) and bool(line_by_line[index]))
            out.append(_numbers(lines, texts))
        return out

    def hits(self, messages: list[str], first_line: int = 0,
             mark: MutableSequence[int] | None = None,
             off: dict[int, int] | None = None) -> list[Hit]:
        """Every definition's first match on each line, in line then definition order."""
        per_definition = self.values(Block(messages), first_line, mark, off)
        out = [hit for index, (lines, values, texts) in enumerate(per_definition)
               for hit in zip(lines, repeat(index), values, texts)]
        out.sort(key=_line_of)  # stable: definition order stays within a line
        return out


def _numbers(lines: list[int], texts: list) -> Values:
    """The captures that are numbers (SageMaker drops the others too)."""
    try:
        return lines, list(map(float, texts)), texts
    except (TypeError, ValueError):
        kept: Values = ([], [], [])
        for line, text in zip(lines, texts, strict=True):
            try:
                value = float(text)
            except (TypeError, ValueError):
                continue
            kept[0].append(line)
            kept[1].append(value)
            kept[2].append(text)
        return kept


def _line_of(hit: Hit) -> int:
    return hit[0]


def step_of(message: str) -> float | None:
    """The epoch/step/iteration number on a line, when it names one."""
    text = step_text(message)
    return float(text) if text else None


def step_texts(messages: list[str]) -> list[str]:
    """:func:`step_text` of each message, in one regex call for all of them."""
    steps = STEP_PER_LINE.findall("\n".join(messages))
    if len(steps) != len(messages):  # a message holding a newline itself
        return [step_text(message) for message in messages]
    return steps


def step_text(message: str) -> str:
    """The digits of the line's epoch/step/iteration number (``""`` when none)."""
    m = STEP.search(message)
    return m.group(1) if m else ""
