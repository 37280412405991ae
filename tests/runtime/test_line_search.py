"""``runtime/line_search.py``: a block of log lines searched at C speed, each line with the
semantics it has alone (a metric definition applies to one line; only a line's first
match counts).  Every fast path is checked against the plain per-line search."""

from __future__ import annotations

import random
import re

import pytest

from sm_notebook.runtime.line_search import (
    Block,
    LinePattern,
    leading_literal,
    literal_start_bound,
    required_literal,
    scan_form,
)

AT_ONCE = "the whole text in one finditer (no match can hold a newline)"
CHECKED = "the whole text, each match that holds a newline searched again on its line"
LINES = "one line at a time (the text cannot be scanned as one)"
NOTHING = "no search at all (no group to take a value from)"

#: (pattern, the path first_matches takes for it)
PATTERNS = [
    (r"loss=([0-9.]+)", AT_ONCE),  # starts with literal text
    (r"\bloss[=:] ?([0-9.eE+-]+)", AT_ONCE),  # \b and a word: rewritten
    (r"[Ll]oss: (\S+)", AT_ONCE),  # starts with a set of characters
    (r"step (\d+)$", AT_ONCE),  # $ is compiled multi-line: each line's end
    (r"x(?=\d)(\d)", AT_ONCE),  # a lookahead that cannot see a newline
    (r"x(?!\S)(.?)", AT_ONCE),
    (r"ß=(\w+)", AT_ONCE),
    (r"ü(\d)|ü", AT_ONCE),  # group 1 may take no part: None
    (r"loss\s*(\d*)", CHECKED),  # \s* may run over the line's end
    (r"acc[^,]*?(\d+)", CHECKED),
    (r"[^=,]=(\d)", CHECKED),
    (r"\bstep\b\s*(\d+)", CHECKED),
    (r"(?s)loss(.)", CHECKED),
    (r"^step (\d+)$", LINES),  # starts with ^
    (r"(?<=\s)x=(\d)", LINES),  # the lookbehind could see the previous line's newline
    (r"\Astep (\d+)", LINES),
    (r"loss=(\d+)\Z", LINES),
    (r"(?i)loss=(\d+)", LINES),  # ignores case
    (r"([0-9.]+) samples/s", LINES),  # a literal in the middle: searched from a bound
    (r"(\S+) it/s", LINES),
    (r"(\d*)x", LINES),  # may match empty text before the x
    (r"(?:loss|acc)[=:](\d+)", LINES),  # starts with alternatives
    (r"(?<!\w)loss=(\d)", LINES),
    (r"\B(\d)x", LINES),
    (r"[^=]+=(\d)", LINES),  # starts with a repeat
    (r"loss=\d+", NOTHING),  # no group: no values at all
]
IDS = [pattern for pattern, _ in PATTERNS]

#: what the lines are made of: the pieces those patterns care about
PIECES = ["loss", "Loss", "LOSS", "acc", "step", "x", "=", ":", ",", " ", " ", "\t", "\u00a0",
          "0", "7", "42", "1.5", "e-3", "+", "-", ".", "samples/s", " samples/s", "it/s",
          " it/s", "a", "b", "_", "ü", "ß", "İ", "ẞ", "\r"]


def per_line(regex: re.Pattern[str], lines: list[str], stop: int | None = None):
    """The reference: SageMaker's semantics, one ``search`` per line."""
    lines = lines if stop is None else lines[:max(stop, 0)]
    found: tuple[list[int], list[str | None]] = ([], [])
    if regex.groups < 1:
        return found
    for index, line in enumerate(lines):
        if m := regex.search(line):
            found[0].append(index)
            found[1].append(m.group(1))
    return found


def random_lines(rng: random.Random, count: int) -> list[str]:
    return ["".join(rng.choices(PIECES, k=rng.randrange(9))) for _ in range(count)]


def taken_path(pattern: LinePattern) -> str:
    if pattern.regex.groups < 1:
        return NOTHING
    if pattern.scan is None:
        return LINES
    return CHECKED if pattern.spans_lines else AT_ONCE


@pytest.mark.parametrize(("regex", "path"), PATTERNS, ids=IDS)
def test_each_pattern_takes_the_path_expected_of_it(regex, path):
    assert taken_path(LinePattern(re.compile(regex))) == path


@pytest.mark.parametrize("line_by_line", [False, True], ids=["as-taken", "forced-per-line"])
@pytest.mark.parametrize(("regex", "path"), PATTERNS, ids=IDS)
def test_first_matches_equal_a_per_line_search_on_random_lines(regex, path, line_by_line):
    """Whichever path a pattern takes, or the per-line one forced, the matches are a
    per-line search's."""
    compiled = re.compile(regex)
    pattern = LinePattern(compiled)
    rng = random.Random(f"lines {regex} {line_by_line}")
    for _ in range(60):
        lines = random_lines(rng, rng.randrange(1, 40))
        assert pattern.first_matches(Block(lines), line_by_line=line_by_line) == per_line(
            compiled, lines), lines


