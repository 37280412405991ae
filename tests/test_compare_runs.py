"""What a comparison reads of each job: hyperparameters, final metrics, the first host's
points; and which hyperparameters differ."""

from __future__ import annotations

import pytest

from sm_notebook.compare_runs import CompareError, Run, differing, load_runs
from sm_notebook.jobdir import JobDir, JobMeta


def make_job(root, name: str, hps: dict, points: str = "", status: str = "Completed"):
    folder = JobDir(root / name)
    folder.path.mkdir(parents=True)
    folder.write_meta(JobMeta(name, "local", "2026-12-03T10:00:00+00:00",
                              {"hyperparameters": hps}))
    folder.write_state({"status": status})
    if points:
        folder.metric_points_file.write_text(points)
    return folder


def test_runs_are_read_from_the_job_folders_by_name(tmp_path):
    make_job(tmp_path, "a", {"lr": 0.1, "epochs": 3})
    make_job(tmp_path, "b", {"lr": 0.3, "epochs": 3}, status="Failed")
    runs = load_runs(["a", "b"], tmp_path)
    assert [(r.name, r.status, r.hyperparameters["lr"]) for r in runs] == [
        ("a", "Completed", 0.1), ("b", "Failed", 0.3)]


@pytest.mark.parametrize(("names", "message"), [
    (["a"], "give two or more jobs"),
    (["a", "nope"], "no job named 'nope' in .*; did you mean"),
    (["a", "a"], "a is given twice"),
    (["a", "../a"], "invalid job name '../a'"),
])
def test_what_cannot_be_compared_is_said_in_one_line(tmp_path, names, message):
    make_job(tmp_path, "a", {})
    make_job(tmp_path, "nape", {})
    with pytest.raises(Exception, match=message) as caught:
        load_runs(names, tmp_path)
    assert isinstance(caught.value, CompareError) or "invalid job name" in message


def test_the_hyperparameters_that_differ_missing_ones_included():
    runs = [Run("a", "local", "Completed", {"lr": 0.1, "opt": "adam", "n": [1, 2]}, {}),
            Run("b", "local", "Completed", {"lr": 0.3, "opt": "adam", "n": [1, 2],
                                            "seed": 1}, {})]
    assert differing(runs) == ["lr", "seed"]
    assert differing(runs[:1] * 2) == []
