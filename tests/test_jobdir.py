"""The job folder's schema: atomic JSON, the state record keeping keys it does not know,
``job.json`` and the log records."""

from __future__ import annotations

import json

from sm_notebook.events import LogEvent
from sm_notebook.jobdir import JobDir, JobMeta, JobState, parse_records, read_json, write_json


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
