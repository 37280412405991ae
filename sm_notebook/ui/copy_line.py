"""A line of text with a copy button: the form's equivalent ``%%sm_train`` line.

The browser's clipboard is only reachable from the page, so this is a small anywidget
(its view: a label, the line in ``<code>``, a copy button and an optional note).  Where
the clipboard is refused, the button selects the line for Ctrl+C instead.
"""

from __future__ import annotations

from functools import cache
from typing import Any

ESM = """
export default {
  render({ model, el }) {
    el.classList.add("smnb-line");
    const label = document.createElement("span");
    const code = document.createElement("code");
    const button = document.createElement("button");
    button.className = "jupyter-button smnb-copy";
    button.title = "copy the line";
    const note = document.createElement("div");
    note.className = "smnb-muted";
    const draw = () => {
      label.textContent = model.get("label") + " ";
      code.textContent = model.get("value");
      note.textContent = model.get("note");
      note.style.display = model.get("note") ? "" : "none";
      button.textContent = "copy";
    };
    draw();
    for (const name of ["value", "label", "note"]) model.on(`change:${name}`, draw);
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(model.get("value"));
        button.textContent = "copied";
      } catch {
        const range = document.createRange();
        range.selectNodeContents(code);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "selected: Ctrl+C";
      }
      setTimeout(draw, 2000);
    });
    const line = document.createElement("div");
    line.append(label, code, " ", button);
    el.append(line, note);
  }
};
"""


@cache
def _line_class() -> type:
    import anywidget
    import traitlets

    class CopyLine(anywidget.AnyWidget):
        _esm = ESM
        value = traitlets.Unicode("").tag(sync=True)
        label = traitlets.Unicode("equivalent line:").tag(sync=True)
        note = traitlets.Unicode("").tag(sync=True)

    return CopyLine


def copy_line(**traits: Any) -> Any:
    """A new line widget (``value``, ``label``, ``note``)."""
    return _line_class()(**traits)
