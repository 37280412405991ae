"""Unpacking artifacts never writes outside the target directory, and a refused archive
leaves nothing behind: only files and folders are extracted, through a staging folder
beside the target that takes its place once everything is written."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sm_notebook.artifacts import safe_extract
from sm_notebook.errors import SmNotebookError

KINDS = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
         "fifo": tarfile.FIFOTYPE, "chardev": tarfile.CHRTYPE}


def make_tar(path, members, mode="w:gz"):
    """An archive of ``(name, kind, data)``: data is a file's bytes or a link's target."""
    with tarfile.open(path, mode) as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
            else:
                info.type, info.mode = KINDS[kind], 0o755
                info.linkname = data if kind in ("symlink", "hardlink") else ""
                tar.addfile(info)
    return path


def realpath_overflow_chain() -> list[tuple[str, str, object]]:
    """CVE-2025-4517's archive: short links to 247-character folder names, chained until
    the resolved path passes PATH_MAX (4,096 bytes), where ``realpath`` stops resolving;
    then a link that really points to the target itself, one through it to ``target/..``,
    and a file written through that."""
    long_name, steps = "d" * 247, "abcdefghijklmnop"
    members, deep = [], ""
    for step in steps:
        members += [(os.path.join(deep, long_name), "dir", b""),
                    (os.path.join(deep, step), "symlink", long_name)]
        deep = os.path.join(deep, long_name)
    back = os.path.join("/".join(steps), "l" * 254)
    return [*members, (back, "symlink", "../" * len(steps)),
            ("escape", "symlink", back + "/.."), ("escape/PWNED", "file", b"pwned\n")]


def leftovers(folder: Path) -> list[str]:
    """Everything in ``folder`` (a refused extraction must leave it as it was)."""
    return sorted(p.name for p in folder.iterdir())


def test_a_normal_model_archive_is_extracted_without_set_id_bits(tmp_path):
    archive = make_tar(tmp_path / "model.tar.gz", [("model.joblib", "file", b"m"),
                                                   ("sub", "dir", b""),
                                                   ("sub/config.json", "file", b"{}")])
    out = safe_extract(archive, tmp_path / "out")
    assert (out / "model.joblib").read_bytes() == b"m"
    assert (out / "sub" / "config.json").read_bytes() == b"{}"
    assert leftovers(tmp_path) == ["model.tar.gz", "out"]  # no staging folder left

    with tarfile.open(tmp_path / "run.tar", "w") as tar:
        info = tarfile.TarInfo("run.sh")
        info.size, info.mode = 3, 0o6777  # set-uid and set-gid, writable by all
        tar.addfile(info, io.BytesIO(b"ls\n"))
    run = safe_extract(tmp_path / "run.tar", tmp_path / "code") / "run.sh"
    assert oct(run.stat().st_mode & 0o7777) == oct(0o755)


def test_the_realpath_overflow_chain_is_refused_with_nothing_written_anywhere(tmp_path):
    """The archive is a real attack on this Python: tarfile's own ``data`` filter, a
    check by ``realpath`` like the one sm_notebook used, lets ``escape/PWNED`` land
    beside the target.  sm_notebook refuses it and writes nothing."""
    archive = make_tar(tmp_path / "evil.tar", realpath_overflow_chain(), mode="w")
    sandbox = tmp_path / "sandbox"
    with tarfile.open(archive) as tar:
        tar.extractall(sandbox / "target", filter="data")
    assert (sandbox / "PWNED").read_bytes() == b"pwned\n"  # outside sandbox/target

    box = tmp_path / "box"
    box.mkdir()
    with pytest.raises(SmNotebookError, match="refusing to extract 'a': it is a symbolic "
                                              "link"):
        safe_extract(archive, box / "target")
    assert leftovers(box) == []


@pytest.mark.parametrize("member", [
    ("link", "symlink", "model.joblib"),
    ("hard", "hardlink", "model.joblib"),
    ("pipe", "fifo", ""),
    ("zero", "chardev", ""),
], ids=["in-tree-symlink", "in-tree-hardlink", "fifo", "device"])
def test_every_link_and_special_file_is_refused_even_inside_the_target(tmp_path, member):
    archive = make_tar(tmp_path / "model.tar.gz", [("model.joblib", "file", b"m"), member])
    with pytest.raises(SmNotebookError, match=f"refusing to extract '{member[0]}': it is "):
        safe_extract(archive, tmp_path / "out")
    assert leftovers(tmp_path) == ["model.tar.gz"]


@pytest.mark.parametrize("members", [
    [("../escape.txt", "file", b"x")],
    [("/etc/evil", "file", b"x")],
    [("a/../../escape", "file", b"x")],
    [("link", "symlink", "/etc/passwd")],
    [("link", "symlink", "../../outside")],
    [("hard", "hardlink", "../outside")],
], ids=["dotdot", "absolute", "nested-dotdot", "abs-symlink", "rel-symlink", "hardlink"])
def test_members_escaping_the_target_are_refused_before_anything_is_written(tmp_path, members):
    archive = make_tar(tmp_path / "bad.tar.gz", [("ok.txt", "file", b"fine"), *members])
    with pytest.raises(SmNotebookError, match="refusing to extract"):
        safe_extract(archive, tmp_path / "out")
    assert leftovers(tmp_path) == ["bad.tar.gz"]


def test_extracting_into_a_folder_with_files_replaces_same_names_and_keeps_the_rest(tmp_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "mine.txt").write_text("kept")
    (out / "sub" / "old.json").write_text("kept too")
    (out / "model.joblib").write_text("old model")
    archive = make_tar(tmp_path / "model.tar.gz", [("model.joblib", "file", b"new model"),
                                                   ("sub/config.json", "file", b"{}")])
    safe_extract(archive, out)
    assert (out / "model.joblib").read_text() == "new model"
    assert (out / "mine.txt").read_text() == "kept"
    assert sorted(p.name for p in (out / "sub").iterdir()) == ["config.json", "old.json"]
    assert leftovers(tmp_path) == ["model.tar.gz", "out"]


def test_a_folder_where_the_target_has_a_file_changes_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").write_text("a file")
    archive = make_tar(tmp_path / "model.tar.gz", [("w.bin", "file", b"1"),
                                                   ("sub/config.json", "file", b"{}")])
    with pytest.raises(SmNotebookError, match="is a file where the archive has a folder"):
        safe_extract(archive, out)
    assert leftovers(out) == ["sub"]
    assert leftovers(tmp_path) == ["model.tar.gz", "out"]


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "1m") -> Iterator[Path]:
    """A real filesystem of ``size`` (tmpfs) mounted at ``where``, unmounted afterwards."""
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                   check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB disk."""
    with tmpfs(tmp_path / "small") as where:
        yield where


