"""Local mode checks a requirements file against the interpreter's packages, following
``-r`` includes; includes that loop are one line naming --requirements."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError


def nothing_created(jobs_dir) -> bool:
    return not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


def test_a_requirements_file_that_includes_itself_is_one_line(ip, run_dir, jobs_dir):
    (run_dir / "requirements.txt").write_text("ipython\n-r requirements.txt\n")
    with pytest.raises(UsageError, match=r"^--requirements: requirements\.txt line 2: "
                       r"'-r requirements\.txt' includes a file already being read "
                       r"\(requirements\.txt → requirements\.txt\) \(expected -r lines that "
                       r"never include a file that includes them\)$"):
        ip.run_cell_magic("sm_train", "--requirements requirements.txt", "print(1)\n")
    assert nothing_created(jobs_dir)


def test_files_including_each_other_are_refused_naming_the_loop(ip, run_dir, jobs_dir):
    (run_dir / "reqs").mkdir()
    (run_dir / "reqs" / "base.txt").write_text("ipython\n-r extra.txt\n")
    (run_dir / "reqs" / "extra.txt").write_text("# comment\n--requirement ./base.txt\n")
    with pytest.raises(UsageError, match=r"^--requirements: extra\.txt line 2: "
                       r"'--requirement \./base\.txt' includes a file already being read "
                       r"\(base\.txt → extra\.txt → base\.txt\)"):
        ip.run_cell_magic("sm_train", "--requirements reqs/base.txt", "print(1)\n")
    assert nothing_created(jobs_dir)


def test_a_file_included_twice_without_a_loop_is_read_twice_and_passes(ip, run_dir):
    (run_dir / "common.txt").write_text("ipython\n")
    (run_dir / "a.txt").write_text("-r common.txt\n")
    (run_dir / "requirements.txt").write_text("-r common.txt\n-r a.txt\n")
    ip.run_cell_magic("sm_train", "job --requirements requirements.txt --wait", "print(1)\n")
    assert ip.user_ns["job"].status == "Completed"
