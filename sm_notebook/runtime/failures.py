"""Why a training script failed, read from what it left (standard library only).

The supervisors fill ``failure_reason`` from these as the service does: the script's
``/opt/ml/output/failure`` file, else the traceback or last error line on its stderr.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

OWN_LINE_PREFIX = "sm_notebook: "  # lines the supervisors write themselves

_RANK_PREFIX = re.compile(r"^\[(?:default)?rank\d+\]:\s?")
_MPI_TAG = re.compile(r"\[\d+,(\d+)\]<(?:stdout|stderr|stddiag)>:")  # mpirun --tag-output
_FRAME = re.compile(r'\s*File "(.+)", line (\d+)')
_SYNTAX_ERROR = re.compile(r"^(SyntaxError|IndentationError|TabError): ")


def failure_from_traceback(lines: list[str], entry_point: str) -> str | None:
    """``ValueError: boom (train.py, line 12)`` from the tracebacks on stderr.

    torchrun prefixes a worker's lines with ``[rankN]:`` and then prints its own launcher
    traceback, so the last traceback through the entry script wins over a later one.
    """
    lines = _one_rank(lines)
    lines = [_RANK_PREFIX.sub("", line) for line in lines]
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent")]
    if not starts:
        return _syntax_error(lines)
    blocks = [lines[a:b] for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]
    in_script = [b for b in blocks if any(_frame_file(ln) == entry_point for ln in b)]
    block = (in_script or blocks)[-1]
    frames = [i for i, line in enumerate(block) if _FRAME.match(line)]
    if not frames:
        return None
    error = next((ln for ln in block[frames[-1] + 1:] if ln and not ln[0].isspace()), None)
    if error is None:
        return None
    where = None
    for line in block:
        m = _FRAME.match(line)
        if m and Path(m.group(1)).name == entry_point:
            where = f"{entry_point}, line {m.group(2)}"
    return f"{error} ({where})" if where else error


def _one_rank(lines: list[str]) -> list[str]:
    """Under ``mpirun --tag-output`` the ranks' lines interleave, each tagged
    ``[1,RANK]<stderr>:`` (inside a line too, where a write was split): the lines of the
    first rank with a traceback, untagged (all of them, untagged, when none has one)."""
    ranks: dict[str, list[str]] = {}
    for line in lines:
        tag = _MPI_TAG.search(line)
        if tag is not None:
            ranks.setdefault(tag.group(1), []).append(_MPI_TAG.sub("", line))
    if not ranks:
        return lines
    failing = [rank for rank, said in ranks.items()
               if any(line.startswith("Traceback (most recent") for line in said)]
    return ranks[failing[0]] if failing else [_MPI_TAG.sub("", line) for line in lines]


def _syntax_error(lines: list[str]) -> str | None:
    """A script that does not compile gets no ``Traceback`` header, only its location."""
    for i in range(len(lines) - 1, 0, -1):
        if _SYNTAX_ERROR.match(lines[i]):
            frame = next((_FRAME.match(ln) for ln in reversed(lines[max(0, i - 4):i])
                          if _FRAME.match(ln)), None)
            where = f" ({Path(frame.group(1)).name}, line {frame.group(2)})" if frame else ""
            return lines[i] + where
    return None


def _frame_file(line: str) -> str | None:
    m = _FRAME.match(line)
    return Path(m.group(1)).name if m else None


# "error:" or "FATAL", or an exception's name; not "0 errors found"
_ERROR_WORD = re.compile(r"(?i:\b(?:error|fatal)\b)|\w(?:Error|Exception)\b")


def last_error_line(lines: list[str]) -> str | None:
    """The last stderr line that reads as an error (else the last non-empty one), as the
    training toolkit's ``ExecuteUserScriptError`` quotes it: an argparse exit (code 2)
    says only ``train.py: error: argument ...``, with no traceback."""
    lines = [_RANK_PREFIX.sub("", line).strip() for line in lines]
    lines = [line for line in lines if line and not line.startswith(OWN_LINE_PREFIX)]
    return next((ln for ln in reversed(lines) if _ERROR_WORD.search(ln)),
                lines[-1] if lines else None)


# ``/opt/ml`` itself, not a job folder's ``.../<job>/opt/ml`` (local mode's tree)
OPT_ML = re.compile(r"(?:^|[\s'\"(\[=:,])/opt/ml(?![\w.-])")
EMPTY_ERROR_MESSAGE = 'ErrorMessage ""'  # the toolkit's ExecuteUserScriptError, no message
OPT_ML_HINT = "local mode points SM_* at the job folder; /opt/ml paths need --mode container"


def filled_in(text: str, lines: list[str]) -> str:
    """The toolkit's failure file quotes the script's error only when it recognises an
    exception name (``ErrorMessage ""`` for an argparse exit): the script's last error
    line (of its stderr ``lines``) goes in its place."""
    if EMPTY_ERROR_MESSAGE not in text:
        return text
    report = next((i for i, line in enumerate(lines)  # the toolkit's own report after it
                   if " sagemaker-training-toolkit ERROR " in line), len(lines))
    detail = last_error_line(lines[:report])
    if not detail:
        return text
    return text.replace(EMPTY_ERROR_MESSAGE, f"ErrorMessage {json.dumps(detail)}", 1)
