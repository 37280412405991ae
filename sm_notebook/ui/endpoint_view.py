"""The widget under a predictor's cell: status and URL, a request box with Send, the
reply and its latency, the server's last log lines, and Delete.

- Shown only where a widget is drawn and answers clicks, as the training magics decide
  for a job's dashboard (``SmTrainMagics.interactive`` and its ``dashboard`` setting);
  elsewhere (nbclient, papermill, a terminal) the same things as plain text
  (``endpoint_text.py``).  The widget's output carries that text too, for a viewer
  without its state (nbconvert, nbviewer, GitHub), updated when the status changes.
- Send and Delete run in the click's own callback: a request is one round trip, and
  a delete one call, so no thread is needed; the button says what it is doing meanwhile.
  An error is its one line in the reply area, never a traceback.
- Threads: a status poll while the status is not final (``Creating`` after
  ``deploy(wait=False)``, or ``Unknown`` while it cannot be read), a daemon that stops at
  a final status, at ``close()``, or after ``POLL_FOR`` seconds; and a
  one-shot timer that reads the log again ``LOG_SETTLE`` s after a reply.
- Colours come from the theme's classes and JupyterLab's variables, so it reads in
  Light and Dark.
"""

from __future__ import annotations

import contextlib
import html
import threading
import time
from typing import Any, Protocol

from . import endpoint_text as plain
from . import theme
from .endpoint_text import EndpointState, Served
from .theme import badge

POLL_EVERY = 2.0  # seconds between status checks while Creating
POLL_FOR = 3600.0  # seconds the poll lasts at most (SageMaker takes minutes, not hours)
#: seconds after a reply when the log is read again: a container's output reaches the
#: engine's log (and CloudWatch's) a moment later, so a read at once can miss the line
LOG_SETTLE = 0.5
#: a monospace request box, and the widget's own areas
STYLE = ("<style>.smnb-endpoint textarea{font-family:var(--jp-code-font-family,monospace);"
         "font-size:var(--jp-code-font-size,13px)}"
         ".smnb-endpoint pre{margin:2px 0;font-size:12px;white-space:pre-wrap}</style>")


class PredictorLike(Served, Protocol):
    """What the widget uses of a predictor (``serving.predictor.Predictor``)."""

    last_latency: float | None

    def predict(self, data: Any, content_type: str | None = None,
                accept: str | None = None) -> Any: ...

    def delete(self) -> None: ...


def widgets_drawn(shell: Any = None) -> bool:
    """Whether a widget shown now is drawn and answers clicks: the training magics'
    own answer, so an endpoint is shown as a job is; without the extension, text."""
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    registry = getattr(getattr(shell, "magics_manager", None), "registry", {})
    magics = registry.get("SmTrainMagics")
    if magics is None:
        return False
    return bool(magics.interactive()) and magics.dashboard == "widgets"


def show(predictor: PredictorLike, shell: Any = None) -> EndpointView | None:
    """The widget under the cell, or its plain-text form where no widget is drawn."""
    from IPython.display import display

    if widgets_drawn(shell):
        view = EndpointView(predictor)
        view.handle = display(view, display_id=True)
        return view
    display({"text/plain": plain.endpoint_text(plain.read_state(predictor))}, raw=True)
    return None


