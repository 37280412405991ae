"""Plain status of a job: text and HTML renderings, and a throttled display handle.

The pump thread never prints: it only updates a display handle (routed by display id to
the cell that started the job), at most ``rate`` times a second, with a deferred update
so the last change is always shown.
"""

from __future__ import annotations

import html
import threading
import time
from typing import TYPE_CHECKING

from ..catalog.pricing import format_usd
from .theme import badge, stylesheet

if TYPE_CHECKING:
    from ..job import Job



def clock_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else \
        f"{s // 60:02d}:{s % 60:02d}"


def compact_duration(seconds: float | None) -> str:
    """``40 s``, ``12 min 05 s``, ``1 h 02 min``, ``2 d 03 h``: as long as it needs."""
    if seconds is None or seconds != seconds:  # None or NaN
        return ""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {s // 60 % 60:02d} min"
    return f"{s // 86400} d {s // 3600 % 24:02d} h"


def aligned(lines: list[list[str]]) -> list[str]:
    """Rows of cells as text lines, each column as wide as its widest cell."""
    widths = [max(len(str(c)) for c in column) for column in zip(*lines, strict=True)]
    return ["  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
            for line in lines]


def latest_metrics(job: Job) -> dict[str, float]:
    """Each metric's last value (from the end of the points file: no reading them all)."""
    return job.latest_metrics()


def status_words(status: str, secondary: str) -> str:
    """``InProgress (Training)``; the secondary status only where it adds to the status
    (never ``Completed (Completed)``)."""
    return status if not secondary or secondary == status else f"{status} ({secondary})"


def instances_text(mode: str, instance_type: str, count: int) -> str:
    """``ml.m5.xlarge × 2``; nothing for one local instance (``local · local × 1`` says
    the mode twice)."""
    if instance_type == mode:
        return f"× {count}" if count > 1 else ""
    return f"{instance_type} × {count}"


def summary_line(job: Job) -> str:
    """``name · mode · status (secondary) · elapsed · lines · metrics``."""
    parts = [job.name, job.mode, status_words(job.status, job.secondary_status),
             clock_text(job.elapsed()), f"{job.line_count:,} lines"]
    cost = job.cost
    if cost is not None:
        parts.insert(4, f"≈ {format_usd(cost)}")
    metrics = latest_metrics(job)
    if metrics:
        parts.append(" ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
    return " · ".join(parts)


def final_lines(job: Job) -> list[str]:
    out = []
    if job.failure_reason:
        out.append(f"failure reason: {job.failure_reason}")
    info = job.describe()
    for key in ("model_artifacts", "output_artifacts"):
        if info.get(key):
            out.append(f"{key.replace('_', ' ')}: {info[key]}")
    out.append(f"log: {job.log_path}")
    return out


def status_text(job: Job, lines: int = 8) -> str:
    out = [summary_line(job)]
    if job.done or job.status in ("Failed", "Stopped", "Completed"):
        out += final_lines(job)
    recent = job.recent_lines(lines) if lines else []
    if recent:
        out.append("--- last lines ---")
        out += [f"[{ev.host}] {ev.message}" for ev in recent]
    return "\n".join(out)


def status_html(job: Job, lines: int = 8) -> str:
    secondary = (f" {html.escape(job.secondary_status)}"
                 if job.secondary_status not in ("", job.status) else "")
    head = (f"{stylesheet()}<b>{html.escape(job.name)}</b> · {html.escape(job.mode)} · "
            f"{badge(job.status)}{secondary} · {clock_text(job.elapsed())} · "
            f"{job.line_count:,} lines")
    metrics = latest_metrics(job)
    if metrics:
        head += " · " + html.escape(" ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
    body = []
    if job.done or job.status in ("Failed", "Stopped", "Completed"):
        body = [html.escape(line) for line in final_lines(job)]
        if job.failure_reason:
            body[0] = f'<span class="smnb-error">{body[0]}</span>'
    recent = job.recent_lines(lines) if lines else []
    log = "\n".join(html.escape(f"[{ev.host}] {ev.message}") for ev in recent)
    parts = [f"<div class='sm-notebook-status'>{head}"]
    parts += [f"<div>{b}</div>" for b in body]
    if log:
        parts.append(f"<pre style='margin:4px 0;max-height:12em;overflow:auto'>{log}</pre>")
    parts.append("</div>")
    return "".join(parts)


class StatusView:
    """A snapshot with text and HTML forms, for ``display`` and handle updates."""

    def __init__(self, job: Job, lines: int = 8):
        self.text = status_text(job, lines)
        self.html = status_html(job, lines)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/plain": self.text, "text/html": self.html}


class ThrottledStatus:
    """Keeps one display handle in step with a job, at most ``rate`` updates a second."""

    def __init__(self, job: Job, rate: float = 2.0, lines: int = 8, final_only: bool = False):
        from IPython.display import display

        self.job = job
        self.interval = 1.0 / rate if rate > 0 else 0.5
        self.lines = lines
        self.final_only = final_only
        self.updates = 0
        self._last = 0.0
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self.handle = display(StatusView(job, lines), display_id=True)
        job.add_listener(self)

    def __call__(self, job: Job) -> None:
        if job.done:
            self._render()
            return
        if self.final_only:
            return
        with self._lock:
            wait = self._last + self.interval - time.monotonic()
            if wait > 0:
                if self._timer is None:
                    self._timer = threading.Timer(wait, self._deferred)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self._render()

    def _deferred(self) -> None:
        with self._lock:
            self._timer = None
        self._render()

    def _render(self) -> None:
        with self._lock:
            self._last = time.monotonic()
            self.updates += 1
        if self.handle is not None:
            self.handle.update(StatusView(self.job, self.lines))


class ProgressLine:
    """One line of progress under the cell, replaced in place (a display handle in a
    kernel, a line every few seconds in a terminal), at most ``rate`` updates a second."""

    def __init__(self, in_kernel: bool, rate: float = 4.0, terminal_every: float = 3.0):
        self.in_kernel = in_kernel
        self.interval = 1.0 / rate if in_kernel else terminal_every
        self.handle = None
        self.last = 0.0
        self.shown = ""

    def __call__(self, text: str, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.interval:
            return
        self.last = now
        if text == self.shown:
            return
        self.shown = text
        if not self.in_kernel:
            print(text, flush=True)
            return
        from IPython.display import display

        if self.handle is None:
            self.handle = display({"text/plain": text}, raw=True, display_id=True)
        else:
            self.handle.update({"text/plain": text}, raw=True)
