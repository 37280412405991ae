"""``job.log`` records taken apart in bulk (standard library only).

A record is ``stamp<TAB>host<TAB>stream<TAB>message``, and a supervisor writes the lines
it read together under one stamp, so a block of the log is a few runs of records that
share their first three fields.  Each run loses that shared head with one ``str.replace``,
so a million records become one text of messages in a few calls at C speed, instead of a
million splits.  Records that do not fall into such runs (a message with no head, one
head recurring after another) are split one by one.
"""

from __future__ import annotations

from itertools import chain
from typing import NamedTuple

try:  # imported as part of the package (the kernel, tests)
    from .line_search import Block
except ImportError:  # run as a file beside the job: its siblings are on the path
    from line_search import Block  # type: ignore[no-redef]


class Run(NamedTuple):
    first_line: int  # the index, in the block, of the run's first record
    stamp: str
    host: str


class Records(NamedTuple):
    block: Block  # the messages
    runs: list[Run]  # by first line; each record belongs to the last run starting at or before it


def split_records(text: str) -> Records:
    """The whole records of ``text`` (it ends with the last one's newline)."""
    pieces: list[list[str]] = []
    runs: list[Run] = []
    pos = line = 0
    while pos < len(text):
        end = text.find("\n", pos)
        third = pos - 1
        for _ in range(3):  # the head: the record up to its third tab
            third = text.find("\t", third + 1, end)
            if third < 0:
                return _one_by_one(text)
        head = text[pos:third + 1]
        stop = _run_end(text, pos, end, head)
        messages = ("\n" + text[pos:stop - 1]).split("\n" + head)
        del messages[0]  # what came before the first head: nothing
        pieces.append(messages)
        stamp, host = head.split("\t", 2)[:2]
        runs.append(Run(line, stamp, host))
        line, pos = line + len(messages), stop
    block = Block(pieces[0] if len(pieces) == 1 else list(chain.from_iterable(pieces)))
    if block.one_at_a_time:  # a record of a run without its head: it holds a newline
        return _one_by_one(text)
    return Records(block, runs)


def _run_end(text: str, pos: int, end: int, head: str) -> int:
    """Where the run of records with ``head`` that starts at ``pos`` (its first record
    ends at ``end``) ends: the window searched grows until the record after the last one
    found has another head."""
    window, marker = 1 << 16, "\n" + head
    while True:
        limit = min(len(text), pos + window)
        last = text.rfind(marker, pos, limit)
        stop = end + 1 if last < 0 else text.find("\n", last + len(marker)) + 1
        if limit == len(text) or stop >= len(text) or not text.startswith(head, stop):
            return stop
        window *= 4


def _one_by_one(text: str) -> Records:
    rows = [row.split("\t", 3) for row in text.split("\n")]
    rows.pop()
    rows = [row if len(row) == 4 else ["", "", "", ""] for row in rows]  # not a record
    runs = [Run(i, row[0], row[1]) for i, row in enumerate(rows)
            if not i or row[:2] != rows[i - 1][:2]]
    return Records(Block([row[3] for row in rows]), runs)