def test_an_archive_bomb_is_refused_before_a_byte_is_written(tmp_path, small_disk):
    archive = make_tar(tmp_path / "bomb.tar.gz", [("zeros.bin", "file", bytes(8 << 20))])
    assert archive.stat().st_size < 64 << 10  # 8 MiB of zeros, a few kB on disk
    with pytest.raises(SmNotebookError, match=r"^no space to extract bomb.tar.gz: its files "
                                              r"come to 8.4 MB and .* free; nothing was "
                                              r"extracted$"):
        safe_extract(archive, small_disk / "model")
    assert leftovers(small_disk) == []


def test_a_disk_that_fills_while_writing_gives_one_line_and_keeps_nothing(tmp_path,
                                                                         small_disk):
    """600 files of 1 kB fit by their sizes, but each takes a 4 kB page of the 1 MiB disk."""
    archive = make_tar(tmp_path / "many.tar.gz", [(f"f{i}.bin", "file", b"x" * 1000)
                                                  for i in range(600)])
    with pytest.raises(SmNotebookError, match=r"^no space left on the device while "
                                              r"extracting many.tar.gz into .*; nothing "
                                              r"was kept$"):
        safe_extract(archive, small_disk / "model")
    assert leftovers(small_disk) == []


def test_a_truncated_archive_is_one_line(tmp_path):
    archive = make_tar(tmp_path / "model.tar.gz", [("w.bin", "file", os.urandom(100_000))])
    archive.write_bytes(archive.read_bytes()[:50_000])
    with pytest.raises(SmNotebookError, match=r"^cannot read model\.tar\.gz: "):
        safe_extract(archive, tmp_path / "out")
    assert leftovers(tmp_path) == ["model.tar.gz"]


def test_a_job_model_is_extracted_next_to_the_job(ip):
    ip.run_cell_magic("sm_train", "job --wait", "import os\nopen(os.path.join("
                      "os.environ['SM_MODEL_DIR'], 'w.bin'), 'wb').write(b'123')\n")
    job = ip.user_ns["job"]
    assert (job.extract_model() / "w.bin").read_bytes() == b"123"
    assert (job.extract_model() / "w.bin").read_bytes() == b"123"  # again, over the first
