"""The supervisor's pure pieces: splitting output into lines, packing, failure reasons."""

from __future__ import annotations

import random
import tarfile

import pytest

from sm_notebook.runtime.failures import failure_from_traceback, last_error_line
from sm_notebook.runtime.packing import pack
from sm_notebook.runtime.supervisor import MAX_LINE_BYTES, LineSplitter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def feed_all(splitter: LineSplitter, *chunks: bytes) -> list[str]:
    lines = [line for chunk in chunks for line in splitter.feed(chunk)]
    return lines + splitter.flush()


def test_lines_split_across_chunk_boundaries_arrive_whole():
    assert feed_all(LineSplitter(), b"al", b"pha\nbe", b"ta\r", b"\ngam", b"ma") == [
        "alpha", "beta", "gamma"]


def test_crlf_is_one_line_end_even_split_between_chunks():
    assert feed_all(LineSplitter(), b"one\r", b"\ntwo\r\n") == ["one", "two"]


def test_progress_redraws_are_throttled_and_the_final_state_is_kept():
    clock = Clock()
    splitter = LineSplitter(progress_interval=1.0, clock=clock)
    out = splitter.feed(b"  0%\r")
    clock.now = 0.3
    out += splitter.feed(b" 50%\r")
    clock.now = 0.6
    out += splitter.feed(b" 99%\r")
    clock.now = 0.9
    out += splitter.feed(b"100%\ndone\n")
    assert out == ["  0%", "100%", "done"]


def test_a_progress_line_left_unterminated_is_flushed_at_the_end():
    clock = Clock()
    splitter = LineSplitter(clock=clock)
    assert feed_all(splitter, b"10%\r", b"20%\r") == ["10%", "20%"]


def test_invalid_utf8_is_replaced_not_fatal():
    assert feed_all(LineSplitter(), b"ok \xff\xfe end\n", "ünï\n".encode()) == [
        "ok \ufffd\ufffd end", "ünï"]


def test_a_line_over_the_limit_is_cut_into_pieces():
    lines = feed_all(LineSplitter(), b"x" * (MAX_LINE_BYTES * 2 + 10) + b"\nnext\n")
    assert [len(line) for line in lines] == [MAX_LINE_BYTES, MAX_LINE_BYTES, 10, 4]


def test_a_long_line_arriving_in_pipe_sized_chunks_is_cut_the_same_way():
    data = b"y" * (MAX_LINE_BYTES * 2 + 10) + b"\nnext\n"
    splitter = LineSplitter()
    lines = feed_all(splitter, *(data[i:i + 65536] for i in range(0, len(data), 65536)))
    assert [len(line) for line in lines] == [MAX_LINE_BYTES, MAX_LINE_BYTES, 10, 4]


