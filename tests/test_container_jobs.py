"""Container mode on a real Docker Engine, with the images tests/images/build.sh makes.

Nothing here is skipped: without an engine or the images these tests fail, as they should.
"""

from __future__ import annotations

import json
import tarfile
import time
from pathlib import Path

import docker
import pytest
from sklearn.datasets import load_iris

from sm_notebook.errors import JobFailedError

PLAIN, TOOLKIT, TORCH = "smnb-test/sklearn:1", "smnb-test/toolkit:1", "smnb-test/torch:1"
SKLEARN_SCRIPT = (Path(__file__).parent / "data" / "aws_style" / "sklearn_decision_tree.py")
LABEL = "sm-notebook.job"


@pytest.fixture(autouse=True)
def engine():
    """The engine is up, and every test leaves no container or network of a job behind."""
    client = docker.from_env()
    client.ping()
    yield client
    leftovers = client.containers.list(all=True, filters={"label": LABEL})
    networks = client.networks.list(filters={"label": LABEL})
    assert (leftovers, networks) == ([], [])


@pytest.fixture
def iris(run_dir: Path) -> Path:
    folder = run_dir / "data" / "train"
    folder.mkdir(parents=True)
    data = load_iris()
    (folder / "iris.csv").write_text("".join(
        ",".join([str(label), *map(str, row)]) + "\n"
        for label, row in zip(data.target, data.data, strict=True)))
    return folder


def train(ip, line: str, cell: str):
    ip.run_cell_magic("sm_train", f"job --mode container {line}", cell)
    return ip.user_ns["job"]


@pytest.mark.parametrize(("image", "kind"), [(PLAIN, "launcher"), (TOOLKIT, "toolkit")])
def test_sklearn_script_mode_job_in_each_kind_of_image(ip, iris, run_dir, capsys, engine, image,
                                                       kind):
    job = train(ip, f"--image {image} --input train=data/train --hp max_leaf_nodes=30 --wait",
                SKLEARN_SCRIPT.read_text())

    assert job.status == "Completed", job.failure_reason
    assert kind in capsys.readouterr().out  # which kind of image was used is said
    with tarfile.open(job.model_artifacts) as tar:
        assert tar.getnames() == ["model.joblib"]
    model_dir = job.extract_model(run_dir / "model")  # loaded with the image's scikit-learn
    leaves = engine.containers.run(
        image, ["python3", "-c", "import joblib; print(joblib.load('/m/model.joblib')"
                ".get_n_leaves())"], entrypoint="", remove=True, network_mode="none",
        volumes={str(model_dir): {"bind": "/m", "mode": "ro"}})
    assert 2 <= int(leaves) <= 30
    assert any(m.startswith("train_accuracy=") for m in job.logs().message)
    assert set(job.logs().host) == {"algo-1"}


def test_toolkit_images_get_the_code_as_the_v2_sdk_delivers_it(ip, iris):
    job = train(ip, f"--image {TOOLKIT} --input train=data/train --hp max_leaf_nodes=3 --wait",
                SKLEARN_SCRIPT.read_text())
    stored = json.loads((job.directory / "hosts/algo-1/opt/ml/input/config/"
                         "hyperparameters.json").read_text())
    assert stored["sagemaker_program"] == '"train.py"'
    assert stored["sagemaker_submit_directory"] == '"/opt/ml/code"'
    assert stored["max_leaf_nodes"] == "3"
    assert "Invoking script with the following command:" in list(job.logs().message)


TORCH_CELL = r"""
import os, sys, torch, torch.distributed as dist
dist.init_process_group("gloo")
rank = dist.get_rank()
total = torch.tensor([float(rank + 1)])
dist.all_reduce(total)
host = os.environ["SM_CURRENT_HOST"]
sys.stdout.write(f"rank={rank} world={dist.get_world_size()} host={host} sum={total.item()}\n")
open(os.path.join(os.environ["SM_MODEL_DIR"], f"from-{host}.txt"), "w").write(host)
dist.destroy_process_group()
"""


def test_two_hosts_run_torchrun_and_their_ranks_really_communicate(ip):
    job = train(ip, f"--image {TORCH} --instance-count 2 --distributed torchrun "
                    "--processes-per-host 1 --wait", TORCH_CELL)

    assert job.status == "Completed", job.failure_reason
    ranks = sorted(m for m in job.logs().message if m.startswith("rank="))
    assert ranks == ["rank=0 world=2 host=algo-1 sum=3.0", "rank=1 world=2 host=algo-2 sum=3.0"]
    assert set(job.logs().host) == {"algo-1", "algo-2"}
    with tarfile.open(job.model_artifacts) as tar:  # every host's /opt/ml/model, merged
        assert sorted(tar.getnames()) == ["from-algo-1.txt", "from-algo-2.txt"]
    for host in ("algo-1", "algo-2"):
        config = json.loads((job.directory / f"hosts/{host}/opt/ml/input/config/"
                             "resourceconfig.json").read_text())
        assert (config["current_host"], config["hosts"]) == (host, ["algo-1", "algo-2"])


def test_a_failing_host_fails_the_job_with_its_reason_and_stops_the_others(ip):
    cell = ("import os, time\n"
            "if os.environ['SM_CURRENT_HOST'] == 'algo-2':\n"
            "    raise ValueError('bad shard')\n"
            "time.sleep(120)\n")
    began = time.monotonic()
    with pytest.raises(JobFailedError, match=r"ValueError: bad shard \(train.py, line 3\)"):
        train(ip, f"--image {PLAIN} --instance-count 2 --wait", cell)
    assert time.monotonic() - began < 60  # algo-1 was stopped, not waited for
    assert ip.user_ns["job"].failure_reason.endswith("on algo-2")


def test_stop_ends_the_job_as_stopped_and_keeps_what_it_saved(ip):
    cell = ("import os, time\n"
            "open(os.path.join(os.environ['SM_MODEL_DIR'], 'partial.txt'), 'w').write('p')\n"
            "print('saved', flush=True)\n"
            "time.sleep(300)\n")
    job = train(ip, f"--image {PLAIN} --quiet", cell)
    deadline = time.monotonic() + 60
    while "saved" not in list(job.logs().message) and time.monotonic() < deadline:
        time.sleep(0.1)
    job.stop()
    assert job.wait(timeout=60) == "Stopped"
    with tarfile.open(job.model_artifacts) as tar:
        assert tar.getnames() == ["partial.txt"]
