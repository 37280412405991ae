"""The dashboard's colours in a light and a dark theme (pure).

Text is coloured by class (``smnb-muted``, ``smnb-error``, ``smnb-src-N``), never by an
inline colour, and one stylesheet gives each class its light value and, under a dark
JupyterLab or VS Code theme, its dark one (custom properties set on ``body``).  Every
text colour here reaches WCAG AA's 4.5:1 on its theme's background (white; JupyterLab
Dark's #111), which ``tests/ui`` checks by the formula and the browser tests check on the
page.  Where a viewer strips the stylesheet (an untrusted notebook), the text keeps the
viewer's own colour, which reads.

Sources (the host; in a comparison, the job) have one colour each, the same for the lines
of the chart and the host tags of the log.
"""

from __future__ import annotations

import html
from functools import cache

#: source colours, readable as text and lines on white
LIGHT_SOURCES = ("#0969da", "#bc4c00", "#1a7f37", "#cf222e", "#8250df", "#953800",
                 "#bf3989", "#57606a", "#7d6a00", "#1b7c83")
#: the same sources on a dark background (#111)
DARK_SOURCES = ("#58a6ff", "#f0883e", "#3fb950", "#ff7b72", "#d2a8ff", "#e3b341",
                "#f778ba", "#9ea7b3", "#d4c950", "#39c5cf")
#: text tones: (light, dark)
TONES = {"muted": ("#57606a", "#9ea7b3"), "error": ("#cf222e", "#ff7b72")}
#: a chart's own ink and grid, whatever template it was drawn with: (light, dark)
CHART_COLOURS = {"smnb-chart-ink": ("#1f2328", "#e6edf3"),
                 "smnb-chart-grid": ("#d8dee4", "#30363d")}
#: what tells our plotly charts from others on the page: the smoothing button, whose text
#: plotly keeps in ``data-unformatted`` (``plotly_figure.menus``)
CHART = '.js-plotly-plot:has(text[data-unformatted^="smoothed "])'
#: our charts follow the page's theme, drawn with whichever template: a chart drawn before
#: the page's theme was known (a --wait cell, Run All) or kept from a session in another
#: theme has its backgrounds see-through and its text and grid in the page's colours
CHART_RULES = (f"{CHART} .main-svg{{background:transparent!important}}"
               f"{CHART} .bglayer rect.bg,{CHART} .legend rect.bg{{fill:transparent!important}}"
               f"{CHART} .infolayer text,{CHART} .xtick text,{CHART} .ytick text"
               "{fill:var(--smnb-chart-ink)!important}"
               f"{CHART} .gridlayer path,{CHART} .zerolinelayer path"
               "{stroke:var(--smnb-chart-grid)!important}")
LIGHT_BACKGROUND, DARK_BACKGROUND = "#ffffff", "#111111"
#: a status badge's background, under white text (5:1 or more; others are muted):
#: a job's statuses, and an endpoint's
STATUS_COLOURS = {"Completed": "#1a7f37", "Failed": "#cf222e", "Stopped": "#9a6700",
                  "Stopping": "#9a6700", "InProgress": "#0969da",
                  "InService": "#1a7f37", "Creating": "#0969da"}
#: JupyterLab's theme variables used where they exist: its secondary text (4.6:1 on white
#: in Light, 5.9:1 on #111 in Dark) and its main text for a chart's ink
JUPYTERLAB = {"smnb-muted": "--jp-ui-font-color2", "smnb-chart-ink": "--jp-ui-font-color1"}
#: where a page says its theme is dark: JupyterLab, and VS Code's dark themes
DARK_SELECTORS = ('body[data-jp-theme-light="false"]', "body.vscode-dark",
                  "body.vscode-high-contrast:not(.vscode-high-contrast-light)")


def source_colour(slot: int, dark: bool = False) -> str:
    palette = DARK_SOURCES if dark else LIGHT_SOURCES
    return palette[slot % len(palette)]


def source_class(slot: int) -> str:
    return f"smnb-src-{slot % len(LIGHT_SOURCES)}"


def host_toggle_class(slot: int) -> str:
    """A host's toggle: the theme's text on the theme's button, underlined in the host's
    colour (a button's grey would not give a host colour 4.5:1 as text)."""
    return f"smnb-host-{slot % len(LIGHT_SOURCES)}"


@cache
def stylesheet() -> str:
    """One ``<style>`` element: each colour a custom property with a light value and,
    under a dark page, a dark one; each class uses its property."""
    tones = {f"smnb-{tone}": pair for tone, pair in TONES.items()}
    sources = list(zip(LIGHT_SOURCES, DARK_SOURCES, strict=True))
    colours = {**tones, **{source_class(i): pair for i, pair in enumerate(sources)}}
    properties = {**colours, **CHART_COLOURS}
    uses = "".join(f".{name}{{color:var(--{name})}}" for name in colours)
    uses += "".join(f".{host_toggle_class(i)}{{box-shadow:inset 0 -3px 0 "
                    f"var(--{source_class(i)})}}" for i in range(len(sources)))
    light = ";".join(f"--{name}:{_value(name, pair[0])}" for name, pair in properties.items())
    dark = ";".join(f"--{name}:{_value(name, pair[1])}" for name, pair in properties.items())
    return (f"<style>body{{{light}}}{','.join(DARK_SELECTORS)}{{{dark}}}{uses}"
            f"{CHART_RULES}</style>")


def _value(name: str, colour: str) -> str:
    """A colour, JupyterLab's own variable first where it has one that reads as well."""
    own = JUPYTERLAB.get(name)
    return f"var({own},{colour})" if own else colour


def badge(status: str) -> str:
    """The status, white on its colour (5:1 or more, in either theme)."""
    colour = STATUS_COLOURS.get(status, TONES["muted"][0])
    return (f'<span class="smnb-badge" style="background:{colour};'
            f'color:#fff;border-radius:10px;padding:1px 8px;font-weight:600">'
            f'{html.escape(status)}</span>')


def hide_saved_note(job_name: str) -> str:
    """A ``<style>`` hiding the notes a notebook saved while ``job_name`` ran: a page that
    shows the job's dashboard or its final state needs them no more."""
    return f"<style>.{saved_note_class(job_name)}{{display:none}}</style>"


def saved_note_class(job_name: str) -> str:
    """The class of a saved note (job names are letters, digits and hyphens)."""
    return f"smnb-saved-{job_name}"


def luminance(colour: str) -> float:
    """WCAG's relative luminance of ``#rrggbb``."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    """WCAG's contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)
