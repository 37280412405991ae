"""The sweep dashboard on real local sweeps (real jobs, the real driver): rows appear while
it runs and the best is marked, a running trial's curve is followed, a trial's own
dashboard opens, Stop all stops the sweep, refreshes are bounded, the final outputs take
the widgets' place, and headless shells get the plain text."""

from __future__ import annotations

import time

import pytest

from sm_notebook.ui import sweep_view
from sm_notebook.ui.snapshot import PLOTLY_MIME
from sm_notebook.ui.sweep_view import SweepView, TextView
from tests.tuning.test_local_sweeps import CLIMB  # x × step at steps 1-8, 0.25 s apart

GRID = ("--hp-range x=int:0:3 --metric score='score=([-0-9.]+)' --objective Maximize:score "
        "--strategy grid --max-jobs 4 --max-parallel 2")


class Shown:
    """What ``display`` would have shown, and each handle's updates."""

    def __init__(self):
        self.outputs: list[dict] = []

    def __call__(self, bundle, raw=False, display_id=False):
        output = {"first": bundle, "updates": []}
        self.outputs.append(output)
        return Handle(output)


class Handle:
    def __init__(self, output):
        self.output = output

    def update(self, obj, raw=False):
        self.output["updates"].append(obj if raw else obj._repr_mimebundle_())


@pytest.fixture
def magics(ip, monkeypatch):
    """The settings of a frontend that draws widgets, with plotly's live figure."""
    settings = ip.magics_manager.registry["SmTrainMagics"]
    monkeypatch.setattr(type(settings), "interactive", lambda self: True)
    monkeypatch.setattr(settings, "chart", "plotly")
    return settings


@pytest.fixture
def start(ip):
    """Start a sweep (its view left to the test); every sweep is stopped at the end."""
    started = []

    def run(name: str, line: str, cell: str):
        ip.run_cell_magic("sm_tune", f"sweep --job-name {name} {line} --quiet", cell)
        started.append(ip.user_ns["sweep"])
        return started[-1]

    yield run
    for sweep in started:
        if not sweep.done:
            sweep.stop()
            sweep.wait(timeout=60)


def until(predicate, timeout: float = 60, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)


def test_rows_appear_live_the_best_is_marked_and_the_final_outputs_replace_the_widgets(
        magics, start):
    sweep = start("viewed", GRID, CLIMB)
    shown = Shown()
    view = SweepView(sweep, magics, show=shown)
    began = time.monotonic()
    counts, live_seen, parcoords_seen = set(), False, False
    while not view.wait_finished(0.05):
        if not sweep.done:
            counts.add(len(view.table.rows))
        live_seen = live_seen or any(view.live.values())
        figure = view.figure
        parcoords_seen = parcoords_seen or (figure is not None and any(
            t.type == "parcoords" and len(t.dimensions[0].values) for t in figure.data))
        assert time.monotonic() - began < 90
    took = time.monotonic() - began
    assert {2, 4} <= counts  # rows came two at a time, as the trials started
    assert live_seen and parcoords_seen  # a running trial's curve; the parcoords drawn
    # bounded: a flush at most each tick (or change), the figure at most each second
    assert view.flushes <= took * magics.refresh_rate + 2
    assert view.figure_draws <= took / sweep_view.FIGURE_EVERY + 2

    table, note, figure = shown.outputs
    assert "application/vnd.jupyter.widget-view+json" in table["first"]
    assert table["first"]["text/plain"].startswith("sweep viewed · ")
    # a notebook saved mid-sweep shows the note (hidden while the widget is drawn)
    assert "saved while the sweep ran" in note["first"]["text/plain"]
    assert "sweep = %sm_attach viewed" in note["first"]["text/html"]
    assert note["updates"][-1] == {"text/plain": ""}  # emptied at the end
    (head,) = table["updates"]
    lines = head["text/plain"].splitlines()
    assert lines[0].startswith("sweep viewed · Completed · 4/4 trials")
    assert lines[2].startswith("★") and "viewed-004" in lines[2]  # best first, starred
    assert head["text/html"].count('class="smnb-best"') == 1
    (final,) = figure["updates"]
    assert figure["first"] == {"text/plain": ""}
    kinds = [t["type"] for t in final[PLOTLY_MIME]["data"]]
    assert kinds[:3] == ["scatter", "scatter", "parcoords"] and len(kinds) == 3 + 4
    parcoords = final[PLOTLY_MIME]["data"][2]
    assert [d["label"] for d in parcoords["dimensions"]] == ["x", "score (maximize)"]
    assert final["image/svg+xml"].startswith("<svg")
    assert final["text/plain"].splitlines()[0] == "best score so far: 24 (viewed-004)"
    assert view.table.comm is None and view.root.comm is None  # the widgets are closed


