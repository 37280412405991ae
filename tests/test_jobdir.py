"""The job folder's schema: atomic JSON, the state record keeping keys it does not know,
``job.json`` and the log records."""

from __future__ import annotations

import json

from sm_notebook.events import LogEvent
from sm_notebook.jobdir import (
    JobDir,
    JobMeta,
    JobState,
    PointsReader,
    parse_records,
    read_json,
    write_json,
)


def test_json_is_replaced_whole_and_a_bad_file_reads_as_empty(tmp_path):
    path = tmp_path / "state.json"
    write_json(path, {"a": 1})
    write_json(path, {"b": 2})
    assert read_json(path) == {"b": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary left
    path.write_text("{half")
    assert read_json(path) == {}
    path.write_text("[1, 2]")
    assert read_json(path) == {}
    assert read_json(tmp_path / "missing.json") == {}


def test_the_state_record_round_trips_and_keeps_keys_it_does_not_know(tmp_path):
    folder = JobDir(tmp_path)
    folder.write_state({"status": "Completed", "secondary_status": "Completed",
                        "billable_seconds": 12, "timeline": {"pull": 1.0}})
    state = folder.read_state()
    assert state.terminal and state.extra == {"billable_seconds": 12,
                                              "timeline": {"pull": 1.0}}
    state.message = "done"
    folder.write_state(state)
    assert json.loads(folder.state_file.read_text()) == {
        "status": "Completed", "secondary_status": "Completed", "message": "done",
        "transitions": [], "billable_seconds": 12, "timeline": {"pull": 1.0}}
    assert folder.update_state(ended="now")["ended"] == "now"
    assert JobState().to_dict()["status"] == "InProgress"


def test_job_json_says_adopted_only_for_an_adopted_job(tmp_path):
    folder = JobDir(tmp_path)
    assert folder.read_meta() is None
    folder.write_meta(JobMeta("a", "local", "2024-01-01", {"cell": ""}, "1.0"))
    assert "adopted" not in read_json(folder.meta_file)
    folder.write_meta(JobMeta("a", "sagemaker", None, {}, adopted=True))
    assert folder.read_meta().adopted


def test_log_records_round_trip_with_tabs_in_the_message(tmp_path):
    folder = JobDir(tmp_path)
    assert folder.read_log() == [] and folder.log_size() == 0
    events = [LogEvent("2024-01-01T00:00:00Z", "algo-1", "a\tb"),
              LogEvent("2024-01-01T00:00:01Z", "algo-2", "c", "stderr")]
    folder.append_log(events)
    assert folder.read_log() == events
    assert parse_records(folder.log_file.read_bytes() + b"partial") == events


def test_json_and_log_files_are_the_owner_s_only_whatever_the_umask(tmp_path):
    import os
    import stat

    folder = JobDir(tmp_path)
    previous = os.umask(0o022)
    try:
        folder.write_state(JobState())
        folder.write_meta(JobMeta("a", "local", None, {}))
        folder.append_log([LogEvent("2024-01-01T00:00:00Z", "algo-1", "x")])
    finally:
        os.umask(previous)
    for path in (folder.state_file, folder.meta_file, folder.log_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


POINTS = ('D\t0\t["loss", "loss=(\\\\d)"]\nO\t0\t0\n'
          "P\t1.5\talgo-1\t0\t1\t\nO\t10\t1\n"
          'W\t0\t1\t"metric \'loss\' switched off"\nO\t10\t1\n'
          "P\t2.5\talgo-2\t0\t2\t3\n")  # not committed: no O after it yet


def test_a_points_reader_takes_records_up_to_the_last_commit_and_goes_on_from_there(
        tmp_path):
    path = tmp_path / "metric_points.tsv"
    path.write_text(POINTS)
    reader = PointsReader(path)
    assert reader.points() == [(1.5, "algo-1", "loss", 1.0, None)]
    assert reader.scan() == ["metric 'loss' switched off"]
    assert (reader.log_offset, reader.lines) == (10, 1)
    assert reader.points() == [] and reader.scan() == []
    with open(path, "a") as f:
        f.write("O\t20\t2\n")
    assert reader.points() == [(2.5, "algo-2", "loss", 2.0, 3.0)]
    assert reader.scan() == [] and (reader.log_offset, reader.lines) == (20, 2)
    assert PointsReader(tmp_path / "missing.tsv").points() == []


def test_the_log_is_read_in_blocks_of_whole_records(tmp_path):
    folder = JobDir(tmp_path)
    assert list(folder.log_blocks()) == []
    events = [LogEvent("2024-01-01T00:00:00Z", "algo-1", f"line {i}") for i in range(100)]
    folder.append_log(events)
    blocks = list(folder.log_blocks(block=100))
    assert len(blocks) > 10 and all(b.endswith(b"\n") for b in blocks)
    assert parse_records(b"".join(blocks)) == events