class EndpointView:
    """The endpoint's widget; ``root`` is what is displayed."""

    def __init__(self, predictor: PredictorLike, log_lines: int = plain.LOG_LINES,
                 poll_every: float = POLL_EVERY, poll_for: float = POLL_FOR):
        import ipywidgets as widgets

        self.predictor = predictor
        self.log_lines = log_lines
        self.handle: Any = None  # the display's handle, once shown
        self.state: EndpointState | None = None
        self._lock = threading.Lock()  # the poll and the clicks both refresh
        self._closed = threading.Event()

        self.style = widgets.HTML(theme.stylesheet() + STYLE,
                                  layout=widgets.Layout(display="none"))
        self.header = widgets.HTML()
        self.format = widgets.ToggleButtons(options=list(plain.FORMATS), value="JSON",
                                            tooltips=list(plain.FORMATS.values()),
                                            style={"button_width": "5em"})
        self.request = widgets.Textarea(value=plain.EXAMPLES["JSON"], rows=3,
                                        placeholder="the request body, as JSON or CSV",
                                        layout=widgets.Layout(width="100%"))
        self.send_button = widgets.Button(description="Send", icon="paper-plane",
                                          button_style="primary",
                                          tooltip="POST the request to the endpoint")
        self.reply = widgets.HTML()
        self.log = widgets.HTML(layout=widgets.Layout(
            max_height="14em", overflow="auto", display="flex", flex_flow="column-reverse"))
        self.log_caption = widgets.HTML()
        self.refresh_button = widgets.Button(description="refresh", icon="refresh",
                                             tooltip="read the status and the log again")
        self.delete_button = widgets.Button(description="Delete", icon="trash",
                                            button_style="danger",
                                            tooltip="stop the endpoint; its log is kept")
        row = widgets.Layout(flex_flow="row wrap", align_items="center")
        self.rows = (widgets.HBox([self.format, self.send_button], layout=row),
                     widgets.HBox([self.refresh_button, self.delete_button], layout=row))
        self.root = widgets.VBox([self.style, self.header, self.rows[0], self.request,
                                  self.reply, self.log_caption, self.log, self.rows[1]])
        self.root.add_class("smnb-endpoint")
        self.format.observe(self._format_changed, names="value")
        self.send_button.on_click(self.send)
        self.refresh_button.on_click(self.refresh)
        self.delete_button.on_click(self.delete)

        state = self.refresh()
        self._thread: threading.Thread | None = None
        if state.status not in plain.FINAL:
            self._thread = threading.Thread(
                target=self._poll, args=(poll_every, poll_for), daemon=True,
                name=f"sm_notebook-endpoint-{state.name}")
            self._thread.start()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The widget, and its text and HTML for a viewer without the widget's state."""
        state = self.state or plain.read_state(self.predictor, self.log_lines)
        return {**self.root._repr_mimebundle_(), "text/plain": plain.endpoint_text(state),
                "text/html": f'{theme.stylesheet()}{STYLE}<div class="smnb-endpoint">'
                             f"{header_html(state)}{log_caption_html(state)}"
                             f"{log_html(state)}</div>"}

    # ---- clicks (the kernel's main thread) -------------------------------------------
    def refresh(self, _button: Any = None) -> EndpointState:
        """Read the status and the log again, and show them."""
        state = plain.read_state(self.predictor, self.log_lines)
        with self._lock:
            changed = self.state is not None and self.state.status != state.status
            self.state = state
            self.header.value = header_html(state)
            self.log_caption.value = log_caption_html(state)
            self.log.value = log_html(state)
            serving = state.status == "InService"
            self.send_button.disabled = not serving
            self.send_button.tooltip = ("POST the request to the endpoint" if serving
                                        else f"the endpoint is {state.status}")
            self.delete_button.disabled = state.status == "Deleted"
        if changed and self.handle is not None:  # the saved text follows the status
            self.handle.update(self)
        return state

    def send(self, _button: Any = None) -> None:
        """Send the box's text; show the reply and its latency, or the error's line."""
        if self.send_button.disabled:  # the second click of a double click
            return
        self.send_button.disabled = True
        self.send_button.description = "Sending"
        try:
            request = plain.parse_request(self.request.value, self.format.value)
            reply = self.predictor.predict(request.body, content_type=request.content_type)
            self.reply.value = reply_html(reply, self.predictor.last_latency)
        except Exception as exc:  # a refusal, bad input, a lost server: one line
            self.reply.value = error_html(exc)
        finally:
            self.send_button.description = "Send"
            self.refresh()
            settle = threading.Timer(LOG_SETTLE, self._settled)
            settle.daemon = True
            settle.start()

    def delete(self, _button: Any = None) -> None:
        """Delete the endpoint; the status then says Deleted and Send is off."""
        if self.delete_button.disabled:
            return
        self.delete_button.disabled = self.send_button.disabled = True
        self.delete_button.description = "Deleting"
        try:
            self.predictor.delete()
        except Exception as exc:
            self.reply.value = error_html(exc)
        finally:
            self.delete_button.description = "Delete"
            self.refresh()

    def _format_changed(self, change: dict[str, Any]) -> None:
        """An untouched example follows the format; a typed request is left alone."""
        if self.request.value.strip() == plain.EXAMPLES.get(change["old"], None):
            self.request.value = plain.EXAMPLES[change["new"]]

    # ---- the status poll and the log's second read (daemon threads) -------------------
    def _settled(self) -> None:
        if not self._closed.is_set():
            with contextlib.suppress(Exception):  # a widget must never take the kernel down
                self.refresh()

    def _poll(self, every: float, lasting: float) -> None:
        deadline = time.monotonic() + lasting
        while not self._closed.wait(every) and time.monotonic() < deadline:
            try:
                if self.refresh().status in plain.FINAL:
                    return
            except Exception:  # a widget must never take the kernel down
                return

    def close(self) -> None:
        """Stop the poll and close the widgets (the endpoint is left as it is)."""
        self._closed.set()
        for widget in (self.style, self.header, self.format, self.request, self.send_button,
                       self.reply, self.log_caption, self.log, self.refresh_button,
                       self.delete_button, *self.rows, self.root):
            widget.close()


def header_html(state: EndpointState) -> str:
    """``name · mode · [status] · URL · ≈ $X/hour``, and what can be done from code."""
    parts = [f"<b>{html.escape(state.name)}</b>", html.escape(state.mode),
             badge(state.status), f'<code class="smnb-url">{html.escape(state.url)}</code>']
    cost = plain.cost_text(state.hourly_price)
    if cost:
        tip = "on-demand list price of its instances; data transfer and discounts not counted"
        parts.append(f'<span class="smnb-cost" title="{tip}">{html.escape(cost)}</span>')
    hint = html.escape(plain.hint_line(state))
    return (f'<div class="smnb-header">{" · ".join(parts)}</div>'
            f'<div class="smnb-muted smnb-hint"><code>{hint}</code></div>')


def log_caption_html(state: EndpointState) -> str:
    return (f'<div class="smnb-muted smnb-log-caption" style="font-size:11px">'
            f"{html.escape(plain.log_heading(state))}</div>")


def log_html(state: EndpointState) -> str:
    """The server's last lines as one ``<pre>``."""
    body = html.escape("\n".join(state.log))
    return f'<pre class="smnb-endpoint-log">{body}</pre>' if state.log else ""


def reply_html(reply: Any, latency: float | None) -> str:
    return (f'<pre class="smnb-reply">{html.escape(plain.format_reply(reply))}</pre>'
            f'<div class="smnb-muted smnb-latency">{plain.latency_text(latency)}</div>')


def error_html(error: BaseException) -> str:
    line = html.escape(plain.one_line(error))
    return f'<div class="smnb-error smnb-reply-error">{line}</div>'


__all__ = ["EndpointView", "show", "widgets_drawn"]
