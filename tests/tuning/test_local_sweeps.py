"""Local sweeps of real jobs through %%sm_tune in a real IPython shell: random with trials
in parallel, grid, Bayesian repeating with its seed, a failing trial, stop all."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.error import UsageError

SKLEARN = (Path(__file__).resolve().parents[1] / "data" / "aws_style" /
           "sklearn_decision_tree.py").read_text()
METRIC = "--metric train_accuracy='train_accuracy=([0-9.]+)' --objective Maximize:train_accuracy"
QUADRATIC = """import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
parser.add_argument("--fail", default="no")
args, _ = parser.parse_known_args()
if args.fail == "yes":
    raise SystemExit("asked to fail")
print(f"score={-(args.x - 2) ** 2:.6f}")
"""


def tune(ip, line: str, cell: str):
    ip.run_cell_magic("sm_tune", f"sweep {line} --wait", cell)
    return ip.user_ns["sweep"]


def test_a_random_sweep_of_an_aws_style_script_runs_every_trial_and_finds_the_best(ip, iris):
    sweep = tune(ip, "--job-name leaves --input train=data/train --hp-range "
                 f"max_leaf_nodes=int:2:40 {METRIC} --strategy random --max-jobs 8 "
                 "--max-parallel 2 --seed 4",
                 SKLEARN)
    assert sweep.status == "Completed"
    trials = sweep.trials()
    assert list(trials.trial) == list(range(1, 9)) and set(trials.status) == {"Completed"}
    assert trials.objective.notna().all() and trials.max_leaf_nodes.between(2, 40).all()
    assert list(trials.job) == [f"leaves-{n:03d}" for n in range(1, 9)]
    best = trials.loc[trials.objective.idxmax()]
    assert trials.best.sum() == 1 and trials.loc[trials.best, "job"].item() == best.job
    assert sweep.best.name == best.job and sweep.best.status == "Completed"
    assert sweep.best.spec.hyperparameters["max_leaf_nodes"] == best.max_leaf_nodes
    assert len(sweep.jobs) == 8


def test_a_grid_sweep_runs_every_point_once(ip):
    sweep = tune(ip, "--job-name grid --hp-range x=int:0:3 --hp-range fail=cat:no,maybe "
                 "--metric score='score=([-0-9.]+)' --objective Maximize:score --strategy grid "
                 "--max-jobs 8 --max-parallel 2", QUADRATIC)
    trials = sweep.trials()
    assert sorted(zip(trials.x, trials.fail, strict=True)) == [(x, f) for x in range(4)
                                                  for f in ("maybe", "no")]
    assert sweep.best_trial().values["x"] == 2


def test_a_bayesian_sweep_with_a_seed_repeats_exactly(ip):
    line = ("--hp-range x=float:-5:5 --metric score='score=([-0-9.]+)' --objective "
            "Maximize:score --strategy bayesian --max-jobs 6 --max-parallel 1 --seed 11")
    first = tune(ip, f"--job-name bayes-a {line}", QUADRATIC).trials()
    again = tune(ip, f"--job-name bayes-b {line}", QUADRATIC).trials()
    assert list(first.x) == list(again.x) and list(first.objective) == list(again.objective)


def test_a_failing_trial_is_a_row_saying_why_and_the_sweep_goes_on(ip):
    sweep = tune(ip, "--job-name failing --hp-range fail=cat:no,yes --hp x=1 "
                 "--metric score='score=([-0-9.]+)' --objective Maximize:score "
                 "--strategy grid --max-jobs 2", QUADRATIC)
    rows = sweep.trials().set_index("fail")
    assert rows.loc["no", "status"] == "Completed" and rows.loc["no", "objective"] == -1.0
    assert rows.loc["yes", "status"] == "Failed"
    assert "asked to fail" in rows.loc["yes", "failure_reason"]
    assert sweep.status == "Completed" and sweep.best.name == rows.loc["no", "job"]


def test_stop_stops_every_running_trial_and_launches_no_more(ip):
    slow = "import time\nprint('score=1')\ntime.sleep(60)\n"
    ip.run_cell_magic("sm_tune", "sweep --job-name stopping --hp-range x=int:1:9 --metric "
                      "score='score=([-0-9.]+)' --objective Maximize:score --strategy random "
                      "--max-jobs 6 --max-parallel 2", slow)
    sweep = ip.user_ns["sweep"]
    import time

    deadline = time.monotonic() + 30
    while sum(t.status == "InProgress" for t in sweep.trial_list()) < 2:
        assert time.monotonic() < deadline, sweep.trials()
        time.sleep(0.1)
    sweep.stop()
    assert sweep.wait(timeout=60) == "Stopped"
    trials = sweep.trials()
    assert len(trials) == 2 and set(trials.status) == {"Stopped"}
    assert all(job.status == "Stopped" for job in sweep.jobs)


@pytest.mark.parametrize(("line", "message"), [
    ("--hp-range x=int:5:1 --metric s='s=(.*)' --objective Maximize:s",
     r"^--hp-range: x: the range is empty or inverted"),
    ("--hp-range x=int:1:5 --metric s='s=(.*)' --objective Maximize:t",
     r"^--objective: 't' is not a defined metric \(defined: s\)"),
    ("--hp-range x=int:1:5 --metric s='s=(.*)'", r"^--objective: a sweep needs an objective"),
    ("--hp-range x=int:1:5 --hp x=2 --metric s='s=(.*)' --objective Maximize:s",
     r"^--hp-range: x is both fixed \(--hp\) and ranged"),
    ("--hp-range x=int:1:5 --metric s='s=(.*)' --objective Maximize:s --max-jobs 2 "
     "--max-parallel 3", r"^--max-parallel: 3 is above --max-jobs 2"),
    ("--hp-range x=int:1:9 --metric s='s=(.*)' --objective Maximize:s --strategy grid "
     "--max-jobs 4", r"^--max-jobs: the grid has 9 points, more than --max-jobs 4"),
    ("--hp-range x=cat:a --metric s='s=(.*)' --objective Maximize:s",
     r"^--hp-range: x: a category list needs two values"),
    ("--hp-range x=int:1:5 --metric s='s=(.*)' --objective Maximize:s --strategy genetic",
     r"^--strategy: 'genetic' is not one of random, grid, bayesian, hyperband"),
    ("--hp-range x=int:1:5 --metric s='s=(.*)' --objective Maximize:s --colour red",
     r"^--colour: unknown option"),
])
def test_bad_input_is_one_usage_error_and_creates_nothing(ip, jobs_dir, line, message):
    with pytest.raises(UsageError, match=message):
        ip.run_cell_magic("sm_tune", f"sweep {line}", QUADRATIC)
    assert not (jobs_dir / ".sweeps").exists() and "sweep" not in ip.user_ns


def test_a_sweep_outlives_a_kernel_restart_and_is_attached_listed_and_finished(run_dir):
    from tests.kernel import Kernel

    kernel = Kernel(run_dir)
    try:
        kernel.run("%%sm_tune sweep --job-name restarted --hp-range x=int:0:3 --metric "
                   "score='score=([-0-9.]+)' --objective Maximize:score --strategy grid "
                   "--max-jobs 4 --max-parallel 1\nimport time; time.sleep(1)\n" + QUADRATIC)
        kernel.manager.restart_kernel(now=True)  # the sweep's driver is not the kernel's
        kernel.client.wait_for_ready(timeout=120)
        kernel.run("%load_ext sm_notebook")
        said = kernel.run("sweep = %sm_attach restarted\nprint(sweep.wait(timeout=120))\n"
                          "print(sweep.best.spec.hyperparameters['x'])\n"
                          "frame = %sm_jobs\n"
                          "print(sorted(frame[frame.sweep == 'restarted'].name))")
    finally:
        kernel.close()
    lines = said.strip().splitlines()
    assert lines[0].startswith("attached to sweep restarted · ")
    assert lines[1:] == ["Completed", "2", str([f"restarted-{n:03d}" for n in range(1, 5)])]


SERVABLE = """import argparse