@pytest.mark.parametrize(("regex", "path"), PATTERNS, ids=IDS)
def test_stop_keeps_only_the_matches_of_the_lines_before_it(regex, path):
    compiled = re.compile(regex)
    pattern = LinePattern(compiled)
    rng = random.Random(f"stop {regex}")
    for _ in range(30):
        lines = random_lines(rng, rng.randrange(1, 40))
        block = Block(lines)
        for stop in (-1, 0, 1, rng.randrange(len(lines) + 1), len(lines), len(lines) + 5):
            expected = per_line(compiled, lines, stop)
            assert pattern.first_matches(block, stop) == expected, (stop, lines)
            assert pattern.first_matches(block, stop, line_by_line=True) == expected


def test_only_the_first_match_of_each_line_counts():
    pattern = LinePattern(re.compile(r"loss=(\d+)"))
    assert pattern.first_matches(Block(["loss=1 loss=2", "none", "loss=3loss=4"])) == (
        [0, 2], ["1", "3"])


def test_a_match_running_over_a_newline_is_searched_again_on_its_line_alone():
    pattern = LinePattern(re.compile(r"loss\s*(\d+)"))
    # in the joined text "loss\n12" matches; on its own line "loss" does not
    assert pattern.first_matches(Block(["loss", "12", "loss 3"])) == ([2], ["3"])
    # the search goes on from the next line: its own match there is not lost
    assert pattern.first_matches(Block(["loss", "loss 5 x"])) == ([1], ["5"])


def test_a_lookbehind_that_would_see_the_previous_line_is_not_scanned():
    pattern = LinePattern(re.compile(r"(?<=\s)x=(\d)"))
    # scanned as one text, the "\n" before "x=1" would satisfy (?<=\s)
    assert pattern.first_matches(Block(["a", "x=1", "b x=2"])) == ([2], ["2"])


def test_dollar_means_each_lines_end_and_caret_each_lines_start():
    lines = ["step 1", "step 2 more", "a step 3", "step 4"]
    assert LinePattern(re.compile(r"step (\d+)$")).first_matches(Block(lines)) == (
        [0, 2, 3], ["1", "3", "4"])
    assert LinePattern(re.compile(r"^step (\d+)$")).first_matches(Block(lines)) == (
        [0, 3], ["1", "4"])


def test_word_boundary_before_a_word_is_kept_by_the_rewritten_scan():
    pattern = LinePattern(re.compile(r"\bloss[=:] ?([0-9.eE+-]+)"))
    lines = ["val_loss=1", "loss=2", "xloss: 3", "(loss: 4", "üloss=5", "loss=6"]
    assert pattern.first_matches(Block(lines)) == ([1, 3, 5], ["2", "4", "6"])


def test_a_group_that_takes_no_part_gives_none():
    pattern = LinePattern(re.compile(r"ü(\d)|ü"))
    assert pattern.first_matches(Block(["ü", "ü1", "x"])) == ([0, 1], [None, "1"])


def test_a_pattern_without_a_group_gives_no_values():
    pattern = LinePattern(re.compile(r"loss=\d+"))
    assert pattern.first_matches(Block(["loss=1", "loss=2"])) == ([], [])


def test_an_empty_block_has_no_matches():
    pattern = LinePattern(re.compile(r"loss=(\d+)"))
    assert pattern.first_matches(Block([])) == ([], [])
    assert pattern.first_matches(Block([""])) == ([], [])


def test_messages_that_hold_newlines_are_searched_one_at_a_time():
    block = Block(["a\nloss=1", "loss=2"])
    assert block.one_at_a_time
    for regex in (r"loss=(\d)", r"(?i)LOSS=(\d)", r"^loss=(\d)", r"a\s*loss=(\d)",
                  r"(\d)"):
        compiled = re.compile(regex)
        expected = per_line(compiled, block.messages)
        assert LinePattern(compiled).first_matches(block) == expected, regex
    assert LinePattern(re.compile(r"^loss=(\d)")).first_matches(block) == ([1], ["2"])
    assert LinePattern(re.compile(r"a\sloss=(\d)")).first_matches(block) == ([0], ["1"])


def test_a_block_of_plain_lines_is_not_one_at_a_time():
    assert not Block([]).one_at_a_time
    assert not Block([""]).one_at_a_time
    assert not Block(["a", "", "b\r"]).one_at_a_time
    assert Block(["a", "b\n"]).one_at_a_time


