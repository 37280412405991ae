"""The cell written as the entry script: a Python script's lines are numbered as in the
cell (its first line stands for the %%sm_train line); another program is kept as is."""

from __future__ import annotations

from sm_notebook.cellscript import HEADER, script_text


def test_a_python_script_s_line_n_is_the_cell_s_line_n():
    cell = "import sys\nraise SystemExit(3)"  # the cell's lines 2 and 3
    script = script_text(cell, "train.py")
    assert script.splitlines()[1:] == cell.splitlines() and script.endswith("\n")
    assert script.splitlines()[0] == HEADER.strip() and script.startswith("#")
    compile(script, "train.py", "exec")  # a comment: nothing changes how it runs


def test_a_program_other_than_python_keeps_its_first_line():
    assert script_text("#!/bin/sh\necho hi", "train") == "#!/bin/sh\necho hi\n"