def test_a_multibyte_line_is_cut_between_characters_never_inside_one():
    text = "€" * (MAX_LINE_BYTES // 3 * 2 + 5)  # 3 bytes each; the limit is not a multiple
    whole = feed_all(LineSplitter(), text.encode() + b"\n")
    data = text.encode() + b"\n"
    chunked = feed_all(LineSplitter(), *(data[i:i + 65536] for i in range(0, len(data), 65536)))
    for lines in (whole, chunked):
        assert "\ufffd" not in "".join(lines)
        assert "".join(lines) == text
        assert all(len(line.encode()) <= MAX_LINE_BYTES for line in lines)
        assert len(lines) == 3
    assert whole == chunked


def test_a_long_line_without_a_line_end_is_flushed_in_pieces():
    lines = feed_all(LineSplitter(), b"z" * (MAX_LINE_BYTES + 1))
    assert [len(line) for line in lines] == [MAX_LINE_BYTES, 1]


def test_a_long_progress_line_is_cut_too():
    splitter = LineSplitter(clock=Clock())
    lines = feed_all(splitter, b"p" * (MAX_LINE_BYTES + 7) + b"\rdone\n")
    assert [len(line) for line in lines] == [MAX_LINE_BYTES, 7, 4]


def test_empty_lines_are_kept_and_a_final_partial_line_is_flushed():
    splitter = LineSplitter()
    assert splitter.feed(b"a\n\n\r\nb") == ["a", "", ""]
    assert splitter.flush() == ["b"]
    assert splitter.flush() == []  # nothing twice
    assert feed_all(LineSplitter(), b"") == []


def test_a_lone_carriage_return_at_the_very_end_is_not_a_blank_line():
    assert feed_all(LineSplitter(clock=Clock()), b"50%\r") == ["50%"]
    assert feed_all(LineSplitter(clock=Clock()), b"line\n\r") == ["line"]


def test_a_multibyte_character_split_between_chunks_is_decoded_whole():
    data = "naïve ✓\n".encode()
    assert feed_all(LineSplitter(), *(data[i:i + 1] for i in range(len(data)))) == ["naïve ✓"]


def test_progress_redraws_are_passed_on_again_once_the_interval_has_passed():
    # tqdm style: each redraw starts with \r; a redraw is complete when the next \r comes
    clock = Clock()
    splitter = LineSplitter(progress_interval=1.0, clock=clock)
    out = []
    for now, chunk in [(0.0, b"\r 10%"), (0.5, b"\r 20%"), (1.2, b"\r 30%"), (1.6, b"\r 40%"),
                       (1.7, b"\n")]:
        clock.now = now
        out += splitter.feed(chunk)
    assert out == [" 10%", " 30%", " 40%"]  # 20% within the interval; 40% the final state


@pytest.mark.parametrize("seed", range(20))
def test_lines_decode_as_each_line_alone_would_however_the_output_is_chunked(seed):
    # whole chunks of plain lines are decoded at once: a newline byte is never inside a
    # UTF-8 sequence, so broken and multibyte sequences come out as they would line by line
    rng = random.Random(seed)
    pieces = [b"loss=0.5", "naïve ✓ €".encode(), b"\xff\xfe", b"\xe2\x82", b"\xf0\x9f",
              b"\x80 x", b"", b"\n", b"\n", b"\n"]
    data = b"".join(rng.choice(pieces) for _ in range(400)) + b"\n"
    cuts = sorted(rng.sample(range(1, len(data)), 30))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    expected = [line.decode("utf-8", "replace") for line in data.split(b"\n")[:-1]]
    assert feed_all(LineSplitter(), *chunks) == expected


def test_pack_puts_files_at_the_archive_root(tmp_path):
    source = tmp_path / "model"
    (source / "sub").mkdir(parents=True)
    (source / "weights.bin").write_bytes(b"w")
    (source / "sub" / "config.json").write_text("{}")
    target = tmp_path / "artifacts" / "model.tar.gz"
    assert pack(source, target)
    with tarfile.open(target) as tar:
        assert sorted(tar.getnames()) == ["sub", "sub/config.json", "weights.bin"]
    assert not target.with_name("model.tar.gz.partial").exists()


def test_pack_of_an_empty_directory_makes_a_valid_empty_archive(tmp_path):
    # as the service and the SDKs' local modes do: model.tar.gz exists even when empty
    (tmp_path / "empty").mkdir()
    target = tmp_path / "out" / "model.tar.gz"
    assert pack(tmp_path / "empty", target)
    assert target.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    with tarfile.open(target, "r:gz") as tar:
        assert tar.getmembers() == []


def test_pack_of_a_missing_directory_makes_no_archive(tmp_path):
    assert not pack(tmp_path / "missing", tmp_path / "b.tar.gz")
    assert not list(tmp_path.iterdir())


def test_pack_replaces_an_older_archive(tmp_path):
    source, target = tmp_path / "model", tmp_path / "model.tar.gz"
    source.mkdir()
    (source / "a.txt").write_text("1")
    pack(source, target)
    (source / "a.txt").unlink()
    (source / "b.txt").write_text("2")
    assert pack(source, target)
    with tarfile.open(target) as tar:
        assert tar.getnames() == ["b.txt"]
        assert tar.extractfile("b.txt").read() == b"2"


TRACEBACK = """Traceback (most recent call last):
  File "/job/opt/ml/code/train.py", line 12, in <module>
    main()
  File "/job/opt/ml/code/train.py", line 9, in main
    load(path)
  File "/usr/lib/python3/site-packages/lib.py", line 40, in load
    raise FileNotFoundError(path)
FileNotFoundError: /opt/ml/input/data/train/x.csv""".splitlines()


def test_the_failure_reason_is_the_exception_and_the_scripts_deepest_line():
    assert failure_from_traceback(["some output", *TRACEBACK], "train.py") == (
        "FileNotFoundError: /opt/ml/input/data/train/x.csv (train.py, line 9)")


def test_the_last_exception_of_a_chain_wins():
    chained = [*TRACEBACK, "", "During handling of the above exception, another exception "
               "occurred:", "", "Traceback (most recent call last):",
               '  File "/job/train.py", line 14, in <module>',
               "    raise RuntimeError('no data')", "RuntimeError: no data"]
    assert failure_from_traceback(chained, "train.py") == (
        "RuntimeError: no data (train.py, line 14)")


def test_a_syntax_error_keeps_its_message_not_the_caret_line():
    lines = ["Traceback (most recent call last):", '  File "/job/train.py", line 3',
             "    x = (", "        ^", "SyntaxError: '(' was never closed"]
    assert failure_from_traceback(lines, "train.py") == (
        "SyntaxError: '(' was never closed (train.py, line 3)")


def test_a_torchrun_workers_traceback_wins_over_the_launchers():
    worker = [f"[rank1]: {line}" for line in TRACEBACK]
    launcher = ["Traceback (most recent call last):",
                '  File "/usr/lib/python3/site-packages/torch/distributed/run.py", line 9, '
                "in <module>", "    main()",
                "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ",
                "============================================================"]
    reason = failure_from_traceback([*worker, *launcher], "train.py")
    assert reason == "FileNotFoundError: /opt/ml/input/data/train/x.csv (train.py, line 9)"


def test_python_311_caret_lines_are_not_taken_for_the_exception():
    lines = ["Traceback (most recent call last):",
             '  File "/opt/ml/code/train.py", line 5, in <module>',
             "    total = values[10] / count", "            ~~~~~~^^^^",
             "IndexError: list index out of range", "some later output"]
    assert failure_from_traceback(lines, "train.py") == (
        "IndexError: list index out of range (train.py, line 5)")


def test_an_exception_outside_the_entry_script_has_no_line_context():
    lines = ["Traceback (most recent call last):",
             '  File "/usr/lib/python3.11/runpy.py", line 198, in _run_module_as_main',
             "ModuleNotFoundError: No module named 'torch'"]
    assert failure_from_traceback(lines, "train.py") == (
        "ModuleNotFoundError: No module named 'torch'")


def test_a_file_of_the_same_name_elsewhere_is_the_entry_script_only_by_name():
    lines = ["Traceback (most recent call last):",
             '  File "/job/opt/ml/code/main.py", line 2, in <module>',
             "    import helpers",
             '  File "/job/opt/ml/code/helpers.py", line 7, in <module>',
             "    raise KeyError('x')", "KeyError: 'x'"]
    assert failure_from_traceback(lines, "main.py") == "KeyError: 'x' (main.py, line 2)"


def test_no_traceback_gives_no_reason():
    assert failure_from_traceback(["just output", "exit"], "train.py") is None
    assert failure_from_traceback([], "train.py") is None
    assert failure_from_traceback(["Traceback (most recent call last):"], "train.py") is None


def test_without_a_traceback_the_last_error_line_is_the_detail():
    usage = ["usage: train.py [-h] [--boolean BOOLEAN]",
             "train.py: error: argument --boolean: invalid <lambda> value: 'True'  "]
    assert last_error_line(usage) == (
        "train.py: error: argument --boolean: invalid <lambda> value: 'True'")
    assert last_error_line(["loading", "  disk full  ", ""]) == "disk full"
    own = ["[rank0]: ERROR: no data", "sm_notebook: algo-1 exited with code 1; stopping"]
    assert last_error_line(own) == "ERROR: no data"
    assert last_error_line(["", "  "]) is None


def test_a_line_merely_mentioning_errors_is_not_taken_for_the_error():
    assert last_error_line(["epoch 1: 0 errors found", "done"]) == "done"
    assert last_error_line(["x", "ValueError: bad", "bye"]) == "ValueError: bad"
    assert last_error_line(["FATAL: out of disk", "bye"]) == "FATAL: out of disk"
