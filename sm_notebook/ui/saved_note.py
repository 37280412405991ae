"""What a notebook saved while a job ran shows in place of its dashboard (pure).

JupyterLab autosaves every two minutes, without widget state, and a widget output it
reopens without state reads "Error displaying widget: model not found" (its renderer has
no fallback).  So a live dashboard is followed by this plain output, kept up to date
every few seconds and hidden while the dashboard is drawn:

- it names the job (or the sweep: ``sweep_view.py``), its state when last updated, that
  it was saved while the job ran, and ``job = %sm_attach NAME`` to bring it back;
- its own stylesheet hides the widget output just before it when that output holds no
  dashboard (the error), so a reopened notebook shows the note alone;
- a dashboard or a final state of the same job, anywhere on the page, hides it
  (``theme.hide_saved_note``): attached again, the job's dashboard takes its place.
"""

from __future__ import annotations

import html
import time
from typing import TYPE_CHECKING, Any

from .text import summary_line
from .theme import saved_note_class, stylesheet

if TYPE_CHECKING:
    from ..job import Job


def saved_note(job: Job, now: float | None = None) -> dict[str, Any]:
    """The note's output bundle (text and HTML)."""
    return note_bundle(job.name, summary_line(job), f"job = %sm_attach {job.name}",
                       "the job", now)


def note_bundle(name: str, summary: str, attach: str, what: str,
                now: float | None = None) -> dict[str, Any]:
    """The note of ``what`` (the job, the sweep) named ``name``: its ``summary`` line when
    saved, and the ``attach`` line that follows it again."""
    stamp = time.strftime("%H:%M:%S", time.localtime(now if now is not None else time.time()))
    text = (f"{summary}\nsaved while {what} ran (its state at {stamp}); "
            f"to follow it again, run: {attach}")
    note = saved_note_class(name)
    hide_error = (f".jp-OutputArea-child:has(+ .jp-OutputArea-child .{note})"
                  ":not(:has(.smnb-dashboard, .smnb-sweep)){display:none}")
    body = (f"<style>{hide_error}</style>{stylesheet()}"
            f'<div class="smnb-saved {note}"><div>{html.escape(summary)}</div>'
            f'<div class="smnb-muted">saved while {what} ran (its state at {stamp}); '
            f"to follow it again, run <code>{html.escape(attach)}</code></div></div>")
    return {"text/plain": text, "text/html": body}
