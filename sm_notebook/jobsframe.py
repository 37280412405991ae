"""``%sm_jobs``' DataFrame: typed columns to analyse, and a compact view to read.

The frame keeps real types (``created`` a UTC timestamp, ``duration`` a timedelta, each
job's final metric values as float columns after ``duration``), so it sorts, filters and
plots as any frame.  Shown in a notebook or printed, it reads compactly: durations as
``40 s`` or ``1 h 02 min``, times to the second, and ``secondary_status`` only where it
says more than ``status`` (it is empty where they agree).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from .ui.text import compact_duration

if TYPE_CHECKING:
    import pandas as pd

#: the columns the final metrics go between
BEFORE_METRICS, AFTER_METRICS = "duration", "instance_type"


def jobs_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``%sm_jobs`` rows (``launch.JOB_COLUMNS`` and ``metrics``) as a frame."""
    import pandas as pd

    from .launch import JOB_COLUMNS

    frame = pd.DataFrame(rows, columns=[c for c in JOB_COLUMNS if c != "duration"])
    created = pd.to_datetime(frame["created"], utc=True, format="ISO8601")
    ended = pd.to_datetime(pd.Series([r.get("ended") for r in rows], dtype="object"),
                           utc=True, format="ISO8601")
    frame["created"] = created.dt.floor("s")
    frame.insert(5, "duration",
                 (ended.fillna(pd.Timestamp.now(tz="UTC").as_unit(ended.dt.unit))
                  - created).dt.round("s"))
    same = frame["secondary_status"] == frame["status"]
    frame["secondary_status"] = frame["secondary_status"].where(~same, None)
    if frame["queue"].isna().all():  # no job waited in a Batch queue: no column for it
        frame = frame.drop(columns="queue")
    columns = list(JOB_COLUMNS)
    names = metric_columns(rows, columns)
    at = columns.index(AFTER_METRICS)
    for offset, (metric, column) in enumerate(names.items()):
        frame.insert(at + offset, column, pd.Series(
            [(r.get("metrics") or {}).get(metric) for r in rows], dtype="float64"))
    return _frame_class()(frame)


def metric_columns(rows: list[dict[str, Any]], taken: list[str]) -> dict[str, str]:
    """metric → its column, in the order metrics first appear (newest job first); a
    metric named as a column already is ``NAME (metric)``."""
    names: dict[str, str] = {}
    for r in rows:
        for metric in r.get("metrics") or {}:
            names.setdefault(metric, f"{metric} (metric)" if metric in taken else metric)
    return names


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as it is read: durations and times as compact text."""
    import pandas as pd

    view = pd.DataFrame(frame).copy()
    if "duration" in view:
        view["duration"] = [compact_duration(d.total_seconds()) if pd.notna(d) else ""
                            for d in view["duration"]]
    if "created" in view:
        view["created"] = [t.strftime("%Y-%m-%d %H:%M:%S") if pd.notna(t) else ""
                           for t in view["created"]]
        view = view.rename(columns={"created": "created (UTC)"})
    return view.astype(object).where(view.notna(), "")


@cache
def _frame_class() -> type:
    import pandas as pd

    class JobsFrame(pd.DataFrame):
        """A DataFrame of jobs, shown compactly (``shown``)."""

        @property
        def _constructor(self) -> type:
            return JobsFrame

        def _repr_html_(self) -> str | None:
            return shown(self)._repr_html_()

        def __repr__(self) -> str:
            return repr(shown(self))

    JobsFrame.__qualname__ = JobsFrame.__name__
    return JobsFrame
