"""The log filter matches the lines as they read on the page, host tag included, as text
or as a regular expression, and hosts are switched off one by one."""

from __future__ import annotations

from sm_notebook.events import LogEvent
from sm_notebook.ui.log_filter import LogFilter

LINES = [LogEvent("2026-12-03T00:00:00Z", host, message) for host, message in [
    ("algo-1", "step 2 loss=0.5"), ("algo-2", "step 2 loss=0.6"),
    ("algo-1", "step 20 loss=0.1"), ("algo-2", "warming up")]]


def shown(f: LogFilter) -> list[tuple[str, str]]:
    return [(ev.host, ev.message) for ev in f.apply(LINES)]


def test_no_filter_shows_every_line():
    assert len(shown(LogFilter())) == 4 and not LogFilter().active


def test_the_host_tag_is_part_of_the_text_searched():
    assert shown(LogFilter("algo-2")) == [("algo-2", "step 2 loss=0.6"),
                                          ("algo-2", "warming up")]
    assert shown(LogFilter("[ALGO-1] step")) == [("algo-1", "step 2 loss=0.5"),
                                                 ("algo-1", "step 20 loss=0.1")]


def test_a_plain_substring_matches_inside_words_and_a_regex_can_say_where_not():
    assert len(shown(LogFilter("step 2"))) == 3  # step 20 too
    assert shown(LogFilter(r"step 2\b", regex=True)) == [("algo-1", "step 2 loss=0.5"),
                                                         ("algo-2", "step 2 loss=0.6")]
    assert LogFilter(r"step 2\b", regex=True).describe() == r"“step 2\b” (regex)"


def test_hosts_are_hidden_one_by_one_and_combine_with_the_text():
    without_two = LogFilter(hidden_hosts=frozenset({"algo-2"}))
    assert [h for h, _ in shown(without_two)] == ["algo-1", "algo-1"]
    both = LogFilter("loss=0.1", hidden_hosts=frozenset({"algo-2"}))
    assert shown(both) == [("algo-1", "step 20 loss=0.1")]
    assert both.describe() == "“loss=0.1”, without algo-2"


def test_a_regex_that_does_not_compile_filters_nothing_and_says_why():
    broken = LogFilter("step (", regex=True)
    assert broken.error.startswith("not a regular expression: missing )")
    assert len(shown(broken)) == 4 and not broken.active
    assert LogFilter("step (").error is None  # as plain text it is fine