def model_fn(model_dir):
    return 1


def predict_fn(data, model):
    return "served"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--x", type=float)
    args, _ = parser.parse_known_args()
    print(f"score={-(args.x - 2) ** 2:.6f}")
"""
CLIMB = """import argparse, time
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
args, _ = parser.parse_known_args()
for step in range(1, 9):
    print(f"step {step} score={args.x * step}", flush=True)
    time.sleep(0.25)
"""


def test_early_stopping_auto_stops_trials_below_the_median_of_the_completed(ip):
    sweep = tune(ip, "--job-name median --hp-range x=cat:5,4,3,1,0 --metric "
                 "score='score=([-0-9.]+)' --objective Maximize:score --strategy grid "
                 "--max-jobs 5 --early-stopping auto", CLIMB)
    rows = sweep.trials().set_index("x")
    assert list(rows.loc[["5", "4", "3"], "status"]) == ["Completed"] * 3
    assert list(rows.loc[["1", "0"], "status"]) == ["Stopped"] * 2
    assert rows.loc["1", "stopped_early"] and "worse than the median" in rows.loc[
        "1", "failure_reason"]
    stopped = [t for t in sweep.trial_list() if t.stopped_early]
    assert all(len(t.steps) < 8 for t in stopped)  # stopped before their last step
    assert sweep.best_trial().values["x"] == "5"


def test_hyperband_halves_the_trials_at_each_rung(ip):
    sweep = tune(ip, "--job-name halving --hp-range x=int:0:9 --metric "
                 "score='score=([-0-9.]+)' --objective Maximize:score --strategy hyperband "
                 "--max-jobs 5 --seed 3", CLIMB)
    trials = sweep.trial_list()
    assert len(trials) == 5 and trials[0].status == "Completed"  # nothing to halve against
    early = [t for t in trials if t.stopped_early]
    assert early and all(t.status == "Stopped" and len(t.steps) < 8 for t in early)
    assert all("outside the top" in t.failure_reason for t in early)
    best_reached = max(t.steps[-1][1] for t in trials)
    assert sweep.best_trial().objective == best_reached  # the best is never halved away


def test_a_warm_started_bayesian_sweep_starts_from_its_parent_s_results(ip):
    line = ("--hp-range x=float:-5:5 --metric score='score=([-0-9.]+)' --objective "
            "Maximize:score --strategy bayesian --seed 2")
    parent = tune(ip, f"--job-name parent {line} --max-jobs 6", QUADRATIC)
    cold = tune(ip, f"--job-name cold {line} --max-jobs 2", QUADRATIC).trials()
    warm = tune(ip, f"--job-name warm {line} --max-jobs 2 --warm-start parent",
                QUADRATIC).trials()
    assert list(warm.x) != list(cold.x)  # the parent's six results changed the search
    assert parent.status == "Completed"
    with pytest.raises(UsageError, match=r"^--warm-start: no sweep 'orphan' here \(sweeps: "):
        ip.run_cell_magic("sm_tune", f"sweep {line} --warm-start orphan", QUADRATIC)
    with pytest.raises(UsageError, match=r"^--warm-start: a random search does not learn"):
        ip.run_cell_magic("sm_tune", f"sweep {line.replace('bayesian', 'random')} "
                          "--warm-start parent", QUADRATIC)


def test_ranges_from_a_dict_or_a_yaml_file_and_the_best_trial_deploys(ip, run_dir):
    ip.user_ns["space"] = {"x": "int:1:3"}
    (run_dir / "space.yaml").write_text('fail: ["no", maybe]\n')  # YAML: a bare no is False
    sweep = tune(ip, "--job-name spaces --hp-ranges $space --hp-ranges space.yaml "
                 "--metric score='score=([-0-9.]+)' --objective Maximize:score "
                 "--strategy grid --max-jobs 6 --max-parallel 2", SERVABLE)
    assert sorted(zip(sweep.trials().x, sweep.trials().fail, strict=True)) == [
        (x, f) for x in (1, 2, 3) for f in ("maybe", "no")]
    predictor = sweep.best.deploy()  # the best trial's model, served by its handlers
    try:
        assert predictor.predict([1]) == "served"
    finally:
        predictor.delete()
    with pytest.raises(UsageError, match=r"^--hp-ranges: 'absent.yaml' is neither a dict nor "
                                         r"a file"):
        ip.run_cell_magic("sm_tune", "sweep --hp-ranges absent.yaml --metric s='s=(.*)' "
                          "--objective Maximize:s", QUADRATIC)
