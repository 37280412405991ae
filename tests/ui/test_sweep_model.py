"""What the sweep dashboard shows (pure): the table and its sorting, the best trial, the
best-so-far series, the curves, the parallel-coordinates axes, the figure and the text."""

from __future__ import annotations

import math

import pytest

from sm_notebook.tuning.sweep_dir import Trial, best_trial
from sm_notebook.ui import sweep_figure, sweep_model
from sm_notebook.ui.sweep_model import SweepState

RANGES = [{"name": "lr", "kind": "log", "low": 1e-4, "high": 1e-1, "values": [],
           "scaling": "Auto"},
          {"name": "depth", "kind": "int", "low": 2, "high": 8, "values": [],
           "scaling": "Auto"},
          {"name": "opt", "kind": "cat", "low": 0, "high": 0, "values": ["adam", "sgd"],
           "scaling": "Auto"}]


def trial(number: int, status: str, objective: float | None, lr: float = 1e-3,
          depth: int = 4, opt: str = "adam", **more) -> Trial:
    return Trial(number, f"sw-{number:03d}", {"lr": lr, "depth": depth, "opt": opt},
                 status=status, objective=objective, started=100.0 + number,
                 ended=None if status in ("Pending", "InProgress") else 110.0 + 2 * number,
                 **more)


def state(trials: list[Trial], kind: str = "Maximize", status: str = "InProgress"
          ) -> SweepState:
    return SweepState("sw", status, f"sweep sw · {status}", {"type": kind, "metric": "acc"},
                      RANGES, 6, 2, "random", trials)


TRIALS = [trial(1, "Completed", 0.7, steps=[[1, 0.5], [2, 0.7]]),
          trial(2, "Failed", None, lr=1e-2, failure_reason="asked to fail"),
          trial(3, "Completed", 0.9, lr=1e-1, depth=8, opt="sgd", steps=[[1, 0.6], [2, 0.9]]),
          trial(4, "Completed", 0.6, depth=2, steps=[[1, 0.6]]),
          trial(5, "InProgress", None, depth=6)]


@pytest.mark.parametrize(("kind", "best"), [("Maximize", 3), ("Minimize", 4)])
def test_the_best_is_the_best_completed_trial_whichever_way_the_sweep_optimises(kind, best):
    assert state(TRIALS, kind).best.number == best
    assert best_trial([TRIALS[1], TRIALS[4]], True) is None


def test_a_row_a_trial_with_its_values_objective_duration_and_why_and_the_best_marked():
    table = sweep_model.rows(state(TRIALS), now=120.0)
    assert [r["cells"]["trial"] for r in table] == ["1", "2", "3", "4", "5"]
    assert [r["best"] for r in table] == [False, False, True, False, False]
    third = table[2]
    assert third["cells"] == {"trial": "3", "job": "sw-003", "status": "Completed",
                              "lr": "0.1", "depth": "8", "opt": "sgd", "objective": "0.9",
                              "duration": "13 s", "note": ""}
    assert third["sort"]["objective"] == 0.9 and third["sort"]["duration"] == 13.0
    assert table[1]["cells"]["note"] == "asked to fail" and table[1]["cells"]["objective"] == ""
    assert table[4]["cells"]["duration"] == "15 s"  # running: until now
    assert [c.key for c in sweep_model.columns(state(TRIALS))] == [
        "trial", "job", "status", "lr", "depth", "opt", "objective", "duration", "note"]
    stopped = trial(6, "Stopped", 0.1, stopped_early=True, failure_reason="worse than median")
    assert sweep_model.note(stopped) == "stopped early: worse than median"


