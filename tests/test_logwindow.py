"""The window of a job's last lines: reads are kept as bytes, and only the lines asked
for are parsed."""

from __future__ import annotations

from sm_notebook.events import LogEvent
from sm_notebook.logwindow import LogTail, LogWindow


def events(first: int, count: int) -> list[LogEvent]:
    return [LogEvent("2026-12-03T00:00:00Z", "algo-1", f"line {i}") for i in
            range(first, first + count)]


def records(evs: list[LogEvent]) -> bytes:
    return "".join(ev.to_record() for ev in evs).encode()


def test_a_read_is_counted_whole_and_only_its_last_lines_are_kept():
    evs = events(0, 50)
    assert LogTail.of(records(evs), 3)[0] == 50
    assert list(LogTail.of(records(evs), 3)[1]) == evs[-3:]
    assert list(LogTail.of(records(evs), 50)[1]) == evs
    assert list(LogTail.of(records(evs), 99)[1]) == evs
    count, tail = LogTail.of(records(evs), 0)
    assert (count, list(tail), len(tail)) == (50, [], 0)
    count, tail = LogTail.of(b"", 5)
    assert (count, list(tail)) == (0, [])


def test_a_tail_parses_only_the_lines_asked_for_and_keeps_them():
    evs = events(0, 1000)
    tail = LogTail(records(evs))
    assert tail.last(2) == evs[-2:]
    assert tail._parsed_lines == 2  # the rest still bytes
    assert tail.last(10) == evs[-10:]
    assert tail._parsed_lines == 10
    assert tail.last(5) == evs[-5:] and tail._parsed_lines == 10
    assert tail.last(5000) == evs and tail[0] == evs[0] and len(tail) == 1000


def test_a_line_that_is_not_a_record_is_left_out():
    data = records(events(0, 2)) + b"not a record\n" + records(events(2, 1))
    tail = LogTail(data)
    assert len(tail) == 4
    assert [e.message for e in tail.last(4)] == ["line 0", "line 1", "line 2"]


def test_the_window_holds_the_last_lines_of_reads_and_single_events_in_order():
    window = LogWindow(size=10)
    window.extend(LogTail(records(events(0, 4))))
    window.extend(events(4, 3))
    window.append(events(7, 1)[0])
    window.extend(LogTail(records(events(8, 6))))
    assert len(window) == 10
    assert [e.message for e in window.last()] == [f"line {i}" for i in range(4, 14)]
    assert [e.message for e in window.last(3)] == ["line 11", "line 12", "line 13"]
    assert window.last(0) == []
    window.extend([])
    window.extend(LogTail(b""))
    assert len(window) == 10


def test_the_window_lets_go_of_reads_it_no_longer_shows():
    window = LogWindow(size=100)
    for first in range(0, 10_000, 1000):
        window.extend(LogTail(records(events(first, 1000))))
    assert len(window._parts) == 1
    assert [e.message for e in window.last()] == [f"line {i}" for i in range(9900, 10_000)]
    assert window._parts[0]._parsed_lines == 100  # of the 1,000 it holds


def test_an_empty_window_shows_nothing():
    window = LogWindow(size=5)
    assert (len(window), window.last(), window.last(3)) == (0, [], [])
