"""An endpoint's plain-text form, and the rules of its widget's request box (pure).

The widget under ``predictor``'s cell and its headless form (nbclient, a terminal, a
notebook saved without widget state) say the same things, so both read one
:class:`EndpointState`, taken once per refresh: a SageMaker endpoint's status is a
``DescribeEndpoint`` call and its log a CloudWatch read, so they are not asked per line.

The request box holds JSON or CSV as a user would type it for ``curl``; it is sent as that
text (not re-serialised), so what reaches the server is what the box shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..catalog.pricing import format_usd
from ..errors import SmNotebookError
from ..serving.payload import CSV, JSON

LOG_LINES = 10  # the server's last lines shown
#: the request box's formats: what it is called → the request's content type
FORMATS = {"JSON": JSON, "CSV": CSV}
#: what the box holds at first, and after a switch of format while left untouched
EXAMPLES = {"JSON": "[[1.0, 2.0]]", "CSV": "1.0,2.0"}
UNKNOWN = "Unknown"  # the status, when it cannot be read
FINAL = ("InService", "Failed", "Deleted")  # statuses that change only by a user's act
MAX_REPLY = 10_000  # characters of a reply shown (the predictor returns all of it)
MAX_ERROR = 500  # characters of an error's one line


class Served(Protocol):
    """What the text reads of a predictor (``serving.predictor.Predictor``)."""

    def log_lines(self, tail: int | None = None) -> list[str]: ...

    @property
    def name(self) -> str: ...

    @property
    def mode(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def hourly_price(self) -> float | None: ...

    @property
    def status(self) -> str: ...


class RequestError(ValueError):
    """The request box's text cannot be sent as its format says (one line)."""


@dataclass(frozen=True)
class Request:
    """What Send sends: the box's text as it is, with its content type."""

    body: str
    content_type: str


@dataclass(frozen=True)
class EndpointState:
    """One look at an endpoint: what its text and its widget's header show."""

    name: str
    mode: str
    status: str
    url: str
    hourly_price: float | None = None
    log: list[str] = field(default_factory=list)
    log_error: str | None = None  # why the log could not be read, when it could not
    status_error: str | None = None  # why the status could not be read (status "Unknown")


def read_state(predictor: Served, log_lines: int = LOG_LINES) -> EndpointState:
    """The endpoint as it is now; its status asked once, its log read once (a status or
    log that cannot be read is said, not raised: the endpoint is still shown)."""
    status, status_error = UNKNOWN, None
    try:
        status = predictor.status
    except Exception as exc:  # DescribeEndpoint refused, no network, ...
        status_error = one_line(exc)
    log: list[str] = []
    why = None
    if log_lines:
        try:
            log = list(predictor.log_lines(log_lines))[-log_lines:]
        except Exception as exc:  # CloudWatch refused, the container is gone, ...
            why = one_line(exc)
    return EndpointState(predictor.name, predictor.mode, status, predictor.url,
                         predictor.hourly_price, log, why, status_error)


def cost_text(hourly_price: float | None) -> str | None:
    """``≈ $0.23/hour`` (a list price: hence ≈); None where there is no price."""
    return None if hourly_price is None else f"≈ {format_usd(hourly_price)}/hour"


def summary_line(state: EndpointState) -> str:
    """``name · mode · status · URL · ≈ $X/hour``."""
    parts = [state.name, state.mode, state.status, state.url]
    cost = cost_text(state.hourly_price)
    return " · ".join(parts + ([cost] if cost else []))


def hint_line(state: EndpointState, variable: str = "predictor") -> str:
    """What can be done with the endpoint from code, now."""
    status = state.status
    if state.status_error:
        return f"the status cannot be read: {state.status_error}"
    if status == "Deleted":
        return "deleted: job.deploy() serves the model again"
    if status == "Creating":
        return f"creating: {variable}.status says when it serves  ·  {variable}.delete()"
    if status == "Failed":
        return f"{variable}.logs() says why  ·  {variable}.delete()"
    return f"{variable}.predict(data)  ·  {variable}.logs()  ·  {variable}.delete()"


def log_heading(state: EndpointState) -> str:
    if state.log_error:
        return f"the server's log cannot be read: {state.log_error}"
    if not state.log:
        return "the server has logged nothing yet"
    count = len(state.log)
    return f"the server's last {count} lines" if count > 1 else "the server's last line"


def endpoint_text(state: EndpointState) -> str:
    """The plain-text form: summary, hint, and the server's last lines."""
    heading = log_heading(state)
    return "\n".join([summary_line(state), hint_line(state),
                      f"--- {heading} ---" if state.log else heading, *state.log])


def parse_request(text: str, fmt: str) -> Request:
    """The box's text → what to send; ``RequestError`` with one line when it cannot be.
    JSON must parse (the server would answer a bare 500 otherwise); CSV is sent as is,
    with the final newline a CSV file has."""
    if fmt not in FORMATS:
        raise RequestError(f"format {fmt!r}: one of {', '.join(FORMATS)}")
    body = text.strip()
    if not body:
        raise RequestError(f"the request is empty: type {fmt}, e.g. {EXAMPLES[fmt]}")
    if fmt == "CSV":
        return Request(body + "\n", FORMATS[fmt])
    try:
        json.loads(body)
    except ValueError as exc:
        raise RequestError(f"not JSON: {exc} (choose CSV to send it as text/csv)") from None
    return Request(body, FORMATS[fmt])


def format_reply(reply: Any) -> str:
    """A decoded reply for the eye: JSON on one line when it fits, indented otherwise;
    text as it is; bytes as their size.  Long replies are cut at ``MAX_REPLY``."""
    if isinstance(reply, bytes | bytearray):
        return f"{len(reply):,} bytes"
    if isinstance(reply, str):
        text = reply
    else:
        text = json.dumps(reply, default=str)
        if len(text) > 100:
            text = json.dumps(reply, indent=2, default=str)
    if len(text) > MAX_REPLY:
        rest = len(text) - MAX_REPLY
        text = f"{text[:MAX_REPLY]}\n… {rest:,} more characters (predictor.predict returns all)"
    return text


def latency_text(seconds: float | None) -> str:
    """``8.4 ms``, ``230 ms``, ``1,250 ms``: the request's round trip."""
    if seconds is None:
        return ""
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:,.0f} ms"


def one_line(error: BaseException) -> str:
    """An error as the widget shows it: its message on one line, no traceback (its type
    too, where the message alone would not say what went wrong)."""
    message = " ".join(str(error).split())
    if not isinstance(error, SmNotebookError | RequestError):
        message = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return message if len(message) <= MAX_ERROR else message[:MAX_ERROR - 1] + "…"
