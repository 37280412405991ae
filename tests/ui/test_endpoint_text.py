"""The endpoint's plain-text form and the request box's rules, without a server."""

from __future__ import annotations

import pytest

from sm_notebook.serving.record import PredictionError
from sm_notebook.ui.endpoint_text import (
    EXAMPLES,
    MAX_REPLY,
    EndpointState,
    Request,
    RequestError,
    endpoint_text,
    format_reply,
    latency_text,
    one_line,
    parse_request,
    read_state,
)

LOCAL = EndpointState("iris", "local", "InService", "http://127.0.0.1:8123",
                      log=["started", "POST /invocations 200 12 bytes 1.2 ms"])


class FakePredictor:
    """What the text reads of a predictor; ``status`` counts its calls (a SageMaker
    endpoint's is a DescribeEndpoint)."""

    def __init__(self, lines: list[str] | Exception, price: float | None = None):
        self.name, self.mode, self.url = "ep", "sagemaker", "sagemaker endpoint ep (us-east-1)"
        self.hourly_price = price
        self.lines = lines
        self.asked = 0

    def log_lines(self, tail: int | None = None) -> list[str]:
        if isinstance(self.lines, Exception):
            raise self.lines
        return self.lines[-tail:] if tail else self.lines

    @property
    def status(self) -> str:
        self.asked += 1
        return "InService"


def test_the_text_names_the_endpoint_says_what_to_do_and_ends_on_its_last_lines():
    assert endpoint_text(LOCAL).splitlines() == [
        "iris · local · InService · http://127.0.0.1:8123",
        "predictor.predict(data)  ·  predictor.logs()  ·  predictor.delete()",
        "--- the server's last 2 lines ---",
        "started", "POST /invocations 200 12 bytes 1.2 ms"]


def test_a_sagemaker_endpoint_shows_its_hourly_cost_and_its_status_is_asked_once():
    predictor = FakePredictor([f"line {i}" for i in range(30)], price=0.23)
    state = read_state(predictor, log_lines=5)
    assert predictor.asked == 1
    assert state.log == [f"line {i}" for i in range(25, 30)]
    first = endpoint_text(state).splitlines()[0]
    assert first == "ep · sagemaker · InService · sagemaker endpoint ep (us-east-1) · ≈ $0.23/hour"


def test_a_log_that_cannot_be_read_is_said_and_the_endpoint_still_shown():
    state = read_state(FakePredictor(PermissionError("AccessDenied: logs:FilterLogEvents")))
    text = endpoint_text(state)
    assert text.startswith("ep · sagemaker · InService")
    assert text.endswith("the server's log cannot be read: "
                         "PermissionError: AccessDenied: logs:FilterLogEvents")


@pytest.mark.parametrize(("status", "hint"), [
    ("Deleted", "deleted: job.deploy() serves the model again"),
    ("Failed", "predictor.logs() says why  ·  predictor.delete()")])
def test_the_hint_follows_the_status(status: str, hint: str):
    state = EndpointState("iris", "local", status, "http://127.0.0.1:8123")
    assert endpoint_text(state).splitlines()[1:] == [hint, "the server has logged nothing yet"]


def test_json_is_sent_as_typed_once_it_parses_and_csv_as_a_csv_file():
    assert parse_request(" [[1.0, 2.0]]\n", "JSON") == Request("[[1.0, 2.0]]", "application/json")
    assert parse_request("1,2\n3,4", "CSV") == Request("1,2\n3,4\n", "text/csv")
    assert parse_request(EXAMPLES["CSV"], "CSV").content_type == "text/csv"


def test_text_that_cannot_be_sent_is_one_line_saying_why():
    with pytest.raises(RequestError) as bad:
        parse_request("[[1.0, 2.0]", "JSON")
    assert str(bad.value) == ("not JSON: Expecting ',' delimiter: line 1 column 12 (char 11) "
                              "(choose CSV to send it as text/csv)")
    with pytest.raises(RequestError, match=r"^the request is empty: type CSV, e\.g\. 1\.0,2\.0$"):
        parse_request("  \n", "CSV")
    with pytest.raises(RequestError, match="format 'XML': one of JSON, CSV"):
        parse_request("<a/>", "XML")


def test_replies_are_shown_by_kind():
    assert format_reply([[2.0, 4.0]]) == "[[2.0, 4.0]]"  # short JSON: one line
    long = {"predictions": [{"label": i, "score": 0.5} for i in range(5)]}
    assert format_reply(long).startswith('{\n  "predictions": [\n')  # long JSON: indented
    assert format_reply("setosa\n") == "setosa\n"
    assert format_reply(b"\x89PNG....") == "8 bytes"
    assert format_reply(bytes(12_345)) == "12,345 bytes"
    cut = format_reply("x" * (MAX_REPLY + 7))
    assert cut.endswith("\n… 7 more characters (predictor.predict returns all)")


def test_latency_is_in_milliseconds():
    assert latency_text(0.0084) == "8.4 ms"
    assert latency_text(0.2304) == "230 ms"
    assert latency_text(1.25) == "1,250 ms"
    assert latency_text(None) == ""


def test_errors_are_one_line_with_their_type_where_the_message_needs_it():
    refusal = PredictionError(415, "content type image/png is not supported\n(see the log)")
    assert one_line(refusal) == "HTTP 415: content type image/png is not supported (see the log)"
    assert one_line(ConnectionResetError("peer reset")) == "ConnectionResetError: peer reset"
    assert one_line(TimeoutError()) == "TimeoutError"
    assert len(one_line(RuntimeError("x" * 2000))) == 500


def test_a_status_that_cannot_be_read_is_unknown_with_why_and_not_raised():
    class Unreachable(FakePredictor):
        @property
        def status(self) -> str:
            raise ConnectionError("Could not connect to the endpoint URL")

    lines = endpoint_text(read_state(Unreachable(["started"]))).splitlines()
    assert lines[:2] == ["ep · sagemaker · Unknown · sagemaker endpoint ep (us-east-1)",
                         "the status cannot be read: ConnectionError: Could not connect to "
                         "the endpoint URL"]
