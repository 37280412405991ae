"""The single-value checks the spec is made of, at their edges."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sm_notebook import checks
from sm_notebook.errors import SpecError

GIB = 1 << 30


@pytest.mark.parametrize(("text", "number"), [
    ("2", 2), ("-2", -2), ("+3", 3), ("007", 7), ("1_0", None), (" 2", None), ("2 ", None),
    ("\u0661", None), ("\uff11\uff10", None), ("2.0", None), ("", None), ("0x10", None),
])
def test_whole_numbers_are_ascii_digits_only(text, number):
    assert checks.whole_number(text) == number


@pytest.mark.parametrize(("text", "bad"), [
    ("plain text, with spaces\tand a tab", None), ("a\x1b[31m", "\x1b"), ("a\rb", "\r"),
    ("a\x07", "\x07"), ("a\x9bb", "\x9b"), ("a\u202eb", "\u202e"), ("a\u2066b", "\u2066"),
    ("a\nb", "\n"), ("ünïcödé 数据", None), ("a\x7f", "\x7f"),
])
def test_control_characters_are_found(text, bad):
    assert checks.control_character(text) == bad


def test_line_breaks_are_taken_where_allowed_and_nothing_else():
    assert checks.control_character("a\nb", checks.MULTILINE) is None
    assert checks.control_character("a\n\x1b", checks.MULTILINE) == "\x1b"


def test_texts_reads_shared_and_cyclic_values_once():
    row = ["lol"] * 9
    for _ in range(8):
        row = [row] * 9
    cyclic: list = ["x"]
    cyclic.append(cyclic)
    assert list(checks.texts({"k": row}, "")) == [("", "k")] + [("k", "lol")] * 9
    assert list(checks.texts(cyclic, "top")) == [("top", "x")]


@pytest.mark.parametrize(("count", "per_host", "fits"), [
    (1, 64 * GIB, True),  # one host may ask more than the machine: it gets the machine
    (2, 8 * GIB, True), (3, 8 * GIB, False), (64, None, True), (65, None, False),
    (2, 64 * GIB, False),
])
def test_hosts_fit_by_memory_per_container_times_count(count, per_host, fits):
    try:
        checks.check_hosts_fit("--instance-count", count, per_host, "t", 16 * GIB,
                               "--mode sagemaker")
        fitted = True
    except SpecError as exc:
        assert exc.option == "--instance-count" and "this machine has 16 GiB" in str(exc)
        fitted = False
    assert fitted is fits


def test_this_machines_memory_is_read():
    assert checks.machine_memory() > 256 << 20


def test_paths_no_file_system_can_hold_are_refused(tmp_path: Path):
    assert checks.local_path("--input", tmp_path, "a/b") == tmp_path / "a" / "b"
    assert checks.local_path("--input", tmp_path, "x" * 255).name == "x" * 255
    with pytest.raises(SpecError, match=r"^--input: train: a path component is 256 bytes"):
        checks.local_path("--input", tmp_path, "x" * 256, "train")
    with pytest.raises(SpecError, match="a path component is 256 bytes"):
        checks.local_path("--input", tmp_path, "é" * 128)  # 2 bytes each in UTF-8
    with pytest.raises(SpecError, match="longer than 4096 bytes"):
        checks.local_path("--input", tmp_path, "/".join(["y" * 200] * 21))


def test_special_files_are_named(tmp_path: Path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to("/dev/zero")
    assert checks.special_kind(tmp_path / "fifo") == "a FIFO"
    assert checks.special_kind(tmp_path / "link") == "a character device"
    assert checks.special_kind(tmp_path / "file") is None
    assert checks.special_kind(tmp_path) is None
    assert checks.special_kind(tmp_path / "missing") is None
