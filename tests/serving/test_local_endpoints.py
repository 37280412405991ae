"""A trained local job served on this machine by its own script's handlers: a real job,
a real server process, real HTTP; nothing left running after delete."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from sm_notebook.runtime import processes
from sm_notebook.serving.record import EndpointError, EndpointRecord, PredictionError

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


@pytest.fixture
def trained(ip):
    ip.run_cell_magic("sm_train", "job --job-name served --wait --quiet", SCRIPT)
    return ip.user_ns["job"]


def post(url: str, body: bytes, content_type: str = "application/json"):
    request = urllib.request.Request(f"{url}/invocations", data=body, method="POST",
                                     headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status, reply.read()


def test_a_trained_job_is_served_by_its_handlers_and_delete_leaves_nothing_running(trained):
    predictor = trained.deploy(name="served-ep")
    record = predictor.record
    folder = trained.directory.parent / ".endpoints" / "served-ep"
    assert record.job_dir == str(trained.directory) and predictor.folder == folder
    assert record.url.startswith("http://127.0.0.1:") and processes.running(
        record.pid, record.identity)
    assert post(record.url, b"[1.0, 2.5]") == (200, b"[2.0, 5.0]")
    assert EndpointRecord.read(folder) == record  # found again by name
    assert (folder / "model" / "weights.json").is_file()  # the model, extracted ...
    assert (folder / "model" / "code" / "train.py").is_file()  # ... with its code, as V2 has it
    with pytest.raises(EndpointError, match="endpoint served-ep is already serving"):
        trained.deploy(name="served-ep")
    predictor.delete()
    assert predictor.status == "Deleted" and not processes.running(record.pid, record.identity)
    assert (folder / "server.log").exists()  # the log is kept
    assert not (folder / "model").exists()


def test_a_model_fn_that_fails_says_so_and_nothing_keeps_running(ip):
    broken = SCRIPT.replace('return json.load(f)', 'raise RuntimeError("corrupt weights")')
    ip.run_cell_magic("sm_train", "job --job-name broken-serve --wait --quiet", broken)
    job = ip.user_ns["job"]
    with pytest.raises(EndpointError, match=r"^model_fn failed: RuntimeError: corrupt weights"):
        job.deploy()
    folder = job.directory.parent / ".endpoints" / "broken-serve"
    assert not (folder / "endpoint.json").exists() and not (folder / "model").exists()


def test_a_job_without_a_model_or_a_wrong_entry_script_is_refused(trained):
    with pytest.raises(EndpointError, match=r"^entry_script 'inference.py': not a file of "
                                            r"the job's code \(train.py\)"):
        trained.deploy(entry_script="inference.py")
    (trained.directory / "artifacts" / "model.tar.gz").unlink()
    with pytest.raises(Exception, match="has no model artifacts to serve"):
        trained.deploy()


def test_the_served_script_s_traceback_gives_the_cell_s_line(ip):
    cell = SCRIPT.replace('return (data * model["w"]).tolist()', 'return [model["missing"]]')
    ip.run_cell_magic("sm_train", "job --job-name line-serve --wait --quiet", cell)
    predictor = ip.user_ns["job"].deploy()
    try:
        with pytest.raises(PredictionError, match=r"^HTTP 500: KeyError: 'missing'"):
            predictor.predict([1.0])
        log = "\n".join(predictor.logs().message)
        # the failing line is line 9 of the cell (its %%sm_train line is line 1)
        assert 'train.py", line 9, in predict_fn' in log and "KeyError: 'missing'" in log
    finally:
        predictor.delete()


def test_the_record_is_json_readable_by_its_owner_only(trained):
    predictor = trained.deploy(name="private")
    try:
        path = predictor.folder / "endpoint.json"
        assert json.loads(path.read_text())["mode"] == "local"
        assert path.stat().st_mode & 0o077 == 0
    finally:
        predictor.delete()


def test_job_deploy_gives_a_predictor_that_predicts_reloads_and_deletes(trained):
    import numpy as np

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
        first, url = predictor.record.pid, predictor.url
        predictor.reload()  # a fresh process: the handlers read again, on the same URL
        assert predictor.record.pid != first and not processes.running(first, None)
        assert predictor.url == url and predictor.predict([2.0]) == [4.0]
        assert "serving train.py" in " ".join(predictor.logs().message)
    finally:
        predictor.delete()
    assert predictor.status == "Deleted"
    with pytest.raises(PredictionError, match="endpoint served is Deleted"):
        predictor.predict([1.0])


def test_reload_reads_an_inference_script_given_as_a_path_anew(trained, tmp_path):
    inference = tmp_path / "inference.py"
    inference.write_text("def model_fn(d):\n    return 1\n\n"
                         "def predict_fn(data, model):\n    return 'first'\n")
    predictor = trained.deploy(entry_script=str(inference), name="outside")
    try:
        assert predictor.predict([1]) == "first" and predictor.record.script == "inference.py"
        inference.write_text(inference.read_text().replace("'first'", "'edited'"))
        assert predictor.reload().predict([1]) == "edited"  # nothing stale survives
    finally:
        predictor.delete()


def test_deploy_refuses_what_it_cannot_serve_in_one_line(ip, trained):
    with pytest.raises(EndpointError, match=r"^mode 'cloud': one of local, container, "):
        trained.deploy(mode="cloud")
    with pytest.raises(EndpointError, match=r"^image: serving local job served in a "
                                            r"container needs an image"):
        trained.deploy(mode="container")
    with pytest.raises(EndpointError, match=r"^instance_type: a SageMaker endpoint needs one"):
        trained.deploy(mode="sagemaker")
    with pytest.raises(EndpointError, match=r"^name 'a_b': letters, digits and hyphens"):
        trained.deploy(name="a_b")
    with pytest.raises(EndpointError, match=r"^framework 'keras': one of sklearn"):
        trained.deploy(framework="keras")
    with pytest.raises(Exception, match=r"^deploy: .*unexpected keyword argument 'colour'"):
        trained.deploy(colour="red")
    with pytest.raises(Exception, match="failed"):
        ip.run_cell_magic("sm_train", "job --job-name unserved --wait --quiet",
                          "raise SystemExit(1)\n")
    with pytest.raises(EndpointError, match=r"^job unserved is Failed: there is no trained "
                                            r"model to serve"):
        ip.user_ns["job"].deploy()


def test_a_port_already_in_use_is_one_line_and_nothing_runs(trained):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(EndpointError, match=rf"^port {port} on 127.0.0.1: Address already "
                                                "in use"):
            trained.deploy(port=port)


def test_reload_with_the_cell_s_new_run_serves_it_on_the_same_url(ip, trained):
    predictor = trained.deploy()
    try:
        url = predictor.url
        ip.run_cell_magic("sm_train", "job --job-name served-again --wait --quiet",
                          SCRIPT.replace('{"w": 2.0}', '{"w": 10.0}'))
        predictor.reload(ip.user_ns["job"])  # the edited cell's job, in the old one's place
        assert predictor.url == url and predictor.predict([1.0]) == [10.0]
        assert predictor.record.job == "served-again"
    finally:
        predictor.delete()


def test_a_server_that_dies_is_failed_says_so_and_is_still_deleted(trained):
    import os
    import signal

    predictor = trained.deploy()
    os.kill(predictor.record.pid, signal.SIGKILL)  # the fault: the server is gone
    deadline = time.monotonic() + 10
    while predictor.status == "InService" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert predictor.status == "Failed"
    with pytest.raises(PredictionError, match=r"^HTTP 503: endpoint served is Failed$"):
        predictor.predict([1.0])
    predictor.delete()
    assert predictor.status == "Deleted"


def test_ctrl_c_while_model_fn_runs_leaves_no_server(ip, monkeypatch):
    from sm_notebook.serving import local

    slow = SCRIPT.replace("def model_fn(model_dir):", "def model_fn(model_dir):\n"
                          "    import time; time.sleep(30)")
    ip.run_cell_magic("sm_train", "job --job-name slow-serve --wait --quiet", slow)
    spawned = []
    real_spawn = local._spawn

    def spawn(*args):
        spawned.append(real_spawn(*args))
        return spawned[-1]

    def interrupted(folder, process, timeout):
        raise KeyboardInterrupt

    monkeypatch.setattr(local, "_spawn", spawn)
    monkeypatch.setattr(local, "_wait_ready", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ip.user_ns["job"].deploy()
    assert spawned and spawned[0].poll() is not None  # stopped, not left serving
