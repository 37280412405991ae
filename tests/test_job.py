"""``Job`` driven by the fake backend: no process, no Docker, no AWS; milliseconds each."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from sm_notebook.errors import JobFailedError, SmNotebookError
from sm_notebook.job import Job
from sm_notebook.jobdir import JobDir
from sm_notebook.spec import MetricDefinition, TrainingSpec
from tests.fakes.fake_backend import FakeBackend, Step, log, status


def make_job(tmp_path: Path, steps: list[Step], log_window: int = 100,
             metrics: list[MetricDefinition] | None = None) -> tuple[Job, FakeBackend]:
    backend = FakeBackend(steps)
    spec = TrainingSpec(cell="print('hi')\n", metrics=metrics or [])
    directory = tmp_path / "job-1"
    directory.mkdir()
    ref = backend.submit(spec, "job-1", directory, tmp_path)
    return Job(spec, "job-1", directory, backend, ref, log_window=log_window), backend


def test_statuses_and_lines_reach_the_handle_and_the_job_ends(tmp_path):
    job, backend = make_job(tmp_path, [
        Step([log("epoch 1 loss=0.5")], [status("InProgress", "Training")]),
        Step([log("epoch 2 loss=0.25")]),
        Step(statuses=[status("Completed")]),
    ])
    seen = []
    job.add_listener(lambda j: seen.append(j.status))
    assert job.start().wait(timeout=5) == "Completed"
    assert (job.status, job.secondary_status, job.line_count) == ("Completed", "Completed", 2)
    assert [ev.message for ev in job.recent_lines()] == ["epoch 1 loss=0.5",
                                                         "epoch 2 loss=0.25"]
    assert seen[-1] == "Completed"
    assert backend.called("release")  # let go once it ended


def test_the_log_window_keeps_the_newest_lines_and_the_disk_keeps_all(tmp_path):
    job, _ = make_job(tmp_path, [Step([log(f"line {i}") for i in range(10)]),
                                 Step(statuses=[status("Completed")])], log_window=3)
    job.start().wait(timeout=5)
    assert [ev.message for ev in job.recent_lines()] == ["line 7", "line 8", "line 9"]
    assert job.line_count == 10
    assert list(job.logs()["message"]) == [f"line {i}" for i in range(10)]
    assert list(job.logs(tail=2)["message"]) == ["line 8", "line 9"]


def test_metrics_are_parsed_from_the_lines(tmp_path):
    job, _ = make_job(tmp_path, [Step([log("loss=0.5"), log("noise"), log("loss=0.25")]),
                                 Step(statuses=[status("Completed")])],
                      metrics=[MetricDefinition("loss", r"loss=([0-9.]+)")])
    job.start().wait(timeout=5)
    assert [(p.metric, p.value) for p in job.metric_points()] == [("loss", 0.5),
                                                                   ("loss", 0.25)]
    assert list(job.metrics()["value"]) == [0.5, 0.25]
    points, count = job.metric_points_since(1)
    assert ([p.value for p in points], count) == ([0.25], 2)


def test_wait_times_out_on_a_job_that_runs_on(tmp_path):
    job, _ = make_job(tmp_path, [Step([log("working")])])
    job.start()
    with pytest.raises(TimeoutError, match="still InProgress"):
        job.wait(timeout=0.05)
    job.stop()
    assert job.wait(timeout=5) == "Stopped"


def test_stop_asks_the_backend_and_a_stopped_job_is_not_stopped_twice(tmp_path):
    job, backend = make_job(tmp_path, [Step([log("working")])])
    job.start()
    job.stop()
    job.wait(timeout=5)
    job.stop()
    assert len(backend.called("stop")) == 1


def test_a_failure_raises_when_asked_and_describe_agrees_with_the_status(tmp_path):
    job, _ = make_job(tmp_path, [Step(statuses=[status("Failed", "Failed",
                                                       failure_reason="boom")])])
    with pytest.raises(JobFailedError, match="job-1 failed: boom"):
        job.start().wait(timeout=5, raise_on_failure=True)
    info = job.describe()
    assert (info["status"], info["failure_reason"]) == ("Failed", "boom")
    assert info["spec"]["cell"] == "print('hi')\n"


def test_describe_says_what_the_handle_has_seen_even_when_the_file_says_otherwise(tmp_path):
    job, _ = make_job(tmp_path, [Step(statuses=[status("InProgress", "Training")])])
    job.start()
    deadline = time.monotonic() + 5
    while job.secondary_status != "Training" and time.monotonic() < deadline:
        time.sleep(0.005)
    JobDir(job.directory).update_state(status="Completed", secondary_status="Completed")
    info = job.describe()
    assert (info["status"], info["secondary_status"]) == (job.status, job.secondary_status)
    job.detach()


def test_a_detached_job_stops_being_followed(tmp_path):
    job, _ = make_job(tmp_path, [Step([log("working")])])
    job.start()
    job.detach()
    with pytest.raises(SmNotebookError, match="was detached"):
        job.wait(timeout=5)


def test_catch_up_reads_an_ended_job_to_its_end_in_the_caller_s_thread(tmp_path):
    job, _ = make_job(tmp_path, [Step([log("a")], [status("Completed")]), Step([log("b")])])
    assert job.catch_up() is True
    assert job.done and job.line_count == 2 and job.start() is job


def test_a_pump_that_loses_the_job_reports_it_as_failed(tmp_path):
    job, backend = make_job(tmp_path, [])

    def broken(ref, cursor):
        raise OSError("gone")

    backend.poll = broken
    assert job.start().wait(timeout=5) == "Failed"
    assert "lost track of the job" in job.failure_reason
    assert isinstance(job.error, OSError)


def test_no_model_yet_is_one_plain_error(tmp_path):
    job, _ = make_job(tmp_path, [])
    with pytest.raises(SmNotebookError, match="has no model artifacts"):
        job.extract_model()
    assert repr(job) == "<Job job-1 mode=local status=InProgress (Starting)>"


def test_logs_are_a_frame_of_typed_columns_read_from_disk(tmp_path):
    events = [log("first"), log("second", host="algo-2"), log("tab\tinside")]
    job, _ = make_job(tmp_path, [Step(events), Step(statuses=[status("Completed")])])
    job.start().wait(timeout=30)
    frame = job.logs()
    assert list(frame.columns) == ["timestamp", "host", "message"]
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    # the times written, whatever resolution pandas reads ISO text in (pandas 3: µs)
    assert list(frame["timestamp"]) == [pd.Timestamp(e.time) for e in events]
    assert str(frame["host"].dtype) == "category"
    assert list(frame["host"]) == ["algo-1", "algo-2", "algo-1"]
    assert str(frame["message"].dtype) == "string"
    assert list(frame["message"]) == ["first", "second", "tab\tinside"]
    assert list(job.logs(tail=0)["message"]) == [] and len(job.logs(tail=9)) == 3


def test_a_metric_pattern_that_never_finishes_is_switched_off_and_said_once(tmp_path):
    job, _ = make_job(tmp_path, [Step([log("loss=0.5"), log("a" * 40 + "!"), log("loss=0.25")]),
                                 Step(statuses=[status("Completed")])],
                      metrics=[MetricDefinition("x", r"(a+)+$"),
                               MetricDefinition("loss", r"loss=([0-9.]+)")])
    began = time.monotonic()
    job.start().wait(timeout=60)
    assert time.monotonic() - began < 30  # the budget is 1 s; the pattern alone: days
    assert [p.value for p in job.metric_points()] == [0.5, 0.25]
    [note] = job.notes
    assert note.startswith("metric 'x' switched off: its pattern took longer than 1 s on "
                           "line 2 of the log")
    assert job.recent_lines()[-1].message == f"sm_notebook: {note}"
    assert job.recent_lines()[-1].stream == "stderr"


def test_points_are_read_from_the_folder_when_asked_for(tmp_path):
    job, _ = make_job(tmp_path, [Step([log("loss=1")]), Step(statuses=[status("Completed")])],
                      metrics=[MetricDefinition("loss", r"loss=([0-9.]+)")])
    job.start().wait(timeout=30)
    assert job.folder.metric_points_file.is_file()
    assert job.metric_count == 0  # nothing asked yet: nothing read
    assert [p.value for p in job.metric_points()] == [1.0] and job.metric_count == 1