def test_a_row_s_open_shows_that_trial_s_own_dashboard(magics, start):
    sweep = start("opened", GRID, CLIMB.replace("0.25", "0.75"))  # trials running a while
    view = SweepView(sweep, magics, show=None)
    try:
        until(lambda: any(r["status"] == "Completed" for r in view.table.rows))
        done = next(r["job"] for r in view.table.rows if r["status"] == "Completed")
        view.table._handle_custom_msg({"open": done}, [])  # as the row's button sends it
        (content,) = view.trial.children
        assert "smnb-snapshot" in content.value and done in content.value
        assert done in view.trial_caption.value
        first_wave = {"opened-001", "opened-002"}  # 2 at once: they end together, at once

        def still_running() -> str | None:  # a later trial's row, its job not ended since
            return next((r["job"] for r in view.table.rows if r["status"] == "InProgress"
                         and r["job"] not in first_wave and not sweep.job(r["job"]).done),
                        None)

        until(lambda: still_running() is not None)
        running = still_running()
        view.open_trial(running)
        (board,) = view.trial.children
        assert board is view.boards[running].root and "smnb-dashboard" in board._dom_classes
        view.close_trial.click()
        assert view.trial.children == () and view.trial_caption.value == ""
        view.open_trial("opened-999")  # no such trial: said, not raised
        assert "smnb-error" in view.trial_caption.value
        until(lambda: view.wait_finished(0.05), timeout=90)
        assert view.boards[running].wait_finished(10)
        assert "Completed" in view.boards[running].root.children[0].value
    finally:
        view.close()


def test_stop_all_stops_every_running_trial_and_the_view_ends_stopped(magics, start):
    slow = "import time\nprint('score=1', flush=True)\ntime.sleep(60)\n"
    sweep = start("stopall", "--hp-range x=int:1:9 --metric score='score=([-0-9.]+)' "
                  "--objective Maximize:score --strategy random --max-jobs 6 "
                  "--max-parallel 2", slow)
    shown = Shown()
    view = SweepView(sweep, magics, show=shown)
    until(lambda: sum(r["status"] == "InProgress" for r in view.table.rows) == 2)
    view.stop_button.click()
    assert view.stop_button.disabled and view.stop_button.description == "Stopping"
    view.stop_button.click()  # the second click of a double click: nothing more
    assert sweep.wait(timeout=60) == "Stopped"
    assert view.wait_finished(10)
    head = shown.outputs[0]["updates"][-1]
    assert head["text/plain"].startswith("sweep stopall · Stopped · 2/6 trials (2 stopped)")
    assert set(sweep.trials().status) == {"Stopped"}


def test_a_blocking_cell_s_view_says_to_interrupt_instead(magics, start):
    sweep = start("blocked", GRID, CLIMB)
    view = SweepView(sweep, magics, blocking=True)
    try:
        assert view.stop_button.disabled and "interrupt" in view.stop_button.tooltip
    finally:
        view.close()


def test_headless_shells_get_the_plain_text(ip, start, capsys):
    magics = ip.magics_manager.registry["SmTrainMagics"]
    assert not magics.interactive()  # a terminal shell: no widget is drawn
    ip.run_cell_magic("sm_tune", f"sweep --job-name texted {GRID}", CLIMB)  # not --quiet
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("started sweep texted · ")  # no row yet
    sweep = ip.user_ns["sweep"]
    try:
        sweep.wait(timeout=90)
        view = sweep_view.show(sweep, magics)
        assert isinstance(view, TextView) and view.figure_handle is None
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].startswith("sweep texted · Completed · 4/4 trials")
        assert lines[1].split()[:3] == ["#", "job", "status"] and len(lines) == 6
        assert lines[5].startswith("★") and "texted-004" in lines[5]
    finally:
        sweep.stop()


def test_in_a_kernel_without_widgets_the_text_gives_way_to_the_final_outputs_at_a_cell_end(
        ip, start):
    sweep = start("kernel-text", GRID, CLIMB)
    shown = Shown()
    view = TextView(sweep, shown, ip)
    text, figure = shown.outputs
    assert text["first"]["text/plain"].startswith("sweep kernel-text · ")
    ip.run_cell("1 + 1")  # a cell ends while the sweep runs: nothing yet
    assert text["updates"] == [] and not view.finished
    sweep.wait(timeout=90)
    ip.run_cell("2 + 2")
    ip.run_cell("3 + 3")  # once only
    (head,) = text["updates"]
    assert head["text/plain"].startswith("sweep kernel-text · Completed")
    (final,) = figure["updates"]
    assert "parcoords" in [t["type"] for t in final[PLOTLY_MIME]["data"]]
    assert view.cell_ended not in ip.events.callbacks["post_run_cell"]
