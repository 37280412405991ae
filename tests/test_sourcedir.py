"""The code copied into a job is the code's trees and nothing more: links inside a tree
are followed, links out of it are skipped and named, devices, FIFOs and sockets are
refused, and so are the filesystem's root, the home folder and code over the size cap;
each refusal is one line naming the option, before anything is created."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from sm_notebook import sourcedir
from sm_notebook.cellscript import HEADER
from sm_notebook.spec import TrainingSpec
from tests.backends.test_local_jobs import train

LIST_CODE = ("import os\n"
             "for folder, dirs, files in sorted(os.walk('.')):\n"
             "    for name in sorted(files):\n"
             "        path = os.path.join(folder, name)[2:]\n"
             "        print(path, open(path).readline().strip())\n")


def nothing_created(jobs_dir: Path) -> bool:
    return not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


def test_links_out_of_the_tree_are_skipped_and_named_and_links_inside_it_followed(
        ip, run_dir):
    secrets = run_dir / "elsewhere"
    secrets.mkdir()
    (secrets / "id_rsa").write_text("PRIVATE KEY")
    src = run_dir / "src"
    (src / "keys").mkdir(parents=True)
    (src / "pkg").mkdir()
    (src / "pkg" / "mod.py").write_text("x = 1")
    (src / "keys" / "id_rsa").symlink_to(secrets / "id_rsa")
    (src / "passwd").symlink_to("/etc/passwd")
    (src / "zero.bin").symlink_to("/dev/zero")
    (src / "alias.py").symlink_to("pkg/mod.py")  # inside the tree: copied as a file
    (src / "pkg" / "loop").symlink_to("..")  # a folder above itself: would never end
    with capture_output() as out:
        job = train(ip, "--source-dir src --wait", LIST_CODE)
    assert job.status == "Completed", job.failure_reason
    assert [e.message for e in job.recent_lines()] == [
        "alias.py x = 1", f"train.py {HEADER.strip()}", "pkg/mod.py x = 1"]  # the cell
    assert ("note: --source-dir: 4 link(s) pointing outside it or above themselves were "
            "not followed: keys/id_rsa → ") in out.stdout
    assert "passwd → /etc/passwd, pkg/loop → .., zero.bin → /dev/zero" in out.stdout


def make_special(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero's numbers
    else:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()


@pytest.mark.parametrize(("kind", "said"), [("fifo", "a FIFO"), ("device", "a device"),
                                            ("socket", "a socket")])
def test_a_special_file_in_the_source_dir_is_refused_before_anything_is_created(
        ip, run_dir, jobs_dir, kind, said):
    (run_dir / "src" / "data").mkdir(parents=True)
    make_special(run_dir / "src" / "data" / "special", kind)
    for line in ("--source-dir src", "--source-dir src --dry-run"):
        with pytest.raises(UsageError, match=rf"^--source-dir: data/special is {said}; "
                           r"devices, FIFOs and sockets are never copied \(expected regular "
                           r"files and folders\)$"):
            ip.run_cell_magic("sm_train", line, "print(1)\n")
    assert nothing_created(jobs_dir)


def test_a_device_in_a_dependency_folder_is_refused(ip, run_dir, jobs_dir):
    (run_dir / "lib").mkdir()
    make_special(run_dir / "lib" / "zero", "device")
    with pytest.raises(UsageError, match=r"^--dependencies: lib/zero is a device; devices, "
                                         r"FIFOs and sockets are never copied"):
        ip.run_cell_magic("sm_train", "--dependencies lib", "print(1)\n")
    assert nothing_created(jobs_dir)


def test_the_filesystems_root_and_the_home_folder_are_refused(ip, jobs_dir, tmp_path,
                                                               monkeypatch):
    home = tmp_path / "home"
    (home / "project").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(UsageError, match=r"^--source-dir: / is the filesystem's root; "
                       r"everything below it would be copied into the job \(expected a "
                       r"folder holding just the job's code\)$"):
        ip.run_cell_magic("sm_train", "--source-dir /", "print(1)\n")
    with pytest.raises(UsageError, match=r"^--source-dir: .*/home is the home folder"):
        ip.run_cell_magic("sm_train", "--source-dir ~", "print(1)\n")
    with pytest.raises(UsageError, match=r"^--dependencies: .*/home/project/\.\. is the "
                                         r"home folder"):
        ip.run_cell_magic("sm_train", f"--dependencies {home}/project/..", "print(1)\n")
    assert nothing_created(jobs_dir)


def test_code_over_the_cap_is_refused_before_a_byte_is_copied(ip, run_dir, jobs_dir):
    (run_dir / "src").mkdir()
    with open(run_dir / "src" / "weights.bin", "wb") as f:
        f.truncate(sourcedir.MAX_CODE + 1)  # sparse: the size without the disk
    with pytest.raises(UsageError, match=r"^--source-dir: the code comes to over 1024 MB "
                       r"\(reached at weights\.bin\), and it is copied into every job "
                       r"\(expected code under 1024 MB; data belongs in --input\)$"):
        ip.run_cell_magic("sm_train", "--source-dir src", "print(1)\n")
    assert nothing_created(jobs_dir)


def test_a_file_swapped_for_a_fifo_after_the_walk_cannot_hang_the_copy(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text("x")
    spec = TrainingSpec(cell="print(1)\n", source_dir=str(src))
    code = sourcedir.collect(spec, tmp_path)
    (src / "a.py").unlink()
    os.mkfifo(src / "a.py")
    source, rel, size = code.files[0]
    with pytest.raises(sourcedir.SmNotebookError, match="no longer a regular file"):
        sourcedir.copy_file(source, tmp_path / rel, size)
