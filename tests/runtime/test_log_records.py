"""``runtime/log_records.py``: ``job.log`` records (``stamp\\thost\\tstream\\tmessage\\n``)
taken apart a run of shared heads at a time, and the same result as splitting each record
on its own."""

from __future__ import annotations

import random
from bisect import bisect_right

import pytest

from sm_notebook.runtime import log_records
from sm_notebook.runtime.log_records import Records, _one_by_one, split_records

STAMPS = ["2026-11-24T10:00:00.000000Z", "2026-11-24T10:00:00.000001Z",
          "2026-11-24T10:00:01.500000Z"]
HOSTS = ["algo-1", "algo-2"]
STREAMS = ["stdout", "stderr"]
#: what messages are made of: tabs, spaces, text that looks like a head, non-ASCII
PIECES = ["loss=0.5", "epoch 1", "\t", "\t\t", " ", "", "ü", "✓", "\r", "\\n", "algo-1",
          "stdout", STAMPS[0], "x"]


def record(stamp: str, host: str, stream: str, message: str) -> str:
    return f"{stamp}\t{host}\t{stream}\t{message}\n"


def expected(rows: list[tuple[str, str, str, str] | str]):
    """The log's text, and what each of its lines should give: (message, stamp, host).
    A row that is a plain string is a line that is not a record."""
    text, lines = [], []
    for row in rows:
        if isinstance(row, str):
            text.append(row + "\n")
            lines.append(("", "", ""))  # not a record: nothing from it
        else:
            text.append(record(*row))
            lines.append((row[3], row[0], row[1]))
    return "".join(text), lines


def per_line(records: Records) -> list[tuple[str, str, str]]:
    """Each line's message, and the stamp and host of the last run starting at or before it."""
    firsts = [run.first_line for run in records.runs]
    out = []
    for line, message in enumerate(records.block.messages):
        run = records.runs[bisect_right(firsts, line) - 1]
        out.append((message, run.stamp, run.host))
    return out