def test_sorting_puts_numbers_in_order_and_blanks_last_either_way():
    table = sweep_model.rows(state(TRIALS), now=120.0)
    by = lambda key, down: [r["sort"]["trial"] for r in  # noqa: E731
                            sweep_model.sort_rows(table, key, down)]
    assert by("objective", True) == [3, 1, 4, 2, 5]  # the failed and the running last
    assert by("objective", False) == [4, 1, 3, 2, 5]
    assert by("depth", False) == [4, 1, 2, 5, 3]  # ties keep the trial order
    assert by("opt", True) == [3, 1, 2, 4, 5]
    assert by("status", False) == [1, 3, 4, 2, 5]
    assert sweep_model.sort_key("5") < sweep_model.sort_key("10") < sweep_model.sort_key("a")


def test_best_so_far_steps_through_the_completed_trials():
    assert sweep_model.best_so_far(state(TRIALS)) == ([1, 3, 4], [0.7, 0.9, 0.9])
    assert sweep_model.best_so_far(state(TRIALS, "Minimize")) == ([1, 3, 4], [0.7, 0.7, 0.6])


def test_curves_come_from_the_driver_s_record_else_from_what_a_running_trial_logged():
    found = sweep_model.curves(state(TRIALS), {"sw-005": [(1.0, 0.2), (2.0, 0.3)]})
    assert [(c.job, c.x, c.y, c.objective, c.best) for c in found] == [
        ("sw-001", [1.0, 2.0], [0.5, 0.7], 0.7, False),
        ("sw-003", [1.0, 2.0], [0.6, 0.9], 0.9, True),
        ("sw-004", [1.0], [0.6], 0.6, False),
        ("sw-005", [1.0, 2.0], [0.2, 0.3], None, False)]
    long = [trial(1, "Completed", 1.0, steps=[[s, s] for s in range(5000)])]
    (curve,) = sweep_model.curves(state(long), max_points=100)
    assert len(curve.x) <= 100 and curve.x[0] == 0 and curve.x[-1] == 4999
    many = [trial(n, "Completed", 1.0, steps=[[s, s] for s in range(1000)])
            for n in range(1, 51)]  # a redraw stays small however many trials
    found = sweep_model.curves(state(many))
    assert len(found) == 50 and sum(len(c.x) for c in found) <= sweep_model.ALL_POINTS
    assert all(len(c.x) >= sweep_model.MIN_POINTS for c in found)


def test_parallel_axes_span_each_range_log_as_log_and_categories_by_name():
    axes, drawn = sweep_model.dimensions(state(TRIALS))
    assert [t.number for t in drawn] == [1, 3, 4]
    lr, depth, opt, objective = axes
    assert lr.label == "lr (log)" and lr.range == (-4.0, -1.0)
    assert lr.values == pytest.approx([-3.0, -1.0, -3.0])
    assert lr.ticktext == ["0.0001", "0.0005623", "0.003162", "0.01778", "0.1"]
    assert depth.values == [4.0, 8.0, 2.0] and depth.range == (2.0, 8.0)
    assert opt.values == [0.0, 1.0, 0.0] and opt.ticktext == ["adam", "sgd"]
    assert opt.tickvals == [0.0, 1.0]
    assert objective.label == "acc (maximize)" and objective.values == [0.7, 0.9, 0.6]
    odd = sweep_model.axis(RANGES[2], ["rmsprop"])  # a value outside the list: no line
    assert math.isnan(odd.values[0])


def test_the_text_form_is_the_summary_then_the_table_the_best_starred():
    text = sweep_model.sweep_text(state(TRIALS)).splitlines()
    assert text[0] == "sweep sw · InProgress"
    assert text[1].split() == ["#", "job", "status", "lr", "depth", "opt", "acc",
                               "duration", "note"]
    assert text[4].startswith("★") and "sw-003" in text[4]
    assert text[3].split()[:3] == ["2", "sw-002", "Failed"] and "asked to fail" in text[3]
    assert sweep_model.sweep_text(state([])) == "sweep sw · InProgress"


