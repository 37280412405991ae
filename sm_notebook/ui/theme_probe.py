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


@cache
def _probe_class() -> type:
    import anywidget
    import traitlets

    class ThemeProbe(anywidget.AnyWidget):
        _esm = ESM
        dark = traitlets.Bool(None, allow_none=True).tag(sync=True)

    return ThemeProbe


def theme_probe() -> Any:
    """A new probe (its ``dark`` trait: True, False, or None until a page draws it)."""
    return _probe_class()()
