"""The endpoint widget on a real local endpoint: a trained job, its server process, real
HTTP; Send and Delete clicked as a user would, and nothing left running."""

from __future__ import annotations

import threading
import time

import pytest

from sm_notebook.runtime import processes
from sm_notebook.ui import endpoint_view
from sm_notebook.ui.endpoint_text import latency_text
from sm_notebook.ui.endpoint_view import EndpointView
from tests.serving.test_local_endpoints import SCRIPT  # trains w = 2; predict_fn: data × w


@pytest.fixture
def predictor(ip):
    ip.run_cell_magic("sm_train", "job --job-name widget-served --wait --quiet", SCRIPT)
    served = ip.user_ns["job"].deploy()
    try:
        yield served
    finally:
        served.delete()


def test_send_shows_the_reply_and_its_latency_and_the_log_follows(predictor):
    view = EndpointView(predictor)
    try:
        header = view.header.value
        assert "widget-served" in header and "InService" in header and predictor.url in header
        assert view.request.value == "[[1.0, 2.0]]" and not view.send_button.disabled
        view.request.value = "[[1.5, 3.0]]"
        view.send_button.click()
        assert '<pre class="smnb-reply">[[3.0, 6.0]]</pre>' in view.reply.value
        latency = latency_text(predictor.last_latency)
        assert predictor.last_latency > 0 and latency.endswith(" ms")
        assert f'<div class="smnb-muted smnb-latency">{latency}</div>' in view.reply.value
        deadline = time.monotonic() + 5  # the log, read again once the server logged it
        while "POST /invocations 200" not in view.log.value and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "POST /invocations 200" in view.log.value
        assert view.send_button.description == "Send" and not view.send_button.disabled

        view.format.value = "CSV"  # the untouched example would follow; a typed one stays
        assert view.request.value == "[[1.5, 3.0]]"
        view.request.value = "1.0,2.0\n3.0,4.0"
        view.send_button.click()
        assert "[[2.0, 4.0], [6.0, 8.0]]" in view.reply.value
    finally:
        view.close()


def test_bad_requests_and_refusals_are_one_line_in_the_widget(predictor):
    view = EndpointView(predictor)
    try:
        view.request.value = "[[1.0, 2.0]"
        view.send_button.click()
        assert view.reply.value == (
            '<div class="smnb-error smnb-reply-error">not JSON: Expecting &#x27;,&#x27; '
            "delimiter: line 1 column 12 (char 11) (choose CSV to send it as text/csv)</div>")
        view.request.value = '"a string"'  # JSON, but not what predict_fn multiplies
        view.send_button.click()
        error = view.reply.value
        assert error.startswith('<div class="smnb-error smnb-reply-error">HTTP 500: ')
        assert "Traceback" not in error and "\n" not in error
        assert not view.send_button.disabled  # the endpoint still serves
    finally:
        view.close()


def test_delete_stops_the_server_and_leaves_the_widget_saying_deleted(predictor):
    record = predictor.record
    view = EndpointView(predictor)
    shown: list = []

    class Handle:
        def update(self, obj):
            shown.append(obj._repr_mimebundle_())

    view.handle = Handle()
    try:
        view.delete_button.click()
        assert not processes.running(record.pid, record.identity)
        assert predictor.status == "Deleted" and "Deleted" in view.header.value
        assert view.send_button.disabled and view.delete_button.disabled
        assert "job.deploy() serves the model again" in view.header.value
        # the output's saved text follows the status, beside the widget itself
        assert len(shown) == 1 and "application/vnd.jupyter.widget-view+json" in shown[0]
        assert shown[0]["text/plain"].startswith("widget-served · local · Deleted · http://")
        view.send_button.click()  # disabled: nothing is sent
        assert view.reply.value == ""
    finally:
        view.close()


def test_headless_shells_get_the_plain_text_form(ip, predictor, capsys):
    assert not endpoint_view.widgets_drawn(ip)  # a terminal shell: no kernel
    ip.user_ns["predictor"] = predictor
    ip.run_cell("predictor")
    out = capsys.readouterr().out.splitlines()  # after the terminal's Out[N] prompt
    assert out[0].endswith(f"widget-served · local · InService · {predictor.url}")
    assert out[1] == "predictor.predict(data)  ·  predictor.logs()  ·  predictor.delete()"
    assert out[2] == "--- the server's last line ---" and "serving train.py on" in out[3]


def test_a_frontend_that_draws_widgets_gets_the_widget(ip, predictor, monkeypatch):
    magics = ip.magics_manager.registry["SmTrainMagics"]
    monkeypatch.setattr(type(magics), "interactive", lambda self: True)
    shown: list = []
    monkeypatch.setattr("IPython.display.display",
                        lambda obj, **kw: shown.append((obj, kw)) or "handle")
    view = endpoint_view.show(predictor, ip)
    try:
        assert isinstance(view, EndpointView) and view.handle == "handle"
        assert shown == [(view, {"display_id": True})]
        bundle = view._repr_mimebundle_()
        assert bundle["text/plain"].startswith("widget-served · local · InService")
        assert "smnb-endpoint" in bundle["text/html"]
    finally:
        view.close()
    monkeypatch.setattr(magics, "dashboard", "text")  # the dashboard setting says text
    assert not endpoint_view.widgets_drawn(ip)


class Creating:
    """An endpoint that is Creating until told (a SageMaker endpoint with wait=False)."""

    name, mode, url, hourly_price, last_latency = "slow", "sagemaker", "slow (eu)", 0.115, None

    def __init__(self):
        self.ready = threading.Event()
        self.endpoint = self

    @property
    def status(self) -> str:
        return "InService" if self.ready.is_set() else "Creating"

    def log_lines(self, tail=None):
        return ["creating"]


def test_while_creating_a_bounded_poll_shows_the_change_and_then_stops():
    endpoint = Creating()
    view = EndpointView(endpoint, poll_every=0.05)
    try:
        assert "Creating" in view.header.value and view.send_button.disabled
        assert "predictor.status says when it serves" in view.header.value
        assert "≈ $0.12/hour" in view.header.value
        assert view._thread is not None and view._thread.daemon
        endpoint.ready.set()
        view._thread.join(timeout=5)
        assert not view._thread.is_alive()  # a final status ends it
        assert "InService" in view.header.value and not view.send_button.disabled
        assert "predictor.predict(data)" in view.header.value
    finally:
        view.close()


def test_a_poll_that_never_sees_a_final_status_ends_after_its_time():
    view = EndpointView(Creating(), poll_every=0.01, poll_for=0.2)
    try:
        view._thread.join(timeout=5)
        assert not view._thread.is_alive() and "Creating" in view.header.value
    finally:
        view.close()


def test_closing_the_widget_ends_its_poll():
    view = EndpointView(Creating(), poll_every=0.05)
    view.close()
    view._thread.join(timeout=5)
    assert not view._thread.is_alive()
