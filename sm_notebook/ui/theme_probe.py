"""A widget with no view that tells the kernel whether the page's theme is dark.

The dashboard's text follows the theme by CSS alone (``theme.stylesheet``), but a plotly
chart is drawn with a template chosen in the kernel: this widget reads JupyterLab's
``data-jp-theme-light`` (or VS Code's body class) when it is drawn and whenever it
changes, and syncs ``dark`` back.  It stays ``None`` where nothing draws it (nbclient).
"""

from __future__ import annotations

from functools import cache
from typing import Any

ESM = """
function isDark() {
  const body = document.body;
  const light = body.dataset.jpThemeLight;
  if (light !== undefined) return light === "false";
  const names = body.classList;
  return names.contains("vscode-dark") ||
    (names.contains("vscode-high-contrast") && !names.contains("vscode-high-contrast-light"));
}
export default {
  render({ model, el }) {
    el.style.display = "none";
    const report = () => {
      const dark = isDark();
      if (model.get("dark") !== dark) { model.set("dark", dark); model.save_changes(); }
    };
    report();
    const watcher = new MutationObserver(report);
    watcher.observe(document.body,
                    { attributes: true, attributeFilter: ["data-jp-theme-light", "class"] });
    return () => watcher.disconnect();
  }
};
"""


_last_reported: list[bool] = []  # what the last probe drawn said


def last_reported() -> bool:
    """Whether the page was dark when a probe last said (light before any has): for
    outputs made without a probe of their own, as ``%sm_compare``'s."""
    return bool(_last_reported and _last_reported[-1])


def _remember(change: dict[str, Any]) -> None:
    if change["new"] is not None:
        _last_reported[:] = [bool(change["new"])]


@cache
def _probe_class() -> type:
    import anywidget
    import traitlets

    class ThemeProbe(anywidget.AnyWidget):
        _esm = ESM
        dark = traitlets.Bool(None, allow_none=True).tag(sync=True)

        def __init__(self, **kwargs: Any):
            super().__init__(**kwargs)
            self.observe(_remember, names="dark")

    return ThemeProbe


def theme_probe() -> Any:
    """A new probe (its ``dark`` trait: True, False, or None until a page draws it)."""
    return _probe_class()()
