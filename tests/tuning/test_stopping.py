"""The early-stopping rules on per-step curves, without jobs."""

from sm_notebook.tuning.stopping import best_until, halving_stop, median_stop, rungs


def line(slope: float, steps: int) -> list[tuple[float, float]]:
    return [(float(s), slope * s) for s in range(1, steps + 1)]


def test_the_median_rule_waits_for_three_completed_and_never_judges_a_first_step():
    done = [line(5, 8), line(4, 8), line(3, 8)]
    assert median_stop(line(1, 3), done[:2], maximize=True) is None
    assert median_stop(line(1, 1), done, maximize=True) is None
    assert median_stop(line(1, 3), done, maximize=True).startswith(
        "stopped early at step 3: best 3 is worse than the median 12 of 3 completed")
    assert median_stop(line(6, 3), done, maximize=True) is None
    assert median_stop(line(1, 3), done, maximize=False) is None  # minimising: 1 is good


def test_successive_halving_keeps_the_top_third_at_each_rung():
    assert rungs(10) == [1, 3, 9]
    others = [line(9, 8), line(8, 8)]
    assert halving_stop(line(7, 2), others, maximize=True).startswith(
        "stopped early at rung 1: best 7 is outside the top 1 of 3")
    assert halving_stop(line(10, 2), others, maximize=True) is None
    assert halving_stop(line(1, 2), others[:1], maximize=True) is None  # too few at the rung
    assert best_until(line(2, 5), 3, maximize=True) == 6
