"""Unpacking artifacts never writes outside the target directory."""

from __future__ import annotations

import io
import tarfile

import pytest

from sm_notebook.artifacts import safe_extract
from sm_notebook.errors import SmNotebookError


def make_tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
                info.linkname = data
                tar.addfile(info)
    return path


def test_a_normal_model_archive_is_extracted(tmp_path):
    archive = make_tar(tmp_path / "model.tar.gz", [("model.joblib", "file", b"m"),
                                                   ("sub/config.json", "file", b"{}"),
                                                   ("sub/link", "symlink", "config.json")])
    out = safe_extract(archive, tmp_path / "out")
    assert (out / "model.joblib").read_bytes() == b"m"
    assert (out / "sub" / "link").resolve() == (out / "sub" / "config.json").resolve()


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
    assert not (tmp_path / "out" / "ok.txt").exists()
    assert not (tmp_path / "escape.txt").exists()


def test_a_job_model_is_extracted_next_to_the_job(ip):
    ip.run_cell_magic("sm_train", "job --wait", "import os\nopen(os.path.join("
                      "os.environ['SM_MODEL_DIR'], 'w.bin'), 'wb').write(b'123')\n")
    job = ip.user_ns["job"]
    assert (job.extract_model() / "w.bin").read_bytes() == b"123"
