"""The live plotly chart of a dashboard: one ``FigureWidget``, updated in place.

Made from the same figure as the final output (``plotly_figure.figure``).  A redraw sends
each trace's x and y and the layout's titles and domains in one ``batch_update``; it
leaves what the reader chose alone (log y, smoothing, zoom, hidden lines), since those are
set in the browser and synced back to the widget, and the figure is made with the choices
the button rows show (a line that appears later is added smoothed when smoothing is on).
A change of the page's theme changes the template and the lines' colours in place.
"""

from __future__ import annotations

from typing import Any

from . import plotly_figure
from .chart_model import Chart


class LiveChart:
    def __init__(self, dark: bool = False):
        import plotly.graph_objects as go

        self.dark = dark
        self.figure = go.FigureWidget(layout={
            "template": "plotly_dark" if dark else "plotly_white", "autosize": True,
            "height": plotly_figure.height(1)})
        self._uids: list[str] = []

    def draw(self, model: Chart, dark: bool | None = None) -> None:
        """Draw ``model``; ``dark``: the page's theme now (None: as it was)."""
        figure = self.figure
        smoothing, log_y = self._choices()
        theme_changed = dark is not None and dark != self.dark
        self.dark = self.dark if dark is None else dark
        spec = plotly_figure.figure(model, self.dark, smoothing, log_y)
        drawn, fresh = place(figure, self._uids, spec["data"])
        layout = spec["layout"]
        with figure.batch_update():
            for trace in spec["data"]:
                target = drawn[trace["uid"]]
                target.x, target.y = trace["x"], trace["y"]
                target.xaxis, target.yaxis = trace["xaxis"], trace["yaxis"]
                target.name = trace["name"]
                target.line.color = trace["line"]["color"]
            if not fresh:
                layout = {k: v for k, v in layout.items() if k != "updatemenus"}
            if not theme_changed:  # the template is sent once, and again only with a theme
                layout = {k: v for k, v in layout.items() if k != "template"}
            elif not self.dark:  # back to light: the dark theme's transparent backgrounds go
                layout = {**layout, "paper_bgcolor": None, "plot_bgcolor": None}
            figure.layout.update(layout)  # made with the buttons' choices: it keeps them

    def _choices(self) -> tuple[bool, bool]:
        """(smoothing on, log y) as the button rows show them now."""
        menus = {menu.name: menu.active for menu in self.figure.layout.updatemenus}
        return menus.get("smoothing") == 1, menus.get("scale") == 1

    def close(self) -> None:
        self.figure.close()


def place(figure: Any, uids: list[str], data: list[dict[str, Any]]
          ) -> tuple[dict[str, Any], bool]:
    """Add the traces of ``data`` that ``figure`` lacks (plotly batches no add_traces:
    call it before the batch), their uids to ``uids``; each uid's drawn trace (the widget
    sets its own uids), and whether any was added."""
    fresh = [t for t in data if t["uid"] not in uids]
    if fresh:
        figure.add_traces(fresh)
        uids += [t["uid"] for t in fresh]
    return dict(zip(uids, figure.data, strict=True)), bool(fresh)

