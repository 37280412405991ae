"""``%sm_jobs``' frame: typed to analyse, compact to read, with each job's final metrics."""

from __future__ import annotations

import pandas as pd

from sm_notebook.jobsframe import jobs_frame, shown
from sm_notebook.launch import JOB_COLUMNS
from sm_notebook.ui.text import compact_duration


def row(name: str, created: str, ended: str | None, status: str = "Completed",
        secondary: str = "Completed", metrics: dict | None = None) -> dict:
    return {"name": name, "mode": "local", "status": status, "secondary_status": secondary,
            "created": created, "ended": ended, "instance_type": "local",
            "instance_count": 1, "cost_usd": None, "model_artifacts": None,
            "failure_reason": None, "directory": f"/jobs/{name}", "metrics": metrics or {}}


ROWS = [row("tuned", "2026-12-03T10:00:00.123456+00:00", "2026-12-03T11:02:10+00:00",
            metrics={"loss": 0.1, "accuracy": 0.93}),
        row("quick", "2026-12-03T09:00:00+00:00", "2026-12-03T09:00:40.4+00:00",
            metrics={"loss": 0.3, "status": 1.0}),
        row("failed", "2026-12-03T08:00:00+00:00", "2026-12-03T08:12:05+00:00",
            status="Failed", secondary="Failed"),
        row("stopping", "2026-12-03T07:00:00+00:00", None, status="InProgress",
            secondary="Training")]


def test_durations_read_as_long_as_they_need():
    assert [compact_duration(s) for s in (0, 40.4, 725, 3730, 2 * 86400 + 3 * 3600)] == [
        "0 s", "40 s", "12 min 05 s", "1 h 02 min", "2 d 03 h"]
    assert compact_duration(None) == "" == compact_duration(float("nan"))


def test_the_frame_keeps_types_and_adds_each_job_s_final_metrics_after_duration():
    frame = jobs_frame(ROWS)
    metrics = ["loss", "accuracy", "status (metric)"]  # as they first appear; no clash
    base = [c for c in JOB_COLUMNS if c != "queue"]  # no job waited in a queue: no column
    at = base.index("instance_type")
    assert list(frame.columns) == base[:at] + metrics + base[at:]
    assert frame["loss"].tolist()[:2] == [0.1, 0.3] and frame["loss"].isna().tolist()[2:] \
        == [True, True]
    assert str(frame["created"].dt.tz) == "UTC" and frame["created"][0].microsecond == 0
    assert frame["duration"][0] == pd.Timedelta("1h2m10s")  # to the second
    assert frame.sort_values("loss")["name"].tolist()[0] == "tuned"  # still a frame


def test_secondary_status_is_shown_only_where_it_says_more():
    frame = jobs_frame(ROWS)
    assert frame["secondary_status"].isna().tolist() == [True, True, True, False]
    assert frame["secondary_status"][3] == "Training"


def test_shown_compactly_in_a_notebook_and_when_printed():
    frame = jobs_frame(ROWS)
    view = shown(frame)
    assert view["duration"].tolist()[:3] == ["1 h 02 min", "40 s", "12 min 05 s"]
    assert view["created (UTC)"][0] == "2026-12-03 10:00:00"
    assert view["secondary_status"].tolist() == ["", "", "", "Training"]
    page = frame._repr_html_()
    assert "1 h 02 min" in page and "0 days" not in page and ".123456" not in page
    assert "1 h 02 min" in repr(frame[["name", "duration"]])  # a slice reads the same
    assert type(frame[frame.status == "Failed"]).__name__ == "JobsFrame"


def test_no_jobs_give_an_empty_frame_with_the_columns():
    frame = jobs_frame([])
    assert list(frame.columns) == [c for c in JOB_COLUMNS if c != "queue"] and frame.empty
    assert "name" in frame._repr_html_()