def test_line_ends_are_where_each_next_line_starts():
    block = Block(["ab", "", "cde"])
    assert block.text == "ab\n\ncde"
    assert block.line_ends == [3, 4, 8]


def test_the_per_line_path_marks_the_line_it_searches():
    lines = ["LOSS=1", "x", "loss=2", "y"]
    mark = [0]
    found = LinePattern(re.compile(r"(?i)loss=(\d+)")).first_matches(
        Block(lines), mark=mark, base=5, stride=3)
    assert found == ([0, 2], ["1", "2"])
    assert mark[0] == 5 + 2 * 3  # line 2: the last one holding the literal "loss="


def test_a_forced_per_line_search_marks_its_last_line():
    mark = [0]
    LinePattern(re.compile(r"(\d+)")).first_matches(
        Block(["1", "2", "3", "4"]), stop=3, mark=mark, base=100, stride=64,
        line_by_line=True)
    assert mark[0] == 100 + 2 * 64


def test_the_scan_marks_the_line_it_scans_from_as_a_negative_number():
    mark = [0]
    found = LinePattern(re.compile(r"loss=(\d+)")).first_matches(
        Block(["loss=1", "x", "loss=2"]), mark=mark, base=5, stride=3)
    assert found == ([0, 2], ["1", "2"])
    assert mark[0] == ~5  # the whole text from line 0, in one call

    mark = [0]
    lines = ["loss", "1", "loss 2", "x"]
    found = LinePattern(re.compile(r"loss\s*(\d+)")).first_matches(
        Block(lines), mark=mark, base=5, stride=3)
    assert found == ([2], ["2"])
    assert mark[0] < 0
    assert ~mark[0] in {5 + line * 3 for line in range(len(lines) + 1)}


def test_mark_is_left_alone_when_nothing_is_searched():
    mark = [7]
    LinePattern(re.compile(r"loss=(\d+)")).first_matches(Block(["a", "b"]), stop=0, mark=mark)
    LinePattern(re.compile(r"loss=\d+")).first_matches(Block(["loss=1"]), mark=mark)
    assert mark == [7]


@pytest.mark.parametrize("regex", [
    r"loss=([0-9.]+)", r"[Ll]oss: (\S+)", r"loss\s*(\d*)", r"acc[^,]*?(\d+)",
    r"step (\d+)$", r"x(?!\S)(.?)", r"(?s)loss(.)"])
def test_scan_form_of_a_pattern_that_can_be_scanned_is_it_multi_line(regex):
    scan, _ = scan_form(re.compile(regex))
    assert scan is not None
    assert scan.pattern == regex
    assert scan.flags & re.MULTILINE


def test_scan_form_rewrites_a_word_boundary_before_a_word_as_a_lookbehind():
    scan, spans = scan_form(re.compile(r"\bloss[=:] ?([0-9.eE+-]+)"))
    assert scan is not None
    assert scan.pattern == r"loss(?<!\wloss)[=:] ?([0-9.eE+-]+)"
    assert scan.flags & re.MULTILINE
    assert not spans


@pytest.mark.parametrize("regex", [
    r"(?<=\s)x=(\d)",  # a lookbehind that could see a newline
    r"x(?=\s)(\d)",  # a lookahead that could
    r"x(?!\D)(\d)",
    r"\Astep (\d+)", r"loss=(\d+)\Z", r"loss(?:=|\Z)(\d*)",  # \A, \Z, even nested
    r"(?i)loss=(\d+)", r"^step (\d+)$", r"(\d*)x", r"([0-9.]+) samples/s",
    r"\b[a-z]+=(\d)",  # \b not followed by a word
    r"\b-(\d)",
    r"",
])
def test_scan_form_refuses_a_pattern_the_text_could_tell_from_a_line(regex):
    assert scan_form(re.compile(regex))[0] is None


@pytest.mark.parametrize(("regex", "spans"), [
    (r"\s", True), (r"[^a]", True), (r"\D", True), (r"(?s).", True), (r"\n", True),
    (r"[\t-\r]", True), (r"[^\S]", True), (r"\W", True), (r"(?s:x.)", True),
    (r"[0-9.]+", False), (r"\S+", False), (r".", False), (r"[^\n]", False),
    (r"[^\s]", False), (r"\w\d", False), (r"(?i)loss", False),
])
def test_scan_form_says_whether_a_match_may_hold_a_newline(regex, spans):
    assert scan_form(re.compile(regex))[1] is spans


