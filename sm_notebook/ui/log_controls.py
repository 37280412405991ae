"""The log's filter controls under a dashboard: a text box, a regex switch, and one toggle
per host (shown once a job has two hosts), each in its host's colour.

The reader's changes arrive on the kernel's main thread and only replace ``filter`` (an
immutable :class:`LogFilter`) and call ``on_change``; the dashboard's flusher thread reads
``filter`` and adds host toggles as hosts appear.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .log_filter import LogFilter
from .theme import host_toggle_class


class LogControls:
    def __init__(self, on_change: Callable[[], None]):
        import ipywidgets as widgets

        self._widgets = widgets
        self._on_change = on_change
        self._lock = threading.Lock()
        self.filter = LogFilter()
        self.text_box = widgets.Text(placeholder="filter the log (host tag included)",
                                     layout=widgets.Layout(width="20em"))
        self.regex_box = widgets.Checkbox(value=False, description="regex", indent=False,
                                          tooltip="the filter is a regular expression",
                                          layout=widgets.Layout(width="auto"))
        self.host_row = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        self.toggles: dict[str, Any] = {}
        self.text_box.observe(self._changed, names="value")
        self.regex_box.observe(self._changed, names="value")
        self.widgets = [self.text_box, self.regex_box, self.host_row]

    def show_hosts(self, hosts: list[str]) -> None:
        """One toggle per host, coloured as the host's lines, once there are two hosts
        (flusher thread; ``hosts`` in the order of their colours)."""
        if len(hosts) < 2 or list(self.toggles) == hosts:
            return
        with self._lock:
            for slot, host in enumerate(hosts):
                if host in self.toggles:
                    continue
                toggle = self._widgets.ToggleButton(
                    value=True, description=host, tooltip=f"show {host}'s lines",
                    layout=self._widgets.Layout(width="auto"))
                toggle.add_class(host_toggle_class(slot))
                toggle.observe(self._changed, names="value")
                self.toggles[host] = toggle
            self.host_row.children = tuple(self.toggles[h] for h in hosts)

    def _changed(self, _change: dict[str, Any]) -> None:
        with self._lock:
            self.filter = LogFilter(
                self.text_box.value, bool(self.regex_box.value),
                frozenset(h for h, toggle in self.toggles.items() if not toggle.value))
        self._on_change()

    def close(self) -> None:
        for widget in (*self.toggles.values(), *self.widgets):
            widget.close()
