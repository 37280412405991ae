"""Container endpoints on a real Docker Engine: ``docker run IMAGE serve`` for an image
with a serving stack, sm_notebook's server mounted read-only for one without; the
seed-style XGBoost script and an AWS-style scikit-learn script served as AWS serves them.

Nothing here is skipped: without an engine or the images (tests/images/build.sh) these
tests fail, as they should.
"""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import docker
import numpy as np
import pytest
from sklearn.datasets import load_iris

from sm_notebook.errors import SmNotebookError
from sm_notebook.serving.record import EndpointError
from tests.serving.scripts import weights_script

PLAIN, SERVING, XGBOOST = "smnb-test/sklearn:1", "smnb-test/serving:1", "smnb-test/xgboost:1"
DATA = Path(__file__).resolve().parents[1] / "data" / "aws_style"
LABEL = "sm-notebook.endpoint"
SCRIPT = weights_script(3.0)


@pytest.fixture(autouse=True)
def engine():
    """The engine is up, and every test leaves no endpoint container and no new network."""
    client = docker.from_env()
    client.ping()
    networks = {n.id for n in client.networks.list()}
    yield client
    assert client.containers.list(all=True, filters={"label": LABEL}) == []
    assert {n.id for n in client.networks.list()} == networks


def train(ip, line: str, cell: str):
    ip.run_cell_magic("sm_train", f"job {line} --wait --quiet", cell)
    job = ip.user_ns["job"]
    assert job.status == "Completed", job.failure_reason
    return job


@pytest.fixture
def weights_job(ip):
    return train(ip, "--job-name weights", SCRIPT)


def test_the_seed_xgboost_script_is_trained_locally_and_served_locally_and_in_a_container(
        ip, run_dir, engine):
    rng = np.random.default_rng(0)
    features = rng.uniform(0, 1, (200, 4))
    labels = features @ [1.0, 2.0, 0.5, 3.0]
    (run_dir / "abalone").mkdir()
    np.savetxt(run_dir / "abalone" / "abalone.csv", np.column_stack([labels, features]),
               delimiter=",")
    job = train(ip, "--job-name abalone --input train=abalone --hp num_round=30",
                (DATA / "xgboost_abalone.py").read_text())
    rows = features[:3].tolist()
    local = job.deploy()
    served = job.deploy(mode="container", image=XGBOOST, name="abalone-c")
    try:
        here = local.predict(rows)["predictions"]  # all four handlers: JSON in and out
        there = served.predict(rows)["predictions"]
        assert here == there and np.allclose(here, labels[:3], atol=1.0)
        csv = served.predict("\n".join(",".join(map(str, r)) for r in rows),
                             content_type="text/csv", accept="text/csv")
        assert np.allclose([float(v) for v in csv.split()], here, atol=1e-5)  # output_fn's tuple
        assert served.url.startswith("http://127.0.0.1:")
        (container,) = engine.containers.list(filters={"label": f"{LABEL}=abalone-c"})
        bound = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"]
        assert [b["HostIp"] for b in bound] == ["127.0.0.1"]  # never on every interface
        env = dict(e.split("=", 1) for e in container.attrs["Config"]["Env"])
        assert (env["SAGEMAKER_PROGRAM"], env["SAGEMAKER_SUBMIT_DIRECTORY"]) == (
            "train.py", "/opt/ml/model/code")  # as V2 sets them
        mounts = {m["Destination"]: m["RW"] for m in container.attrs["Mounts"]}
        assert mounts == {"/opt/ml/model": False, "/opt/sm_notebook": False}  # read-only
    finally:
        local.delete()
        served.delete()
    assert served.status == "Deleted"
    assert "POST /invocations 200" in "\n".join(served.logs().message)  # kept after delete


def test_an_aws_style_sklearn_script_with_only_model_fn_serves_with_the_defaults(ip, iris):
    data = load_iris()
    job = train(ip, f"--mode container --image {PLAIN} --input train=data/train "
                "--hp max_leaf_nodes=30",
                (DATA / "sklearn_decision_tree.py").read_text())
    predictor = job.deploy()  # the job's own mode and image
    try:
        assert predictor.mode == "container"
        assert predictor.predict(data.data[[0, 50, 149]].tolist()) == [0, 1, 2]  # JSON → predict
        assert predictor.predict(data.data[[0]], content_type="text/csv") == [0]
    finally:
        predictor.delete()


def test_an_image_with_its_own_serve_is_run_with_serve(weights_job):
    predictor = weights_job.deploy(mode="container", image=SERVING)
    try:
        assert predictor.predict([1, 2]) == [3.0, 6.0]
        log = "\n".join(predictor.logs().message)
        assert "image serve: train.py from /opt/ml/model/code" in log  # not sm_notebook's
    finally:
        predictor.delete()


def test_a_container_that_exits_before_ping_fails_at_once_with_its_last_lines(ip):
    broken = SCRIPT.replace('return json.load(f)', 'raise RuntimeError("corrupt weights")')
    job = train(ip, "--job-name broken-box", broken)
    began = time.monotonic()
    with pytest.raises(EndpointError, match=r"^the serving container exited \(code 1\) before "
                                            r"/ping answered: .*RuntimeError: corrupt weights"):
        job.deploy(mode="container", image=PLAIN)
    assert time.monotonic() - began < 20  # not V2's 120 s
    folder = job.directory.parent / ".endpoints" / "broken-box"
    assert "corrupt weights" in (folder / "server.log").read_text()  # the log is kept


def test_reload_in_a_container_reads_the_handlers_again_on_the_same_url(weights_job, tmp_path):
    inference = tmp_path / "inference.py"
    inference.write_text("def model_fn(d):\n    return 1\n\n"
                         "def predict_fn(data, model):\n    return 'first'\n")
    predictor = weights_job.deploy(mode="container", image=PLAIN, entry_script=str(inference))
    try:
        url, first = predictor.url, predictor.record.container
        assert predictor.predict([1]) == "first"
        inference.write_text(inference.read_text().replace("'first'", "'edited'"))
        predictor.reload()
        assert predictor.predict([1]) == "edited" and predictor.url == url
        assert predictor.record.container != first
        with urllib.request.urlopen(f"{url}/ping", timeout=10) as reply:
            assert reply.status == 200
    finally:
        predictor.delete()


def test_an_engine_that_is_down_or_an_image_that_is_missing_is_one_line(weights_job,
                                                                        monkeypatch):
    with pytest.raises(EndpointError, match=r"^image smnb-test/absent:0 is not on this "
                                            r"machine"):
        weights_job.deploy(mode="container", image="smnb-test/absent:0")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(SmNotebookError, match=r"Docker Engine at unix:///nonexistent/docker"
                                              r".sock is not reachable"):
        weights_job.deploy(mode="container", image=PLAIN)
    assert not (weights_job.directory.parent / ".endpoints" / "weights").exists()
