"""A trained local job served on this machine by its own script's handlers: a real job,
a real server process, real HTTP; nothing left running after delete."""

from __future__ import annotations

import json
import urllib.request

import pytest

from sm_notebook.runtime import processes
from sm_notebook.serving.local import EndpointError, EndpointRecord, delete_local, start_local
from sm_notebook.serving.payload import deserialize, serialize

SCRIPT = """import json, os

def model_fn(model_dir):
    with open(os.path.join(model_dir, "weights.json")) as f:
        return json.load(f)

def predict_fn(data, model):
    return (data * model["w"]).tolist()

if __name__ == "__main__":
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "weights.json"), "w") as f:
        json.dump({"w": 2.0}, f)
    print("trained")
"""


def invoke(record: EndpointRecord, data, content_type=None):
    body, kind = serialize(data, content_type)
    request = urllib.request.Request(f"{record.url}/invocations", data=body, method="POST",
                                     headers={"Content-Type": kind})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return deserialize(reply.read(), reply.headers["Content-Type"])


@pytest.fixture
def trained(ip):
    ip.run_cell_magic("sm_train", "job --job-name served --wait --quiet", SCRIPT)
    return ip.user_ns["job"]


def test_a_trained_job_is_served_by_its_handlers_and_delete_leaves_nothing_running(
        trained, tmp_path):
    record = start_local(trained.directory, "served-ep", tmp_path)
    assert record.job_dir == str(trained.directory)
    assert record.url.startswith("http://127.0.0.1:") and processes.running(
        record.pid, record.identity)
    assert invoke(record, [1.0, 2.5]) == [2.0, 5.0]
    assert EndpointRecord.read(tmp_path / "served-ep") == record  # found again by name
    with pytest.raises(EndpointError, match="already serving"):
        start_local(trained.directory, "served-ep", tmp_path)
    deleted = delete_local(tmp_path / "served-ep")
    assert deleted.status == "Deleted" and not processes.running(record.pid, record.identity)
    assert (tmp_path / "served-ep" / "server.log").exists()  # the log is kept
    assert not (tmp_path / "served-ep" / "model").exists()


def test_a_model_fn_that_fails_says_so_and_nothing_keeps_running(ip, tmp_path):
    broken = SCRIPT.replace('return json.load(f)', 'raise RuntimeError("corrupt weights")')
    ip.run_cell_magic("sm_train", "job --job-name broken-serve --wait --quiet", broken)
    with pytest.raises(EndpointError, match=r"^model_fn failed: RuntimeError: corrupt weights"):
        start_local(ip.user_ns["job"].directory, "broken-ep", tmp_path)
    assert not (tmp_path / "broken-ep" / "endpoint.json").exists()


def test_a_job_without_a_model_or_a_wrong_entry_script_is_refused(trained, tmp_path):
    with pytest.raises(EndpointError, match=r"^entry_script 'inference.py': not a file of "
                                            r"the job's code \(train.py\)"):
        start_local(trained.directory, "wrong", tmp_path, entry_script="inference.py")
    (trained.directory / "artifacts" / "model.tar.gz").unlink()
    with pytest.raises(EndpointError, match="has no model artifacts to serve"):
        start_local(trained.directory, "none", tmp_path)


def test_the_served_script_s_traceback_gives_the_cell_s_line(ip, tmp_path):
    cell = SCRIPT.replace('return (data * model["w"]).tolist()', 'return [model["missing"]]')
    ip.run_cell_magic("sm_train", "job --job-name line-serve --wait --quiet", cell)
    record = start_local(ip.user_ns["job"].directory, "line-ep", tmp_path)
    try:
        with pytest.raises(urllib.error.HTTPError) as caught:
            invoke(record, [1.0])
        assert caught.value.code == 500
        log = (tmp_path / "line-ep" / "server.log").read_text()
        # the failing line is line 9 of the cell (its %%sm_train line is line 1)
        assert 'train.py", line 9, in predict_fn' in log and "KeyError: 'missing'" in log
    finally:
        delete_local(tmp_path / "line-ep")


def test_the_record_is_json_readable_by_its_owner_only(trained, tmp_path):
    start_local(trained.directory, "private", tmp_path)
    try:
        path = tmp_path / "private" / "endpoint.json"
        assert json.loads(path.read_text())["mode"] == "local"
        assert path.stat().st_mode & 0o077 == 0
    finally:
        delete_local(tmp_path / "private")


def test_job_deploy_gives_a_predictor_that_predicts_reloads_and_deletes(trained):
    import numpy as np

    from sm_notebook.serving.predictor import PredictionError

    predictor = trained.deploy()
    try:
        assert predictor.status == "InService" and predictor.name == "served"
        assert predictor.predict(np.array([1.0, 3.0])) == [2.0, 6.0]
        assert predictor.predict([1.0], content_type="text/csv") == [[2.0]]  # CSV: rows
        with urllib.request.urlopen(f"{predictor.url}/ping", timeout=10) as reply:
            assert reply.status == 200  # curl works too
        with pytest.raises(PredictionError, match=r"^HTTP 415: content type image/png is not "
                                                  r"supported"):
            predictor.predict(b"\x89PNG", content_type="image/png")
        first = predictor.record.pid
        predictor.reload()  # a fresh process: the handlers read again
        assert predictor.record.pid != first and not processes.running(first, None)
        assert predictor.predict([2.0]) == [4.0]
        assert "serving train.py" in " ".join(predictor.logs().message)
    finally:
        predictor.delete()
    assert predictor.status == "Deleted"
    with pytest.raises(PredictionError, match="endpoint served is Deleted"):
        predictor.predict([1.0])


def test_deploy_refuses_what_it_cannot_serve_in_one_line(ip, trained):
    from sm_notebook.serving.local import EndpointError

    with pytest.raises(EndpointError, match=r"^mode 'cloud': one of local, container, "):
        trained.deploy(mode="cloud")
    with pytest.raises(EndpointError, match="serving a local job in container mode is not "
                                            "built yet"):
        trained.deploy(mode="container")
    with pytest.raises(Exception, match="failed"):
        ip.run_cell_magic("sm_train", "job --job-name unserved --wait --quiet",
                          "raise SystemExit(1)\n")
    with pytest.raises(EndpointError, match=r"^job unserved is Failed: there is no trained "
                                            r"model to serve"):
        ip.user_ns["job"].deploy()