@pytest.mark.parametrize(("regex", "inside", "outside"), [
    (r"([0-9.]+) samples/s", "7.", " x"),
    (r"(\S+) it/s", "a7ü", " \t"),
    (r"([a-c]+)_(\d) it/s", "abc_9", "d "),
])
def test_literal_start_bound_is_one_character_outside_what_precedes_the_literal(
        regex, inside, outside):
    bound = literal_start_bound(re.compile(regex))
    assert bound is not None
    assert all(bound.fullmatch(char) is None for char in inside)
    assert all(bound.fullmatch(char) for char in outside)


@pytest.mark.parametrize("regex", [
    r"loss=(\d+)",  # the literal comes first: nothing precedes it
    r".*x(\d)",  # any character may precede it
    r"(?i)(\d+) samples",  # ignores case
    r"[^a]+ foo(\d)",  # a negated set
    r"(\d+)",  # no literal
    r"(\d+)( samples)",  # the literal is inside a group
    r"(?<=a)\d+ samples",  # a lookbehind
])
def test_literal_start_bound_is_none_where_nothing_can_be_said(regex):
    assert literal_start_bound(re.compile(regex)) is None


def test_a_search_from_the_bound_still_finds_the_lines_first_match():
    pattern = LinePattern(re.compile(r"([0-9.]+) samples/s"))
    assert pattern.before is not None
    lines = ["12 samples/s 3.4 samples/s", "throughput 3.5 samples/s", " samples/s 7 samples/s",
             "x samples/s 8 samples/s", "9.9.9 samples/s", "samples/s"]
    assert pattern.on_lines(Block(lines), range(len(lines))) == (
        [0, 1, 2, 3, 4], ["12", "3.5", "7", "8", "9.9.9"])


@pytest.mark.parametrize(("regex", "lead"), [
    (r"loss=(\d+)", "loss="),
    (r"\bloss[=:] ?(\d)", "loss"),
    (r"^step (\d+)", "step "),
    (r"\Astep", "step"),
    (r"lo?ss", "l"),  # the o may be absent
    (r"loss+", "los"),
    (r"(?i)loss=(\d+)", ""),  # ignores case
    (r"[Ll]oss", ""),
    (r"(\d+) samples/s", ""),
    (r"a\bb", "a"),  # \b only counts before the literal
])
def test_leading_literal_is_the_text_every_match_starts_with(regex, lead):
    assert leading_literal(re.compile(regex)) == lead


@pytest.mark.parametrize(("regex", "literal"), [
    # tests/test_events.py has the plain cases; these are the ones it lacks
    (r"\bloss\b=(\d)", ("loss=", False)),  # \b, ^ and $ consume nothing: the run goes on
    (r"(?:loss)+=(\d)", ("=", False)),  # a repeat is not required text
    (r"(?i:loss)=(\d)", ("=", False)),  # nor a group with its own flags
    (r"x(train_loss)=(\d)", ("train_loss", False)),  # a plain group is
    (r"(?i)Maße=(\d)", ("masse=", True)),  # compared case-folded
    (r"", ("", False)),
])
def test_required_literal_of_more_patterns(regex, literal):
    assert required_literal(re.compile(regex)) == literal


# re's IGNORECASE also takes "İ" (U+0130) and "ı" (U+0131) for "i"/"I", which casefold does
# not ("İ".casefold() == "i̇", "ı".casefold() == "ı"): the prefilter folds them as re does,
# so no line the regex matches is dropped before it is searched
@pytest.mark.parametrize("messages", [
    ["TRAİN_LOSS=0.5", "traın_loss=0.4"],
    ["TRAİN_LOSS=0.5\n", "traın_loss=0.4"],  # one at a time
])
def test_ignorecase_lines_with_dotted_and_dotless_i_are_not_dropped(messages):
    compiled = re.compile(r"(?i)train_loss=(\S+)")
    assert [compiled.search(m).group(1) for m in messages] == ["0.5", "0.4"]
    assert LinePattern(compiled).first_matches(Block(messages)) == per_line(
        compiled, messages)


# a possessive repeat or an atomic group that can take a newline would, in the joined
# text, take the newline too and never give it back, losing the line's own match (or
# changing the group taken): such a pattern is searched line by line
@pytest.mark.parametrize(("regex", "lines"), [
    (r"loss=(\S+)\s*+$", ["loss=1", "loss=2 ", "", "loss=3"]),
    (r"loss=(\S+)(?>\s*)$", ["loss=1", "loss=2 ", "", "loss=3"]),
    (r"loss{0,2}((?>\s*)?)\B", ["üloss\xa0", "_"]),
])
def test_a_possessive_repeat_that_could_take_a_newline_loses_no_match(regex, lines):
    compiled = re.compile(regex)
    pattern = LinePattern(compiled)
    assert pattern.first_matches(Block(lines), line_by_line=True) == per_line(compiled, lines)
    assert pattern.first_matches(Block(lines)) == per_line(compiled, lines)
