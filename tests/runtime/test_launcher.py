"""The launcher unpacks ``sourcedir.tar.gz`` on SageMaker with sm_notebook's own safe
extraction, which arrives in the code channel beside it: run here exactly as the channel
lays it out, under a Python that sees only its standard library (``-I -S``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sm_notebook.backends.sagemaker.request import LAUNCHER_NAME
from sm_notebook.backends.sagemaker.uploads import plain_code_channel
from tests.test_artifacts import leftovers, make_tar, realpath_overflow_chain


def code_channel(tmp_path: Path, archive: Path) -> Path:
    """The ``code`` channel of a job run by the launcher, as it is uploaded."""
    launch = tmp_path / "launch.json"
    launch.write_text("{}")
    channel = tmp_path / "channel"
    for source, name in plain_code_channel([(archive, "sourcedir.tar.gz")], launch):
        (channel / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, channel / name)
    return channel


def unpack(channel: Path, target: Path) -> subprocess.CompletedProcess[str]:
    code = (f"import sys; sys.path.insert(0, {str(channel)!r}); import "
            f"{LAUNCHER_NAME.removesuffix('.py')} as launcher; "
            f"launcher.unpack({str(channel / 'sourcedir.tar.gz')!r}, {str(target)!r})")
    return subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True,
                          text=True, timeout=60)


def test_the_code_is_unpacked_by_the_standard_library_alone(tmp_path):
    archive = make_tar(tmp_path / "sourcedir.tar.gz", [("train.py", "file", b"print(1)\n"),
                                                       ("lib/util.py", "file", b"x = 1\n")])
    box = tmp_path / "box"
    box.mkdir()
    done = unpack(code_channel(tmp_path, archive), box / "code")
    assert done.returncode == 0, done.stderr
    assert (box / "code" / "train.py").read_text() == "print(1)\n"
    assert (box / "code" / "lib" / "util.py").read_text() == "x = 1\n"


@pytest.mark.parametrize(("members", "refused"), [
    (realpath_overflow_chain(), "'a': it is a symbolic link"),
    ([("train.py", "file", b"print(1)\n"), ("zero", "chardev", "")], "'zero': it is a device"),
    ([("train.py", "file", b"print(1)\n"), ("pipe", "fifo", "")], "'pipe': it is a FIFO"),
], ids=["realpath-overflow-chain", "device", "fifo"])
def test_a_refused_archive_fails_the_job_in_one_line_with_nothing_written(tmp_path, members,
                                                                          refused):
    archive = make_tar(tmp_path / "sourcedir.tar.gz", members)
    box = tmp_path / "box"
    box.mkdir()
    done = unpack(code_channel(tmp_path, archive), box / "code")
    assert done.returncode == 1
    assert done.stderr.startswith(f"ClientError: sourcedir.tar.gz: refusing to extract "
                                  f"{refused}")
    assert len(done.stderr.splitlines()) == 1  # one line, no traceback
    assert leftovers(box) == []
