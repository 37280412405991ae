"""Search many log lines at C speed, each line with its own semantics (standard library only).

A metric definition applies to one line at a time, as SageMaker applies it, and one
regex call per line costs a Python call per line.  Here a block of lines is joined by
newlines into one text, and a pattern runs through the whole text, so the regex engine
itself skips the lines without a match.  That gives the same matches only when the
pattern cannot tell the text from a line alone, which :func:`scan_form` checks on the
parsed pattern:

- no ``\\A`` or ``\\Z`` (``^`` and ``$`` are compiled multi-line: they match at each
  line's edges, as at a lone line's);
- no lookaround that could see a newline (past a line's edge it would see the next line);
- no possessive repeat or atomic group that could take a newline (it would not give it
  back, and the line's own match would be lost).

A match that runs over a newline is searched again on its line alone, and the search goes
on from the next line.  Only the first match of a line counts.  The scan is used only where
the engine can skip ahead by itself: a pattern that starts with literal text or a set of
characters, or with ``\\b`` and a word (``\\bloss=…`` is searched as ``loss(?<!\\wloss)=…``,
the same matches).  Every other pattern runs line by line, on the lines that hold the
longest literal text its matches all contain (found by ``str.find`` on the whole text).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, MutableSequence
from itertools import accumulate, islice, repeat
from operator import eq

try:  # the stdlib's own regex parser: private, so anything unexpected means "no scan"
    import re._constants as _c
    import re._parser as _sre
except ImportError:  # pragma: no cover - a Python without them
    _c = _sre = None

#: first matches: the lines they are on (indices in the block, ascending), and the text
#: of each one's group 1 (None where the group took no part)
Found = tuple[list[int], list["str | None"]]
_WORD = re.compile(r"[A-Za-z0-9_]+")
_START, _GROUP, _PLUS_ONE = re.Match.start, re.Match.group, (1).__add__


class Block:
    """Lines to search: their messages, and the messages joined by newlines."""

    def __init__(self, messages: list[str], text: str | None = None):
        self.messages = messages
        self.text = "\n".join(messages) if text is None else text
        #: a message holds a newline itself: the text's lines are not the messages, so
        #: every search runs on the messages one at a time
        self.one_at_a_time = self.text.count("\n") != max(len(messages) - 1, 0)
        self._folded: str | None = None
        self._ends: list[int] | None = None

    @property
    def line_ends(self) -> list[int]:
        """Where each line's successor starts in the text (the line of position ``p`` is
        ``bisect_right(line_ends, p)``)."""
        if self._ends is None:
            self._ends = list(accumulate(map(_PLUS_ONE, map(len, self.messages))))
        return self._ends

    @property
    def folded(self) -> str:
        """The text case-folded (its lengths may differ, its newlines do not)."""
        if self._folded is None:
            self._folded = fold_case(self.text)
        return self._folded


class LinePattern:
    """One regex, searched line by line through a :class:`Block`.

    ``first_matches`` sets ``mark[0]`` before each regex call: ``base + line * stride``
    while it searches one line, ``~(base + line * stride)`` while it scans the text from
    that line on, so a watchdog can tell where a call that never returns is stuck."""

    def __init__(self, regex: re.Pattern[str]):
        self.regex = regex
        self.literal, self.fold = required_literal(regex)
        self.lead = leading_literal(regex)
        self.scan, self.spans_lines = scan_form(regex)
        self.before = None if self.lead or self.fold else literal_start_bound(regex)

    def first_matches(self, block: Block, stop: int | None = None,
                      mark: MutableSequence[int] | None = None, base: int = 0,
                      stride: int = 1, line_by_line: bool = False) -> list[Found]:
        """Each line's first match before line ``stop``."""
        count = len(block.messages)
        stop = count if stop is None else min(stop, count)
        mark = mark if mark is not None else [0]
        if stop <= 0 or self.regex.groups < 1:
            return [], []
        if self.scan is None or line_by_line or block.one_at_a_time:
            return self.on_lines(block, self.candidates(block, stop), mark, base, stride)
        if self.spans_lines:
            return self._scanned(block, stop, mark, base, stride)
        return self._scanned_at_once(block, stop, mark, base)

    def on_lines(self, block: Block, lines: Iterable[int],
                 mark: MutableSequence[int] | None = None, base: int = 0,
                 stride: int = 1) -> list[Found]:
        """The first match of each of these lines, searched one line at a time."""
        mark = mark if mark is not None else [0]
        messages, search, lead = block.messages, self.regex.search, self.lead
        literal, before = self.literal, self.before
        found: Found = ([], [])
        for line in lines:
            text = messages[line]
            mark[0] = base + line * stride
            if lead:
                m = search(text, text.find(lead))
            elif before is not None and (at := text.find(literal)) > 0:
                # no match starts before the run of characters that can precede the
                # literal's first occurrence
                other = before.search(text[at - 1::-1])
                m = search(text, at - other.start() if other else 0)
            else:
                m = search(text)
            if m:
                found[0].append(line)
                found[1].append(m.group(1))
        return found

    def candidates(self, block: Block, stop: int) -> Iterable[int]:
        """The lines before ``stop`` that hold the pattern's literal (all of them when it
        has none)."""
        if not self.literal:
            return range(stop)
        if block.one_at_a_time:
            messages, literal = block.messages, self.literal
            return [i for i in range(stop)
                    if literal in (fold_case(messages[i]) if self.fold else messages[i])]
        text = block.folded if self.fold else block.text
        find, newlines, literal = text.find, text.count, self.literal
        lines: list[int] = []
        pos = line = 0
        while (at := find(literal, pos)) >= 0:
            line += newlines("\n", pos, at)
            if line >= stop:
                break
            lines.append(line)
            pos = find("\n", at) + 1
            if not pos:
                break
            line += 1
        return lines

    def _scanned_at_once(self, block: Block, stop: int, mark: MutableSequence[int],
                         base: int) -> Found:
        """A pattern whose matches hold no newline: the whole text in one call, and the
        matches' lines found at C speed."""
        mark[0] = ~base
        matches = list(self.scan.finditer(block.text))
        starts = list(map(_START, matches))
        lines = list(map(bisect_right, repeat(block.line_ends), starts))
        groups = list(map(_GROUP, matches, repeat(1)))
        if lines and lines[-1] >= stop:
            cut = bisect_left(lines, stop)
            del lines[cut:], groups[cut:]
        if any(map(eq, lines, islice(lines, 1, None))):  # a line's later matches: dropped
            firsts = [i for i, line in enumerate(lines) if not i or line != lines[i - 1]]
            lines, groups = [lines[i] for i in firsts], [groups[i] for i in firsts]
        return lines, groups

    def _scanned(self, block: Block, stop: int, mark: MutableSequence[int], base: int,
                 stride: int) -> Found:
        """A pattern whose matches may hold a newline: each such match is searched again
        on its line alone, and the scan goes on from the next line."""
        text, messages = block.text, block.messages
        newlines, find, finditer = text.count, text.find, self.scan.finditer
        checks, alone = self.spans_lines, self.regex.search
        found: Found = ([], [])
        pos = line = 0
        last = -1
        while True:
            mark[0] = ~(base + line * stride)
            for m in finditer(text, pos):
                start = m.start()
                line += newlines("\n", pos, start)
                pos = start
                if line >= stop:
                    return found
                spans = checks and find("\n", start, m.end()) >= 0
                if line != last:
                    last = line
                    first = m if not spans else alone(messages[line])
                    if first is not None:
                        found[0].append(line)
                        found[1].append(first.group(1))
                    mark[0] = ~(base + (line + 1) * stride)
                if spans:  # the rest of the scan would start inside a later line
                    pos, line = find("\n", start) + 1, line + 1
                    break
            else:
                return found


