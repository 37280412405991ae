"""``parse_line``: the whole line → validated spec, with every refusal a ``SpecError``
that names its option (never argparse's usage text or SystemExit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sm_notebook.errors import SpecError
from sm_notebook.line.parse import Defaults, parse_line

CELL = "print('train')\n"


def parse(line: str, **namespace):
    return parse_line(line, CELL, namespace, Defaults(), Path.cwd())


def test_a_line_gives_a_validated_spec_and_the_launch_options():
    spec, launch = parse("job --hp lr=0.1 --max-run 2h --wait --tag team=ml")
    assert (spec.hyperparameters, spec.max_run, spec.tags) == ({"lr": 0.1}, 7200,
                                                                {"team": "ml"})
    assert (launch.variable, launch.wait, launch.dry_run) == ("job", True, False)
    assert launch.notes == ["--tag is recorded with the job; tags reach AWS only in "
                            "sagemaker mode"]


@pytest.mark.parametrize(("line", "option", "message"), [
    ("--zzz 3", "--zzz", "--zzz: unknown option (see %%sm_train? for the options)"),
    ("--inpt a=b", "--inpt", "--inpt: unknown option; did you mean --input?"),
    ("--max-r 1h", "--max-r",
     "--max-r: unknown option (options are not abbreviated); did you mean --max-run?"),
    ("--hp", "--hp", "--hp: expected a value (--hp KEY=VALUE)"),
    ("--wait=yes", "--wait", "--wait: takes no value, got 'yes' (expected --wait alone)"),
    ("job job2", "line", "line: unexpected extra value 'job2' (expected one value per "
     "option, quoted when it holds spaces; a variable name comes first, as in %%sm_train "
     "job --wait)"),
    ("--mode x", "--mode", "--mode: unknown value 'x' (expected local | container | "
     "sagemaker)"),
])
def test_bad_lines_raise_spec_errors_naming_the_option(line, option, message):
    with pytest.raises(SpecError) as caught:
        parse(line)
    assert (caught.value.option, str(caught.value)) == (option, message)


def test_the_cell_is_checked_too():
    with pytest.raises(SpecError, match=r"^cell: line 2: IPython syntax"):  # as in the cell
        parse_line("", "%time x = 1\n", {}, Defaults(), Path.cwd())
