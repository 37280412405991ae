"""A job's metric traces as one inline SVG line chart (pure: no plotly).

When a job ends its live chart gives way to this: SVG inside the cell's HTML output shows
in JupyterLab, nbviewer, GitHub and nbconvert alike, weighs a few kB, and needs neither
a widget manager nor plotly's 5 MB bundle in the saved notebook.  Metrics of very
different scales share the chart, each scaled to its own range, and the legend gives
each one's range.
"""

from __future__ import annotations

import html

from .series import Trace

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")  # plotly's default colours, #rrggbb
WIDTH, HEIGHT, PAD = 640, 220, 8
LEGEND_ROW = 16


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def svg(traces: list[Trace]) -> str:
    """The chart, or ``""`` when there is nothing to draw."""
    drawn = [t for t in traces if t.x]
    if not drawn:
        return ""
    xs = [x for t in drawn for x in t.x]
    x0, x1 = min(xs), max(xs)
    span = (x1 - x0) or 1.0
    plot_h = HEIGHT - 2 * PAD
    lines, legend = [], []
    for index, trace in enumerate(drawn):
        lo, hi = min(trace.y), max(trace.y)
        rise = (hi - lo) or 1.0
        points = " ".join(
            f"{PAD + (x - x0) / span * (WIDTH - 2 * PAD):.1f},"
            f"{PAD + plot_h - (y - lo) / rise * plot_h:.1f}"
            for x, y in zip(trace.x, trace.y, strict=True))
        lines.append(f'<polyline fill="none" stroke="{colour(index)}" stroke-width="1.5" '
                     f'points="{points}"/>')
        y = HEIGHT + LEGEND_ROW * (index + 1)
        legend.append(f'<text x="{PAD}" y="{y}" fill="{colour(index)}" font-size="12" '
                      f'font-family="sans-serif">{html.escape(trace.name)}: '
                      f'{_num(lo)} … {_num(hi)} (last {_num(trace.y[-1])}, '
                      f'{trace.total:,} points)</text>')
    axis = "step" if all(t.by_step for t in drawn) else "seconds"
    total_h = HEIGHT + LEGEND_ROW * (len(drawn) + 1)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total_h}" '
            f'viewBox="0 0 {WIDTH} {total_h}" role="img" aria-label="metrics">'
            f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="{HEIGHT - 1}" fill="none" '
            f'stroke="#d0d7de"/>{"".join(lines)}'
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 2 * PAD + 4}" text-anchor="end" '
            f'font-size="11" fill="#57606a" font-family="sans-serif">{axis} '
            f'{_num(x0)} … {_num(x1)}</text>{"".join(legend)}</svg>')


def _num(value: float) -> str:
    return f"{value:.4g}"
