"""``runtime/`` runs without the package (beside the kernel, or in a container), so it
keeps its own copy of the job folder's names and record format: they agree with
``jobdir``'s, and what a supervisor writes reads back through ``jobdir``."""

from __future__ import annotations

import json
from pathlib import Path

from sm_notebook import clock, events, jobdir
from sm_notebook.runtime import metric_points, supervisor


def test_the_file_names_are_the_package_s():
    assert supervisor.RUN_FILE == jobdir.RUN_FILE
    assert supervisor.STATE_FILE == jobdir.STATE_FILE
    assert supervisor.LOG_FILE == jobdir.LOG_FILE
    assert supervisor.SUPERVISOR_ERRORS == jobdir.SUPERVISOR_ERRORS
    assert supervisor.STOP_REQUEST == jobdir.STOP_REQUEST


def test_the_metric_points_file_and_its_records_are_the_package_s():
    assert metric_points.LOG_FILE == jobdir.LOG_FILE
    assert metric_points.JOB_FILE == jobdir.JOB_FILE
    assert metric_points.METRIC_POINTS_FILE == jobdir.METRIC_POINTS_FILE
    assert (metric_points.DEFINITION, metric_points.POINT, metric_points.SWITCHED_OFF,
            metric_points.PARSED) == (jobdir.DEFINITION, jobdir.POINT, jobdir.SWITCHED_OFF,
                                      jobdir.PARSED)


def test_what_the_metric_parser_writes_reads_back_through_jobdir(tmp_path: Path):
    job = folder(tmp_path)
    job.append_log([events.LogEvent("2026-11-24T10:00:00.5Z", "algo-2", "epoch 2 loss=0.5"),
                    events.LogEvent("2026-11-24T10:00:01Z", "algo-1", "noise")])
    assert metric_points.parse(job.path, lambda _: True, [("loss", r"loss=([0-9.]+)")]) == 0
    reader = jobdir.PointsReader(job.metric_points_file)
    [point] = reader.points()
    assert point == (clock.iso_to_epoch("2026-11-24T10:00:00.5Z"), "algo-2", "loss", 0.5, 2.0)
    assert reader.scan() == [] and (reader.log_offset, reader.lines) == (job.log_size(), 2)


def test_the_terminal_statuses_are_the_package_s():
    assert frozenset(supervisor.TERMINAL) == events.TERMINAL


def folder(tmp_path: Path) -> jobdir.JobDir:
    directory = tmp_path / "job"
    directory.mkdir()
    (directory / jobdir.RUN_FILE).write_text(json.dumps({
        "layout_roots": {"algo-1": str(directory)}, "entry_point": "train.py"}))
    jobdir.JobDir(directory).write_state(jobdir.JobState())
    return jobdir.JobDir(directory)


def test_what_a_supervisor_writes_parses_with_jobdir(tmp_path: Path):
    job = folder(tmp_path)
    writer = supervisor.Supervisor(job.path)
    lines = ["plain", "tab\tinside", "ünïcode ✓", ""]
    writer.write_lines(lines, "stdout")
    writer.write_lines(["Traceback (most recent call last):"], "stderr", host="algo-1")
    writer.log.close()
    read = job.read_log()
    assert [ev.message for ev in read] == [*lines, "Traceback (most recent call last):"]
    assert [ev.stream for ev in read] == ["stdout"] * 4 + ["stderr"]
    assert {ev.host for ev in read} == {"algo-1"}
    assert all(ev.time.endswith("Z") for ev in read)
    assert jobdir.parse_records(job.log_file.read_bytes()) == read


def test_a_state_a_supervisor_writes_reads_as_jobdir_s_typed_state(tmp_path: Path):
    job = folder(tmp_path)
    writer = supervisor.Supervisor(job.path)
    writer.transition("Failed", "Failed", "Training job failed", failure_reason="boom",
                      supervisor_pid=123, exit_code=1)
    writer.log.close()
    state = job.read_state()
    assert (state.status, state.secondary_status, state.failure_reason) == (
        "Failed", "Failed", "boom")
    assert state.terminal and state.ended and state.supervisor_pid == 123
    assert state.extra == {"exit_code": 1}
    assert state.transitions[-1]["Status"] == "Failed"


def test_a_stop_request_written_through_jobdir_is_seen_by_the_supervisor(tmp_path: Path):
    job = folder(tmp_path)
    writer = supervisor.Supervisor(job.path)
    writer.log.close()
    asked = []
    writer.started = lambda: True  # type: ignore[method-assign]
    writer.request_stop = asked.append  # type: ignore[method-assign]
    writer.stop_if_asked()
    assert asked == []
    job.stop_request.touch()
    writer.stop_if_asked()
    assert asked == ["stop"]
