"""Shared fixtures: a real IPython shell with the extension loaded, isolated job folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def jobs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Jobs go under a fresh folder; the working directory is a fresh folder too."""
    path = tmp_path / "jobs"
    monkeypatch.setenv("SM_NOTEBOOK_JOBS_DIR", str(path))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return path


@pytest.fixture(scope="session")
def _shell():
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.run_line_magic("load_ext", "sm_notebook")
    return shell


@pytest.fixture
def ip(_shell, jobs_dir: Path):
    """The session's real ``InteractiveShell`` with sm_notebook loaded and a clean namespace."""
    before = set(_shell.user_ns)
    magics = _shell.magics_manager.registry["SmTrainMagics"]
    magics.jobs.clear()
    yield _shell
    for name in set(_shell.user_ns) - before:
        del _shell.user_ns[name]
    for job in list(magics.jobs.values()):
        if not job.done:
            job.stop()
            job.wait(timeout=60)


@pytest.fixture
def run_dir(jobs_dir: Path) -> Path:
    """The working directory a test's magics resolve relative paths against."""
    return Path(os.getcwd())
