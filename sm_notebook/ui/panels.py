"""The dashboard's panels as HTML strings (pure: no widgets), shared by the live dashboard
and the static snapshot that replaces it when the job ends.

- header: name, mode, image, instances, status badge, secondary status, times, the cost
  estimate where the price is known, and the failure reason first when there is one;
- timeline: the secondary-status transitions with how long each took;
- log: the last lines, each host in its own colour, errors and tracebacks marked, a
  filter, and where the full log is.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..catalog.pricing import format_usd, state_cost
from ..clock import iso_to_epoch
from .log_filter import LogFilter
from .text import clock_text, instances_text
from .theme import badge, source_class

if TYPE_CHECKING:
    from ..events import LogEvent
    from ..job import Job
    from .progress import Progress

_ERROR = re.compile(r"Traceback \(most recent call last\)|^\s*File \".*\", line \d+|"
                    r"\b(?:[A-Z]\w*Error|Exception|CUDA out of memory|Killed)\b|^\s*\w*Error:")


def header_html(job: Job, progress: Sequence[Progress] = ()) -> str:
    """The header; ``progress``: what the log says of how far the script has got."""
    spec, state = job.spec, job.describe()
    instances = instances_text(job.mode, spec.effective_instance_type, spec.instance_count)
    parts = [f"<b>{html.escape(job.name)}</b>", html.escape(job.mode)]
    if spec.image:
        parts.append(f"<code>{html.escape(spec.image)}</code>")
    style_tip = ("hyperparameters reach the script as the V3 SDK's ModelTrainer passes them"
                 if spec.hp_style == "v3" else "hyperparameters reach the script as the V2 "
                 "framework estimators and the training toolkit pass them")
    parts += [html.escape(instances)] if instances else []
    parts += [f'<span class="smnb-hp-style" title="{style_tip}">hp style {spec.hp_style}</span>',
              " ".join([badge(job.status), *([html.escape(job.secondary_status)]
                        if job.secondary_status not in ("", job.status) else [])]),
              f"elapsed {clock_text(job.elapsed())}"]
    if state.get("billable_seconds") is not None:
        parts.append(f"billable {clock_text(state['billable_seconds'])}")
    cost = state_cost(state, spec.instance_count, time.time())  # job.cost, state read once
    if cost is not None:
        tip = (f"on-demand list price {format_usd(state['hourly_price'])} per instance-hour "
               f"× {state.get('instance_count') or spec.instance_count}; storage, data "
               "transfer, warm pools and discounts are not counted")
        parts.append(f'<span class="smnb-cost" title="{html.escape(tip, quote=True)}">'
                     f"≈ {format_usd(cost)}</span>")
    parts.append(f"{job.line_count:,} lines")
    head = " · ".join(parts)
    failure = ""
    if job.failure_reason:
        failure = (f'<div class="smnb-failure smnb-error" style="font-weight:600">'
                   f"{html.escape(job.failure_reason)}</div>")
    message = state.get("message") or job.status_message or ""
    note = f'<div class="smnb-muted">{html.escape(message)}</div>' if message else ""
    bars = "".join(progress_html(p) for p in progress)
    return f'<div class="smnb-header">{failure}<div>{head}</div>{bars}{note}</div>'


def progress_html(progress: Progress) -> str:
    """A bar as tqdm.notebook draws one, with the count, the rate and the time left."""
    percent = round(progress.fraction * 100)
    bar = (f'<span class="smnb-bar" role="progressbar" aria-valuenow="{percent}" '
           'aria-valuemin="0" aria-valuemax="100" style="display:inline-block;width:14em;'
           "height:0.75em;vertical-align:middle;border-radius:3px;margin-right:0.5em;"
           'background:var(--jp-layout-color3,#d0d7de)"><span style="display:block;'
           f'height:100%;width:{percent}%;border-radius:3px;'
           'background:var(--jp-brand-color1,#0969da)"></span></span>')
    return (f'<div class="smnb-progress">{bar}{percent}% · '
            f"{html.escape(progress.text())}</div>")


def timeline_html(transitions: list[dict[str, Any]], now: float | None = None) -> str:
    """``Starting 0:12 → Downloading 0:03 → Training 4:10`` (the last one still running)."""
    if not transitions:
        return ""
    chips = []
    for t in transitions:
        start = _epoch(t.get("StartTime"))
        end = _epoch(t.get("EndTime")) or now
        took = clock_text(end - start) if start and end else ""
        title = html.escape(t.get("StatusMessage") or "", quote=True)
        chips.append(f'<span title="{title}">{html.escape(t.get("Status", ""))} '
                     f'<span class="smnb-muted">{took}</span></span>')
    return f'<div class="smnb-timeline">{" → ".join(chips)}</div>'


def log_html(lines: list[LogEvent], shown: LogFilter | None = None,
             hosts: list[str] | None = None) -> str:
    """The lines (already the last N) that ``shown`` lets through, as one ``<pre>``; each
    host tag in its host's colour, as the chart colours that host's lines (``hosts``: the
    order of the colours; default, the hosts sorted).  Whoever shows it decides its height
    (see ``log_caption``)."""
    order = hosts or sorted({ev.host for ev in lines})
    rows = []
    for ev in (shown or LogFilter()).apply(lines):
        text = html.escape(ev.message)
        if _ERROR.search(ev.message):
            text = f'<span class="smnb-error">{text}</span>'
        tint = source_class(order.index(ev.host)) if ev.host in order else "smnb-muted"
        rows.append(f'<span class="{tint}">[{html.escape(ev.host)}]</span> {text}')
    body = "\n".join(rows)
    return f'<pre class="smnb-log" style="margin:2px 0;font-size:12px">{body}</pre>'


def log_caption(lines: list[LogEvent], log_path: str, shown: LogFilter | None = None) -> str:
    shown = shown or LogFilter()
    caption = (f"{len(shown.apply(lines)):,} of the last {len(lines):,} lines match "
               f"{html.escape(shown.describe())}" if shown.active
               else f"last {len(lines):,} lines")
    if shown.error:
        caption += f' · <span class="smnb-error">{html.escape(shown.error)}</span>'
    return (f'<div class="smnb-muted" style="font-size:11px">{caption} · full log: '
            f"<code>{html.escape(log_path)}</code></div>")


def _epoch(value: Any) -> float | None:
    if not value:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return iso_to_epoch(str(value))
    except ValueError:
        return None