def scan_form(regex: re.Pattern[str]) -> tuple[re.Pattern[str] | None, bool]:
    """The multi-line pattern that scans a block's text with ``regex``'s per-line
    matches (None where there is none), and whether a match of ``regex`` may hold a
    newline (then each is checked)."""
    parsed = _parsed(regex)
    if parsed is None:
        return None, True
    flags = parsed.state.flags
    spans = _may_match_newline(parsed, flags)
    if not parsed.data or not _line_safe(parsed, flags) or flags & re.IGNORECASE:
        return None, spans
    op, arg = parsed.data[0]
    source = regex.pattern
    if op in (_c.LITERAL, _c.IN):  # the engine skips to its literal prefix or charset
        pass
    elif op is _c.AT and arg is _c.AT_BOUNDARY and len(parsed.data) > 1 \
            and parsed.data[1][0] is _c.LITERAL:
        word = _WORD.match(leading_literal(regex))
        if word is None or not source.startswith("\\b" + word[0]):
            return None, spans
        word = word[0]  # \bWORD: WORD, then "no word character before it"
        source = rf"{word}(?<!\w{word}){source[2 + len(word):]}"
    else:
        return None, spans
    try:
        return re.compile(source, regex.flags | re.MULTILINE), spans
    except re.error:
        return None, spans


