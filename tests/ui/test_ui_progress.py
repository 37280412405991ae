"""Progress read from the log as tqdm.notebook would show it: counters and tqdm bars, with
rate and time left."""

from __future__ import annotations

import pytest

from sm_notebook.events import LogEvent
from sm_notebook.ui.progress import Progress, progress


def at(second: float, message: str, host: str = "algo-1") -> LogEvent:
    return LogEvent(f"2026-12-03T10:00:{second:06.3f}Z", host, message)


@pytest.mark.parametrize(("line", "unit", "done", "total"), [
    ("step 13/80 loss=0.2", "step", 13, 80),
    ("Epoch [3/10] train_loss: 0.4", "epoch", 3, 10),
    ("epoch: 3 / 10", "epoch", 3, 10),
    ("Iteration 7 of 9", "iter", 7, 9),
    ("batch 5/64", "batch", 5, 64),
])
def test_counters_in_the_forms_scripts_print(line, unit, done, total):
    (found,) = progress([at(0, line)])
    assert (found.unit, found.done, found.total) == (unit, done, total)


def test_an_epoch_and_a_step_on_one_line_give_two_bars():
    found = progress([at(0, "Epoch 2/5 step 40/100 loss=0.1")])
    assert [(p.unit, p.done, p.total) for p in found] == [("epoch", 2, 5), ("step", 40, 100)]


def test_no_progress_where_a_line_only_looks_like_one():
    assert progress([at(0, "loss=0.5 at 2026/12/03"), at(1, "step 90/80")]) == []
    assert progress([]) == []


def test_rate_and_time_left_are_measured_from_the_oldest_line_of_the_same_count():
    lines = [at(0, "epoch 1/10"), at(1, "chatter"), at(2, "epoch 2/10", host="algo-2"),
             at(4, "epoch 3/10")]
    (found,) = progress(lines)
    assert found.rate == pytest.approx(0.5)  # 2 epochs in 4 s, on algo-1
    assert found.left == pytest.approx(14)
    assert found.text() == "epoch 3/10 · 2 s/epoch · 14 s left"
    assert found.fraction == pytest.approx(0.3)


def test_a_tqdm_bar_gives_its_own_rate_and_time_left():
    (found,) = progress([at(0, " 45%|████▌     | 45/100 [00:02<00:03, 18.50it/s]")])
    assert (found.unit, found.done, found.total, found.rate, found.left) == (
        "it", 45, 100, 18.5, 3)
    assert found.text() == "it 45/100 · 18.5 it/s · 3 s left"
    (slow,) = progress([at(0, "train: 10%|█ | 1/10 [00:05<01:02:03,  5.00s/batch]")])
    assert (slow.unit, slow.rate, slow.left) == ("batch", 0.2, 3723)


def test_the_newest_line_that_reports_progress_wins():
    lines = [at(0, "step 1/80"), at(1, "step 2/80"), at(2, "validation loss=0.3")]
    (found,) = progress(lines)
    assert found.done == 2 and found.rate == pytest.approx(1.0)
    assert Progress("step", 80, 80, 1.0, 0.0).text() == "step 80/80 · 1 step/s"