@pytest.fixture
def one_by_one_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times ``split_records`` fell back to splitting record by record."""
    calls: list[int] = []

    def counted(text: str) -> Records:
        calls.append(len(text))
        return _one_by_one(text)

    monkeypatch.setattr(log_records, "_one_by_one", counted)
    return calls


def check(rows) -> Records:
    text, lines = expected(rows)
    records = split_records(text)
    messages = [message for message, _, _ in lines]
    assert records.block.messages == messages
    assert records.block.text == "\n".join(messages)
    assert not records.block.one_at_a_time
    firsts = [run.first_line for run in records.runs]
    assert firsts == sorted(set(firsts))
    assert (firsts[:1] == [0]) if lines else not firsts
    assert per_line(records) == lines
    slow = _one_by_one(text)
    assert slow.block.messages == messages
    assert per_line(slow) == lines
    return records


def random_rows(rng: random.Random):
    """Runs of records that share a head, some heads recurring, some lines not records."""
    rows: list[tuple[str, str, str, str] | str] = []
    for _ in range(rng.randrange(8)):
        head = (rng.choice(STAMPS), rng.choice(HOSTS), rng.choice(STREAMS))
        for _ in range(rng.choice([1, 1, 2, 3, 10])):
            message = "".join(rng.choices(PIECES, k=rng.randrange(5)))
            rows.append((*head, message))
        if rng.random() < 0.05:
            rows.append(rng.choice(["not a record", "a\tb", "a\tb\tc", ""]))
    return rows


def test_split_records_equals_a_plain_split_on_random_logs():
    rng = random.Random("log records")
    for _ in range(2000):
        check(random_rows(rng))


def test_one_run_under_one_head():
    records = check([(STAMPS[0], "algo-1", "stdout", m) for m in ("a", "b", "c")])
    assert records.runs == [(0, STAMPS[0], "algo-1")]


def test_each_change_of_head_starts_a_run():
    records = check([(STAMPS[0], "algo-1", "stdout", "a"), (STAMPS[0], "algo-1", "stdout", "b"),
                     (STAMPS[1], "algo-1", "stdout", "c"), (STAMPS[1], "algo-2", "stdout", "d")])
    assert [(run.first_line, run.stamp, run.host) for run in records.runs] == [
        (0, STAMPS[0], "algo-1"), (2, STAMPS[1], "algo-1"), (3, STAMPS[1], "algo-2")]


def test_messages_keep_their_tabs():
    check([(STAMPS[0], "algo-1", "stdout", "a\tb"), (STAMPS[0], "algo-1", "stdout", "\t"),
           (STAMPS[0], "algo-1", "stdout", "\tstdout\t"), (STAMPS[1], "algo-2", "stderr", "x\t")])


def test_empty_messages_are_kept_as_empty_lines():
    check([(STAMPS[0], "algo-1", "stdout", ""), (STAMPS[0], "algo-1", "stdout", ""),
           (STAMPS[0], "algo-1", "stdout", "x"), (STAMPS[1], "algo-1", "stdout", "")])


@pytest.mark.parametrize("line", ["not a record", "a\tb", "a\tb\tc", ""])
def test_a_line_that_is_not_a_record_has_an_empty_message(line):
    head = (STAMPS[0], "algo-1", "stdout")
    check([line, (*head, "after")])
    check([(*head, "before"), line, (*head, "after")])
    check([(*head, "before"), line])
    check([line])


def test_a_message_that_looks_like_a_head_stays_whole():
    head = (STAMPS[0], "algo-1", "stdout")
    check([(*head, f"{STAMPS[0]}\talgo-1\tstdout\tinside"), (*head, "next")])


def test_a_head_recurring_after_another_head_starts_a_run_of_its_own():
    a, b = (STAMPS[0], "algo-1", "stdout"), (STAMPS[0], "algo-2", "stdout")
    check([(*a, "1"), (*b, "2"), (*a, "3")])
    check([(*a, "1"), (*a, "2"), (*b, "3"), (*b, "4"), (*a, "5"), (*b, "6")])


def test_stdout_and_stderr_interleaved_under_one_stamp_and_host():
    rows = [(STAMPS[0], "algo-1", STREAMS[i % 2], f"line {i}") for i in range(9)]
    records = check(rows)
    assert {(run.stamp, run.host) for run in records.runs} == {(STAMPS[0], "algo-1")}


def test_an_empty_text_has_no_records():
    records = split_records("")
    assert records.block.messages == []
    assert records.block.text == ""
    assert records.runs == []


@pytest.mark.parametrize("head", [("1", "h", "stdout"), (STAMPS[0], "algo-1", "stdout")])
def test_a_run_longer_than_the_first_window_is_one_run(head, one_by_one_calls):
    rows = [(*head, f"m{i:04d}".ljust(28, ".")) for i in range(5000)]
    size = len(expected(rows)[0])
    assert size > 3 * (1 << 16)  # past the 64 KiB window, and past it grown once
    assert size >= 5000 * 40
    records = check(rows)
    assert records.runs == [(0, *head[:2])]
    assert not one_by_one_calls  # taken apart a run at a time


def test_runs_longer_than_the_window_one_after_another(one_by_one_calls):
    a, b = (STAMPS[0], "algo-1", "stdout"), (STAMPS[1], "algo-2", "stderr")
    rows = ([(*a, f"a{i:04d}") for i in range(5000)] + [(*b, f"b{i:04d}") for i in range(5000)]
            + [(*a, "again")])
    records = check(rows)
    assert [run.first_line for run in records.runs] == [0, 5000, 10000]
    assert not one_by_one_calls


def test_a_head_recurring_past_the_window_after_a_long_run_of_another(one_by_one_calls):
    a, b = (STAMPS[0], "algo-1", "stdout"), (STAMPS[1], "algo-2", "stderr")
    records = check([(*a, "first")] + [(*b, f"b{i:04d}") for i in range(5000)]
                    + [(*a, "again")])
    assert [run.first_line for run in records.runs] == [0, 1, 5001]
    check([(*a, "1"), (*a, "2")] + [(*b, f"b{i:04d}") for i in range(5000)]
          + [(*a, f"a{i}") for i in range(3)])
    assert not one_by_one_calls


def test_another_head_inside_a_long_run_falls_back_to_one_by_one(one_by_one_calls):
    a, b = (STAMPS[0], "algo-1", "stdout"), (STAMPS[1], "algo-2", "stderr")
    check([(*a, f"a{i:04d}") for i in range(3000)] + [(*b, "in between")]
          + [(*a, f"a{i:04d}") for i in range(3000)])
    check([(*a, f"a{i:04d}") for i in range(3000)] + ["not a record"]
          + [(*a, f"a{i:04d}") for i in range(3000)])
    assert len(one_by_one_calls) == 2


def test_long_random_logs_across_window_edges():
    rng = random.Random("long log records")
    for _ in range(20):
        rows: list[tuple[str, str, str, str] | str] = []
        for _ in range(rng.randrange(1, 6)):
            head = (rng.choice(STAMPS), rng.choice(HOSTS), rng.choice(STREAMS))
            rows += [(*head, "".join(rng.choices(PIECES, k=rng.randrange(4))))
                     for _ in range(rng.choice([1, 500, 1700, 4000]))]
        check(rows)