def literal_start_bound(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """For a pattern ``X L Y`` whose required literal ``L`` is at its top level, and whose
    ``X`` can match only characters of a known set: a pattern for one character outside
    that set.  A match then starts no earlier than just after the last such character
    before ``L``'s first occurrence on the line (a match holds some occurrence of ``L``, and
    everything before it in the match is in the set).  None where that cannot be said."""
    parsed = _parsed(regex)
    literal, fold = required_literal(regex)
    if parsed is None or not literal or fold:
        return None
    run, start = "", 0
    for index, (op, arg) in enumerate(parsed.data):
        if op is _c.LITERAL:
            if not run:
                start = index
            run += chr(arg)
            if run == literal:
                break
        elif op is not _c.AT:
            run = ""
    else:
        return None  # the literal is inside a group
    classes: list[str] = []
    if not start or not _character_classes(parsed.data[:start], classes):
        return None
    try:
        return re.compile(f"[^{''.join(classes)}]", regex.flags & re.ASCII)
    except re.error:
        return None


_CLASS_OF = {} if _c is None else {
    _c.CATEGORY_DIGIT: r"\d", _c.CATEGORY_NOT_DIGIT: r"\D", _c.CATEGORY_WORD: r"\w",
    _c.CATEGORY_NOT_WORD: r"\W", _c.CATEGORY_SPACE: r"\s", _c.CATEGORY_NOT_SPACE: r"\S"}


def _character_classes(items, classes: list[str]) -> bool:
    """Add, as the inside of a ``[...]``, every character these items can match; False
    where that is not known (any character, a negated set, a lookaround, a reference)."""
    for op, arg in items:
        if op is _c.LITERAL:
            classes.append(re.escape(chr(arg)))
        elif op is _c.IN:
            for item, value in arg:
                if item is _c.LITERAL:
                    classes.append(re.escape(chr(value)))
                elif item is _c.RANGE:
                    classes.append(f"{re.escape(chr(value[0]))}-{re.escape(chr(value[1]))}")
                elif item is _c.CATEGORY and value in _CLASS_OF:
                    classes.append(_CLASS_OF[value])
                else:
                    return False
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            if not _character_classes(arg[2], classes):
                return False
        elif op is _c.SUBPATTERN:
            if arg[1] or arg[2] or not _character_classes(arg[3], classes):
                return False
        elif op is _c.BRANCH:
            if not all(_character_classes(branch, classes) for branch in arg[1]):
                return False
        elif op is not _c.AT:
            return False
    return True


def _parsed(regex: re.Pattern[str]):
    if _sre is None:
        return None
    try:
        return _sre.parse(regex.pattern, regex.flags)
    except Exception:  # a pattern the private parser reads otherwise: no scan
        return None


def _children(op, arg, flags: int) -> list[tuple[object, int]]:
    """The sub-patterns of one parsed item, each with the flags in force there."""
    if op is _c.SUBPATTERN:
        return [(arg[3], (flags | arg[1]) & ~arg[2])]
    if op is _c.BRANCH:
        return [(p, flags) for p in arg[1]]
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        return [(arg[2], flags)]
    if op is _c.ATOMIC_GROUP:
        return [(arg, flags)]
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return [(arg[1], flags)]
    if op is _c.GROUPREF_EXISTS:
        return [(p, flags) for p in arg[1:] if p is not None]
    return []


def _line_safe(items, flags: int) -> bool:
    """No ``\\A``/``\\Z``, and no lookaround that could see a newline."""
    for op, arg in items:
        if op is _c.AT and arg in (_c.AT_BEGINNING_STRING, _c.AT_END_STRING):
            return False
        if op in (_c.ASSERT, _c.ASSERT_NOT) and _may_match_newline(arg[1], flags):
            return False
        # a possessive repeat or an atomic group keeps a newline it took, where a line
        # alone would have ended it: the match the line has is then not found
        if (op is _c.POSSESSIVE_REPEAT and _may_match_newline(arg[2], flags)) \
                or (op is _c.ATOMIC_GROUP and _may_match_newline(arg, flags)):
            return False
        if not all(_line_safe(sub, f) for sub, f in _children(op, arg, flags)):
            return False
    return True


def _may_match_newline(items, flags: int) -> bool:
    """Whether some part of the pattern could match a newline character."""
    for op, arg in items:
        if (op is _c.LITERAL and arg == 10) or (op is _c.NOT_LITERAL and arg != 10):
            return True
        if op is _c.ANY and flags & re.DOTALL:
            return True
        if op is _c.IN and _set_has_newline(arg):
            return True
        if any(_may_match_newline(sub, f) for sub, f in _children(op, arg, flags)):
            return True
    return False


_NEWLINE_IN = frozenset() if _c is None else frozenset(  # categories "\n" belongs to
    (_c.CATEGORY_SPACE, _c.CATEGORY_NOT_DIGIT, _c.CATEGORY_NOT_WORD, _c.CATEGORY_LINEBREAK))
_NEWLINE_OUT = frozenset() if _c is None else frozenset(
    (_c.CATEGORY_NOT_SPACE, _c.CATEGORY_DIGIT, _c.CATEGORY_WORD, _c.CATEGORY_NOT_LINEBREAK))


def _set_has_newline(items) -> bool:
    negated = bool(items) and items[0][0] is _c.NEGATE
    covered = False
    for op, arg in items[1:] if negated else items:
        if op is _c.LITERAL:
            covered = covered or arg == 10
        elif op is _c.RANGE:
            covered = covered or arg[0] <= 10 <= arg[1]
        elif op is _c.CATEGORY:
            if arg not in _NEWLINE_IN and arg not in _NEWLINE_OUT:
                return True
            covered = covered or arg in _NEWLINE_IN
        else:
            return True  # something this does not know: assume the worst
    return covered != negated


def leading_literal(regex: re.Pattern[str]) -> str:
    """The literal every match of ``regex`` starts with, after zero-width ``\\b``/``^``
    (``""`` when it starts otherwise or ignores case): a search may start where that
    literal first occurs."""
    parsed = _parsed(regex)
    if parsed is None or parsed.state.flags & re.IGNORECASE:
        return ""
    lead = ""
    for op, arg in parsed:
        if op is _c.AT and not lead and arg in (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING,
                                                 _c.AT_BOUNDARY):
            continue
        if op is not _c.LITERAL:
            break
        lead += chr(arg)
    return lead


def required_literal(regex: re.Pattern[str]) -> tuple[str, bool]:
    """The longest run of literal text every match of ``regex`` contains, and whether to
    compare it case-folded; ``("", False)`` when nothing is certain."""
    parsed = _parsed(regex)
    if parsed is None:
        return "", False
    runs: list[str] = []
    _literal_runs(parsed, runs)
    fold = bool(parsed.state.flags & re.IGNORECASE)
    longest = max(runs, key=len, default="")
    return (fold_case(longest), True) if fold else (longest, False)


def fold_case(text: str) -> str:
    """``text`` case-folded so that whatever ``re.IGNORECASE`` takes for the same text
    folds the same: ``casefold`` keeps "ı" and makes "İ" an "i" with a combining dot,
    where the regex engine takes both for "i"."""
    return text.casefold().replace("\u0307", "").replace("\u0131", "i")


def _literal_runs(items, runs: list[str]) -> None:
    """Collect runs of consecutive literals at the top level and in plain groups."""
    run = ""
    for op, arg in items:
        if op is _c.LITERAL:
            run += chr(arg)
            continue
        if op is _c.AT:  # \b, ^, $ consume nothing: the run goes on
            continue
        runs.append(run)
        run = ""
        if op is _c.SUBPATTERN and not arg[1] and not arg[2]:  # no scoped flags
            _literal_runs(arg[3], runs)
    runs.append(run)
