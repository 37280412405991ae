"""What a metrics chart shows, decided once for the live chart and the saved ones (pure).

The live plotly chart, the final plotly output and its matplotlib fallback all draw a
:class:`Chart`, so they agree on everything a reader compares: which metrics share a
subplot, each line's colour and dash, the titles with each metric's last and best value.

- Metrics that differ only by a train / validation / test prefix or suffix share a subplot
  (``train_loss``, ``val_loss``, ``validation:loss``, ``loss_val``), as livelossplot and
  W&B pair them; the subplot is named after what they share.
- One rule for lines everywhere: **colour is the source** (the host; in a comparison, the
  job) and **dash is the metric** within its subplot.  The log colours its host tags the
  same way.  A host is named in a line's name only when there is more than one.
- Smoothing is TensorBoard's: an exponential moving average, debiased at the start.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .series import Trace
from .theme import source_colour

#: dashes of the metrics within a subplot, in plotly's names (matplotlib's in STATIC_DASH)
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SMOOTHING = 0.6  # TensorBoard's default weight

_ROLE_WORDS = {"train": "train", "training": "train", "val": "validation",
               "valid": "validation", "validation": "validation", "eval": "validation",
               "test": "test"}
_ROLE_ORDER = {"": 0, "train": 1, "validation": 2, "test": 3}
_PREFIX = re.compile(r"^(train|training|val|valid|validation|eval|test)[_:/. -]+(.+)$", re.I)
_SUFFIX = re.compile(r"^(.+?)[_:/. -]+(train|training|val|valid|validation|eval|test)$", re.I)
#: words that say lower is better; words that say higher is better
_LOWER = ("loss", "error", "err", "mse", "mae", "rmse", "mape", "nll", "perplexity", "ppl",
          "wer", "cer", "logloss")
_HIGHER = ("acc", "accuracy", "auc", "f1", "precision", "recall", "iou", "map", "bleu",
           "rouge", "r2", "ndcg", "score")
_WORD = re.compile(r"[a-z0-9]+")


def split_role(metric: str) -> tuple[str, str]:
    """``metric`` → (what it measures, its role: ``train``, ``validation``, ``test`` or
    ``""``): ``val_loss`` → (``loss``, ``validation``), ``train:rmse`` → (``rmse``,
    ``train``)."""
    for pattern, role_group, base_group in ((_PREFIX, 1, 2), (_SUFFIX, 2, 1)):
        m = pattern.match(metric)
        if m:
            return m.group(base_group), _ROLE_WORDS[m.group(role_group).lower()]
    return metric, ""


def better(metric: str) -> str | None:
    """``"min"`` or ``"max"``: which way is better for this metric (None: unknown, as for
    a learning rate)."""
    words = _WORD.findall(split_role(metric)[0].lower())
    if any(w in _LOWER for w in words):
        return "min"
    if any(w in _HIGHER for w in words):
        return "max"
    return None


def smoothed(values: Sequence[float], weight: float = SMOOTHING) -> list[float]:
    """TensorBoard's smoothing: an exponential moving average, debiased so the first
    points are not pulled towards zero; non-finite values pass through unsmoothed."""
    out: list[float] = []
    last, steps = 0.0, 0
    for value in values:
        if not math.isfinite(value):
            out.append(value)
            continue
        last = last * weight + (1 - weight) * value
        steps += 1
        out.append(last / (1 - weight ** steps) if weight < 1 else value)
    return out


@dataclass
class Line:
    """One drawn line: a metric from one source."""

    name: str  # the legend's text: the metric, and the source where there are several
    metric: str
    source: str
    slot: int  # the source's place: its colour (``theme.source_colour``)
    dash: str  # one of DASHES
    x: list[float]
    y: list[float]
    total: int  # points before decimation

    @property
    def colour(self) -> str:
        """Its colour on a light background."""
        return source_colour(self.slot)

    @property
    def smooth_y(self) -> list[float]:
        return smoothed(self.y)


@dataclass
class Panel:
    """One subplot: a metric and its train / validation / test partners."""

    title: str  # what its metrics share
    metrics: list[str]
    lines: list[Line] = field(default_factory=list)

    @property
    def heading(self) -> str:
        """The title with each metric's last and best value (best where known); where
        the lines come from several sources, each metric's best and whose it is."""
        parts = []
        several = len({line.source for line in self.lines}) > 1
        for metric in self.metrics:
            lines = [line for line in self.lines if line.metric == metric and line.y]
            ys = [(y, line.source) for line in lines for y in line.y if math.isfinite(y)]
            if not ys:
                continue
            way = better(metric)
            label = f"{metric} " if len(self.metrics) > 1 else ""
            if several:
                if way is None:
                    continue  # no best to name, and no one last value
                y, source = (min if way == "min" else max)(ys, key=lambda p: p[0])
                parts.append(f"{label}best {fmt(y)} ({source})")
                continue
            text = f"{label}{fmt(lines[-1].y[-1])}"
            if way is not None and len(ys) > 1:
                text += f" (best {fmt((min if way == 'min' else max)(y for y, _ in ys))})"
            parts.append(text)
        return f"{self.title}: {' · '.join(parts)}" if parts else self.title


@dataclass
class Chart:
    panels: list[Panel]
    x_title: str  # "step" or "seconds"
    sources: list[str]
    source_kind: str = "host"  # what a source is: a host, or a job in a comparison

    @property
    def lines(self) -> list[Line]:
        return [line for panel in self.panels for line in panel.lines]

    @property
    def legend_note(self) -> str:
        """What colour and dash stand for, where a reader needs telling."""
        return f"colour: {self.source_kind} · dash: metric" if len(self.sources) > 1 else ""


def chart(traces: Sequence[Trace], source_of=None, sources: Sequence[str] = (),
          source_kind: str = "host") -> Chart:
    """The chart of these traces (one per metric and host); ``source_of(trace)`` names
    a trace's source (default: its host).  ``sources``: every source in colour order,
    where some have no trace yet (the log colours hosts that print no metric); the rest
    follow, sorted."""
    source_of = source_of or (lambda t: t.host)
    sources = [*sources, *sorted({source_of(t) for t in traces} - set(sources))]
    groups: dict[str, list[str]] = {}
    for metric in sorted({t.metric for t in traces}):
        groups.setdefault(split_role(metric)[0], []).append(metric)
    panels: list[Panel] = []
    for base, metrics in sorted(groups.items()):
        if len(metrics) == 1:
            panels.append(Panel(metrics[0], metrics))
            continue
        metrics.sort(key=lambda m: (_ROLE_ORDER[split_role(m)[1]], m))
        panels.append(Panel(base, metrics))
    for panel in panels:
        for trace in sorted((t for t in traces if t.metric in panel.metrics),
                            key=lambda t: (panel.metrics.index(t.metric),
                                           sources.index(source_of(t)))):
            source = source_of(trace)
            name = trace.metric if len(sources) == 1 else f"{trace.metric} ({source})"
            panel.lines.append(Line(
                name, trace.metric, source, sources.index(source),
                DASHES[panel.metrics.index(trace.metric) % len(DASHES)],
                list(trace.x), list(trace.y), trace.total))
    by_step = all(t.by_step for t in traces) if traces else True
    return Chart(panels, "step" if by_step else "seconds", sources, source_kind)


def fmt(value: float) -> str:
    return f"{value:.4g}"