def test_the_header_and_the_static_table_mark_the_best():
    header = sweep_model.header_html(state(TRIALS))
    assert "<b>sw</b>" in header and "5/6 trials (1 running)" in header
    assert "best 0.9 (sw-003: lr=0.1, depth=8, opt=sgd)" in header
    table = sweep_model.table_html(state(TRIALS))
    assert table.count('<tr class="smnb-best"') == 1 and "3 ★</td>" in table


def test_the_signature_moves_with_anything_drawn():
    before = sweep_model.signature(state(TRIALS), {"sw-005": [(1.0, 0.2)]})
    assert before == sweep_model.signature(state(TRIALS), {"sw-005": [(1.0, 0.2)]})
    assert before != sweep_model.signature(state(TRIALS), {"sw-005": [(1.0, 0.2), (2, 0.3)]})
    assert before != sweep_model.signature(state(TRIALS, status="Completed"),
                                           {"sw-005": [(1.0, 0.2)]})


def test_the_figure_has_best_so_far_parcoords_and_a_curve_a_trial_coloured_by_objective():
    spec = sweep_figure.figure(state(TRIALS), {"sw-005": [(1.0, 0.2)]})
    uids = [t["uid"] for t in spec["data"]]
    assert uids == ["best", "objectives", "parcoords", "curve|sw-001", "curve|sw-003",
                    "curve|sw-004", "curve|sw-005"]
    best, points, parcoords, *curves = spec["data"]
    assert best["x"] == [1, 3, 4] and best["line"]["shape"] == "hv"
    assert points["marker"]["symbol"] == ["circle", "star", "circle"]
    assert [d["label"] for d in parcoords["dimensions"]] == ["lr (log)", "depth", "opt",
                                                            "acc (maximize)"]
    assert parcoords["line"]["color"] == [0.7, 0.9, 0.6]
    assert parcoords["line"]["colorscale"][-1][1] == sweep_figure.SCALE[-1]  # bright: best
    colours = {c["name"]: c["line"]["color"] for c in curves}
    assert colours["sw-003"] == sweep_figure.SCALE[-1] and colours["sw-004"] == \
        sweep_figure.SCALE[0]
    assert colours["sw-005"] == sweep_figure.RUNNING_GREY  # running: no objective yet
    assert {c["xaxis"] for c in curves} == {"x2"}
    assert [c["line"]["width"] for c in curves] == [1.6, 3.5, 1.6, 1.6]  # the best thicker
    minimize = sweep_figure.figure(state(TRIALS, "Minimize"))
    assert minimize["data"][2]["line"]["colorscale"][0][1] == sweep_figure.SCALE[-1]
    layout = spec["layout"]
    assert layout["template"] == "plotly_white" and "paper_bgcolor" not in layout
    assert [a["text"] for a in layout["annotations"][:3]] == [
        "best acc so far: 0.9 (sw-003)", "acc by step",
        "hyperparameters → acc (completed trials)"]
    dark = sweep_figure.figure(state(TRIALS), dark=True)
    assert dark["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"
    assert dark["data"][2]["line"]["colorscale"][0][1] == sweep_figure.DARK_SCALE[0]
    assert dark["data"][3]["line"]["color"] != colours["sw-001"]  # lighter on a dark page


def test_the_figure_waits_for_something_to_draw():
    nothing = state([trial(1, "InProgress", None)])
    assert not sweep_figure.drawable(nothing, {})
    assert sweep_figure.drawable(nothing, {"sw-001": [(1.0, 0.1)]})
    assert [t["uid"] for t in sweep_figure.figure(nothing)["data"]] == ["best", "objectives"]
    assert sweep_figure.drawable(state(TRIALS), {})


def test_the_colour_scale_runs_from_its_first_stop_to_its_last():
    assert sweep_figure.colour_at(0.0) == sweep_figure.SCALE[0]
    assert sweep_figure.colour_at(1.0) == sweep_figure.SCALE[-1]
    assert sweep_figure.colour_at(2.0) == sweep_figure.SCALE[-1]
    middle = sweep_figure.colour_at(0.5)
    assert middle == sweep_figure.SCALE[3]
