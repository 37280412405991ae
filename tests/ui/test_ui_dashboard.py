"""The live dashboard, without a browser: real local jobs, real ipywidgets and plotly, and
every comm message the widgets send captured and measured (ipywidgets' own test method)."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from sm_notebook.ui.dashboard import TEXT_EVERY, Dashboard
from sm_notebook.ui.snapshot import PLOTLY_MIME

SVG = "{http://www.w3.org/2000/svg}"


class RecordingComm:
    """What a kernel comm would send, kept with its size in bytes."""

    kernel = "a kernel"  # truthy, or ipywidgets sends nothing

    def __init__(self, log: list, **kwargs):
        self.comm_id = kwargs.get("comm_id") or uuid.uuid4().hex
        self.log = log
        self.closed = False
        self._record("open", kwargs.get("data"), kwargs.get("buffers"))

    def _record(self, kind, data, buffers) -> None:
        size = len(json.dumps(data, default=str)) + sum(len(b) for b in buffers or [])
        self.log.append((time.monotonic(), kind, self.comm_id, size))

    def send(self, data=None, metadata=None, buffers=None) -> None:
        self._record("update", data, buffers)

    def open(self, *args, **kwargs) -> None:
        pass

    def on_msg(self, *args, **kwargs) -> None:
        pass

    def close(self, *args, **kwargs) -> None:
        self.closed = True
        self._record("close", None, None)


@pytest.fixture
def comms(monkeypatch):
    import comm

    log: list = []
    lock = threading.Lock()

    def create_comm(**kwargs):
        with lock:
            return RecordingComm(log, **kwargs)

    monkeypatch.setattr(comm, "create_comm", create_comm)
    return log


class Handle:
    """IPython's ``display`` as the dashboard calls it: every output it shows, each with
    its own display handle."""

    def __init__(self):
        self.outputs: list[Output] = []

    def __call__(self, obj, raw=False, display_id=False):
        self.outputs.append(Output(obj))
        return self.outputs[-1]


class Output:
    """One output: what was shown first and every update."""

    def __init__(self, shown):
        self.shown, self.updates = shown, []

    def update(self, obj, raw=False):
        self.updates.append(obj)

    @property
    def last(self) -> dict:
        """The bundle it shows now."""
        obj = self.updates[-1] if self.updates else self.shown
        return obj if isinstance(obj, dict) else obj._repr_mimebundle_()


def start(ip, name: str, cell: str, line: str = ""):
    ip.run_cell_magic("sm_train", f"job --job-name {name} --quiet {line}", cell)
    return ip.user_ns["job"]


TRAINING = ("import time\n"
            "for epoch in range(1, 6):\n"
            "    print(f'epoch {epoch} loss={1 / epoch:.3f} accuracy={epoch / 5:.2f}',"
            " flush=True)\n"
            "    time.sleep(0.2)\n")


def test_a_job_is_shown_live_then_left_as_three_plain_outputs_with_its_widgets_closed(
        ip, comms):
    job = start(ip, "shown", TRAINING)
    handle = Handle()
    board = Dashboard(job, show=handle)
    widget, note, chart_output, log_output = handle.outputs
    shown = widget.shown
    assert shown["application/vnd.jupyter.widget-view+json"]["model_id"] == board.root.model_id
    assert "shown · local" in shown["text/plain"] and "smnb-header" in shown["text/html"]
    # what a notebook saved now would reopen on, in place of the widget
    assert "job = %sm_attach shown" in note.shown["text/plain"]
    assert "saved while the job ran" in note.shown["text/html"]
    assert 'class="smnb-saved smnb-saved-shown"' in note.shown["text/html"]
    assert chart_output.shown == log_output.shown == {"text/plain": ""}
    assert job.wait(timeout=60) == "Completed"
    assert board.wait_finished(timeout=10)

    head, figure, log = widget.last, chart_output.last, log_output.last
    assert note.last == {"text/plain": ""}  # the job's end is no note's business
    assert "Completed" in head["text/plain"] and "smnb-snapshot" in head["text/html"]
    assert "epoch 5 loss=0.200" in log["text/html"]
    # the chart: plotly's own JSON (interactive where plotly draws, no widget state, no
    # plotly.js inside) and matplotlib's SVG for viewers without plotly
    spec = figure[PLOTLY_MIME]
    assert [t["name"] for t in spec["data"]] == [  # one host: no host in the names
        "accuracy", "accuracy (smoothed)", "loss", "loss (smoothed)"]
    assert "plotly.min.js" not in json.dumps(figure) and len(json.dumps(figure)) < 60_000
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert titles == ["accuracy: 1 (best 1)", "loss: 0.2 (best 0.2)"]
    texts = [t.text for t in ET.fromstring(figure["image/svg+xml"]).iter(f"{SVG}text")]
    assert "loss: 0.2 (best 0.2)" in texts and "step" in texts
    assert board.figure is not None and board.figure.comm is None  # closed: not saved
    assert board.root.comm is None


def test_the_live_chart_has_a_subplot_per_metric_titled_with_its_values_and_ticks_below(
        ip, comms):
    job = start(ip, "chart", TRAINING)
    board = Dashboard(job, show=Handle())
    job.wait(timeout=60)
    board.wait_finished(timeout=10)
    layout = board.figure.layout
    raw = [t for t in board.figure.data if not t.name.endswith("(smoothed)")]
    assert [t.name for t in raw] == ["accuracy", "loss"]  # one host: not named
    assert list(raw[1].x) == [1, 2, 3, 4, 5] and raw[1].yaxis == "y2"
    # the x title and ticks under the bottom subplot only; the upper one follows its zoom
    assert layout.xaxis2.title.text == "step" and layout.xaxis2.showticklabels
    assert layout.xaxis.showticklabels is False and layout.xaxis2.matches == "x"
    assert [a.text for a in layout.annotations] == ["accuracy: 1 (best 1)",
                                                     "loss: 0.2 (best 0.2)"]
    assert layout.hovermode == "x unified" and layout.autosize and layout.width is None
    assert [m.name for m in layout.updatemenus] == ["scale", "smoothing"]


def test_a_100000_line_job_is_flushed_a_few_times_a_second_in_bounded_messages(ip, comms):
    cell = ("for i in range(100_000):\n"
            "    print(f'step {i} loss={1 / (i + 1):.6f} and chatter to fill the line')\n")
    job = start(ip, "flood", cell)
    began = time.monotonic()
    board = Dashboard(job, show=Handle(), rate=4.0, log_lines=200, max_points=300)
    assert job.wait(timeout=120) == "Completed"
    assert board.wait_finished(timeout=30)
    seconds = time.monotonic() - began

    assert job.line_count == 100_000
    assert board.flushes <= 4 * seconds + 3
    sent = [entry for entry in comms if entry[1] == "update"]
    assert len(sent) / seconds <= 60  # messages a second: far below the server's 1000
    # Each flush: three HTML panels (the log is the last 200 lines) and one batch_update
    # of every trace at most 300 points long.
    assert max(size for *_, size in sent) < 120_000
    assert all(len(trace.x) <= 300 for trace in board.figure.data)
    assert sum(t.total for t in board.series.traces()) == 100_000  # every point seen


def test_stop_stops_the_job_and_detach_leaves_it_running(ip, comms, monkeypatch):
    job = start(ip, "stopped", "import time\nprint('up', flush=True)\ntime.sleep(60)\n")
    board = Dashboard(job, show=Handle())
    asked, stop = [], job.stop
    monkeypatch.setattr(job, "stop", lambda: (asked.append(1), stop()))
    board.stop_button.click()
    board.stop_button.click()  # a double click: both reach the kernel
    assert job.wait(timeout=60) == "Stopped"
    assert asked == [1]
    assert board.stop_button.description == "Stopping"

    other = start(ip, "detached", "import time\nprint('up', flush=True)\ntime.sleep(60)\n")
    other_board = Dashboard(other, show=Handle())
    other_board.detach_button.click()
    assert other_board.wait_finished(timeout=30)
    assert other.status == "InProgress"  # still running, no longer followed
    other.stop()


def test_while_the_cell_waits_for_the_job_the_buttons_say_to_interrupt_instead(ip, comms):
    job = start(ip, "waited", "print('quick')\n")
    board = Dashboard(job, show=Handle(), blocking=True)
    assert board.stop_button.disabled and board.detach_button.disabled
    assert "interrupt the kernel" in board.stop_button.tooltip
    job.wait(timeout=60)
    board.wait_finished(timeout=10)


def test_the_filter_box_narrows_the_log_and_errors_are_marked(ip, comms):
    cell = ("print('epoch 1 loss=0.5')\nprint('warming up')\n"
            "raise ValueError('bad batch')\n")
    job = start(ip, "filtered", cell)
    board = Dashboard(job, show=Handle())
    job.wait(timeout=60)
    board.log_controls.text_box.value = "loss"
    board._flush()  # as the flusher does on the change
    assert "epoch 1 loss=0.5" in board.log.value and "warming up" not in board.log.value
    assert re.search(r"1 of the last \d+ lines match “loss”", board.log_caption.value)
    board.log_controls.text_box.value = "[algo-1] warm"  # the host tag as shown
    board._flush()
    assert "warming up" in board.log.value and "loss" not in board.log.value
    board.log_controls.regex_box.value = True
    board.log_controls.text_box.value = "epoch [0-9]+ loss"
    board._flush()
    assert "epoch 1 loss=0.5" in board.log.value and "warming up" not in board.log.value
    assert "(regex)" in board.log_caption.value
    board.log_controls.text_box.value = "epoch ("  # half typed: nothing is filtered
    board._flush()
    assert "warming up" in board.log.value
    assert "not a regular expression: missing )" in board.log_caption.value
    board.log_controls.text_box.value = ""
    board._flush()
    assert re.search(r'class="smnb-error"[^>]*>ValueError: bad batch', board.log.value)
    board.wait_finished(timeout=10)


def test_a_failed_job_shows_its_failure_reason_first(ip, comms):
    job = start(ip, "failing", "raise RuntimeError('out of data')\n")
    handle = Handle()
    board = Dashboard(job, show=handle)
    job.wait(timeout=60)
    board.wait_finished(timeout=10)
    page = handle.outputs[0].last["text/html"]
    assert page.index("smnb-failure") < page.index("<b>failing</b>")
    assert "RuntimeError: out of data" in page


def test_two_jobs_each_have_their_own_dashboard(ip, comms):
    first = start(ip, "first-of-two", "print('I am the first')\n", "")
    first_board = Dashboard(first, show=Handle())
    second = start(ip, "second-of-two", "print('I am the second')\n", "")
    second_board = Dashboard(second, show=Handle())
    for job, board in ((first, first_board), (second, second_board)):
        job.wait(timeout=60)
        board.wait_finished(timeout=10)
    assert "first" in first_board.log.value and "second" not in first_board.log.value
    assert "second" in second_board.log.value and "first" not in second_board.log.value
    assert first_board.figure is None  # no metric: the 5 MB chart bundle never sent


def test_away_from_a_browser_the_chart_is_a_light_svg_not_the_plotly_bundle(ip, comms):
    job = start(ip, "svg-chart", TRAINING)
    board = Dashboard(job, show=Handle(), chart="svg")
    job.wait(timeout=60)
    board.wait_finished(timeout=10)
    assert board.figure is None
    (html_chart,) = board.chart.children
    assert html_chart.value.startswith("<svg") and "loss: 0.2 (best 0.2)" in html_chart.value
    assert max(size for _, kind, _, size in comms if kind == "open") < 20_000  # no 5 MB


def test_without_a_widget_frontend_a_plain_text_status_is_kept_up_to_date(ip, comms):
    cell = ("import time\nfor i in range(1, 9):\n"
            "    print(f'step {i} loss={1 / i:.3f}', flush=True)\n    time.sleep(0.75)\n")
    job = start(ip, "texted", cell)
    handle = Handle()
    began = time.monotonic()
    board = Dashboard(job, show=handle, chart="svg", text_status=True)
    root = board.root.model_id
    job.wait(timeout=60)
    board.wait_finished(timeout=10)
    seconds = time.monotonic() - began

    *texts, head = handle.outputs[0].updates
    assert "smnb-snapshot" in head._repr_mimebundle_()["text/html"]
    assert 2 <= len(texts) <= seconds / TEXT_EVERY + 1  # throttled
    for text in texts:  # the same widget view, with the status as text and HTML beside it
        assert text["application/vnd.jupyter.widget-view+json"]["model_id"] == root
        assert text["text/plain"].startswith("texted · local · InProgress")
        assert "smnb-header" in text["text/html"]
    steps = [int(m) for m in re.findall(r"\] step (\d+)", texts[-1]["text/plain"])]
    assert steps and steps == sorted(steps) and steps[-1] > 1  # the newest lines, in order


def test_a_form_and_the_live_status_go_where_widgets_are_drawn(ip, monkeypatch):
    magics = ip.magics_manager.registry["SmTrainMagics"]
    monkeypatch.setattr(type(magics), "in_kernel", True)
    for key in ("JPY_SESSION_NAME", "VSCODE_PID"):
        monkeypatch.delenv(key, raising=False)
    assert not magics.interactive()  # nbclient, papermill
    monkeypatch.setenv("VSCODE_PID", "4242")
    assert magics.interactive()  # VS Code
    monkeypatch.delenv("VSCODE_PID")
    monkeypatch.setenv("JPY_SESSION_NAME", "/work/notebook.ipynb")
    assert magics.interactive()  # JupyterLab, Notebook 7
    monkeypatch.setattr(type(magics), "in_kernel", False)
    assert not magics.interactive()  # terminal IPython


def test_plotly_where_a_jupyter_server_started_the_kernel_svg_elsewhere(ip, monkeypatch):
    magics = ip.magics_manager.registry["SmTrainMagics"]
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert magics.chart_kind() == "svg"
    monkeypatch.setenv("JPY_SESSION_NAME", "/work/notebook.ipynb")
    assert magics.chart_kind() == "plotly"
    monkeypatch.setattr(magics, "chart", "svg")
    assert magics.chart_kind() == "svg"


def test_the_header_says_which_hyperparameter_style_the_job_uses(ip, comms):
    from sm_notebook.ui.panels import header_html

    for style in ("v3", "v2"):
        job = start(ip, f"style-{style}", "print(1)\n", f"--hp-style {style} --wait")
        header = header_html(job)
        assert f'<span class="smnb-hp-style" title="hyperparameters reach the script as ' \
               f"the {'V3' if style == 'v3' else 'V2'}" in header
        assert f"hp style {style}</span>" in header


def test_two_hosts_get_a_log_toggle_each_in_their_colours_and_a_toggle_hides_one(comms):
    from sm_notebook.ui.log_controls import LogControls

    changes = []
    controls = LogControls(lambda: changes.append(1))
    controls.show_hosts(["algo-1"])
    assert controls.host_row.children == ()  # one host: nothing to choose
    controls.show_hosts(["algo-1", "algo-2"])
    one, two = controls.host_row.children
    assert (one.description, two.description) == ("algo-1", "algo-2")
    assert "smnb-host-0" in one._dom_classes and "smnb-host-1" in two._dom_classes
    two.value = False
    assert controls.filter.hidden_hosts == {"algo-2"} and changes == [1]
    controls.close()


def test_a_dark_page_gets_plotly_s_dark_template_and_the_dark_colours_live_and_at_the_end(
        ip, comms):
    from sm_notebook.ui.theme import DARK_SOURCES, LIGHT_SOURCES

    job = start(ip, "dark", TRAINING + "time.sleep(1)\n")
    handle = Handle()
    board = Dashboard(job, show=handle)
    wait = time.monotonic() + 30
    while board.figure is None and time.monotonic() < wait:
        time.sleep(0.1)
    assert board.figure.data[0].line.color == LIGHT_SOURCES[0]
    board.probe.dark = True  # what the probe's view reports from a dark JupyterLab
    board._changed.set()
    wait = time.monotonic() + 10
    while board.figure.data[0].line.color != DARK_SOURCES[0] and time.monotonic() < wait:
        time.sleep(0.1)
    assert board.figure.data[0].line.color == DARK_SOURCES[0]
    assert board.figure.layout.paper_bgcolor == "rgba(0,0,0,0)"
    assert board.figure.layout.template.layout.font.color == "#f2f5fa"  # plotly_dark
    job.wait(timeout=60)
    board.wait_finished(timeout=10)
    spec = handle.outputs[2].last[PLOTLY_MIME]
    assert spec["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"
    assert spec["data"][0]["line"]["color"] == DARK_SOURCES[0]


def test_a_script_that_counts_its_epochs_gets_a_progress_bar_in_the_header(ip, comms):
    cell = ("import time\nfor epoch in range(1, 5):\n"
            "    print(f'epoch {epoch}/4 loss={1 / epoch:.3f}', flush=True)\n"
            "    time.sleep(1.0)\n")
    job = start(ip, "counted", cell)
    handle = Handle()
    board = Dashboard(job, show=handle)
    wait = time.monotonic() + 30
    while "epoch 3/4" not in board.header.value and time.monotonic() < wait:
        time.sleep(0.05)
    assert 'role="progressbar" aria-valuenow="75"' in board.header.value
    assert re.search(r"epoch 3/4 · [0-9.]+ (s/epoch|epoch/s) · \d s left", board.header.value)
    job.wait(timeout=60)
    board.wait_finished(timeout=10)
    assert "100% · epoch 4/4" in handle.outputs[0].last["text/html"]  # and in the snapshot
