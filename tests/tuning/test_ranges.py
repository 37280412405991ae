"""Ranges, objectives and the search strategies, as %%sm_tune reads and runs them."""

from __future__ import annotations

import math

import pytest

from sm_notebook.errors import SpecError
from sm_notebook.tuning.objective import TuningOptions, parse_objective
from sm_notebook.tuning.ranges import Range, check_ranges, parse_range, ranges_from_mapping
from sm_notebook.tuning.search import GridSearch, Search, grid, search_for


def test_each_kind_of_range_is_read_with_its_scaling():
    assert parse_range("depth=int:2:8") == Range("depth", "int", 2, 8)
    assert parse_range("lr=log:1e-4:1e-1") == Range("lr", "log", 1e-4, 0.1,
                                                    scaling="Logarithmic")
    assert parse_range("beta=float:0.9:0.999:reverse").scaling == "ReverseLogarithmic"
    assert parse_range("opt=cat:adam,sgd") == Range("opt", "cat", values=("adam", "sgd"))
    assert [r.sagemaker_kind for r in ranges_from_mapping(
        {"a": "int:1:3", "b": ["x", "y"], "c": {"type": "float", "min": 0, "max": 1}})] == [
        "Integer", "Categorical", "Continuous"]


@pytest.mark.parametrize(("text", "message"), [
    ("depth", r"^--hp-range: 'depth' has no NAME="),
    ("depth=int:8:2", r"^--hp-range: depth: the range is empty or inverted \(8 ≥ 2\)"),
    ("depth=int:2:2", r"the range is empty or inverted"),
    ("depth=int:2.5:8", r"^--hp-range: depth: MIN and MAX must be whole numbers"),
    ("lr=log:0:1", r"^--hp-range: lr: a log range must be positive \(MIN > 0, got 0\)"),
    ("lr=float:-1:1:log", r"a log range must be positive"),
    ("b=float:0.5:1.5:reverse", r"a reverse-log range must lie in \[0, 1\)"),
    ("opt=cat:adam", r"^--hp-range: opt: a category list needs two values or more"),
    ("opt=cat:adam,adam", r"a category is listed twice"),
    ("x=normal:0:1", r"^--hp-range: x: unknown range kind 'normal' \(expected NAME=int"),
    ("x=float:0:1:cubic", r"unknown scaling 'cubic'"),
    ("x=float:0:nan", r"MIN and MAX must be finite"),
])
def test_bad_ranges_are_one_line_naming_the_option(text, message):
    with pytest.raises(SpecError, match=message):
        parse_range(text)


def test_a_range_fixed_too_twice_given_or_too_many_for_sagemaker_is_refused():
    ranges = [parse_range("lr=log:1e-4:1e-1")]
    with pytest.raises(SpecError, match=r"^--hp-range: lr is both fixed \(--hp\) and ranged"):
        check_ranges(ranges, {"lr": 0.1}, sagemaker=False)
    with pytest.raises(SpecError, match=r"lr is given two ranges"):
        check_ranges(ranges * 2, {}, sagemaker=False)
    many = [parse_range(f"p{i}=int:1:5") for i in range(31)]
    check_ranges(many, {}, sagemaker=False)  # locally there is no such limit
    with pytest.raises(SpecError, match=r"31 integer ranges; a SageMaker tuning job takes at "
                                        r"most 30"):
        check_ranges(many, {}, sagemaker=True)


def test_the_objective_must_be_a_defined_metric():
    assert parse_objective("Maximize:validation:accuracy", ["validation:accuracy"]).maximize
    assert parse_objective("minimize:loss", ["loss"]).type == "Minimize"
    with pytest.raises(SpecError, match=r"^--objective: 'acc' is not a defined metric "
                                        r"\(defined: loss\)"):
        parse_objective("Maximize:acc", ["loss"])
    with pytest.raises(SpecError, match=r"^--objective: 'Best:loss' is not an objective"):
        parse_objective("Best:loss", ["loss"])
    options = TuningOptions(objective=parse_objective("Minimize:loss", ["loss"]), max_jobs=2,
                            max_parallel=3)
    with pytest.raises(SpecError, match=r"^--max-parallel: 3 is above --max-jobs 2"):
        options.check()


def test_random_search_stays_in_its_ranges_and_repeats_with_its_seed():
    ranges = [parse_range("lr=log:1e-4:1e-1"), parse_range("depth=int:2:8"),
              parse_range("opt=cat:adam,sgd"), parse_range("b=float:0.9:0.999:reverse")]
    first = [Search(ranges, 50, seed=7).suggest() for _ in range(1)]
    search = Search(ranges, 50, seed=7)
    drawn = [search.suggest() for _ in range(50)]
    assert drawn[0] == first[0] and search.suggest() is None  # max-jobs, then nothing
    assert all(1e-4 <= d["lr"] <= 0.1 and 2 <= d["depth"] <= 8 and d["opt"] in ("adam", "sgd")
               and 0.9 <= d["b"] <= 0.999 for d in drawn)
    logs = sorted(math.log10(d["lr"]) for d in drawn)
    assert logs[len(logs) // 2] < -2  # log-uniform: half the draws below 1e-2.5-ish
    assert drawn != [Search(ranges, 50, seed=8).suggest() for _ in range(50)]


def test_grid_search_is_every_combination_and_refuses_a_grid_too_big():
    ranges = [parse_range("depth=int:2:4"), parse_range("opt=cat:adam,sgd")]
    assert grid(ranges) == [{"depth": d, "opt": o} for d in (2, 3, 4) for o in ("adam", "sgd")]
    search = GridSearch(ranges, max_jobs=10)
    assert [search.suggest() for _ in range(7)][-1] is None and search.max_jobs == 6
    with pytest.raises(SpecError, match=r"^--max-jobs: the grid has 6 points, more than "
                                        r"--max-jobs 5"):
        GridSearch(ranges, max_jobs=5)
    with pytest.raises(SpecError, match=r"^--strategy: grid search takes int and cat ranges "
                                        r"only \(lr is continuous\)"):
        grid([parse_range("lr=log:1e-4:1e-1")])


def test_bayesian_search_repeats_with_its_seed_and_learns_from_results():
    ranges = [parse_range("x=float:-5:5")]

    def run(seed):
        search, seen = search_for("bayesian", ranges, 15, seed, maximize=False), []
        while (values := search.suggest()) is not None:
            seen.append(values["x"])
            search.tell(values, (values["x"] - 2) ** 2)
        return seen

    first = run(3)
    assert first == run(3)  # the same seed, the same sweep
    assert min(abs(x - 2) for x in first[5:]) < 0.5  # TPE closes in on the minimum at 2
