"""Distributed drivers (``--distributed PATH.py`` and ``--distributed mpi``) in local and
container mode, on this machine's processes and a real Docker Engine: the driver runs
instead of the entry script on every host, laid out as V3 lays it out.

Nothing here is skipped: without an engine, the images or Open MPI these tests fail.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from sm_notebook.errors import JobFailedError
from tests.backends.test_container_jobs import PLAIN, engine  # noqa: F401  (a fixture)

V3_EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "aws_examples" / "v3_custom_driver"
MPI_IMAGE = "smnb-test/mpi:1"

#: a driver in V3's style that records what it sees, then runs the entry script
DRIVER = r"""
import json, os, subprocess, sys
seen = {key: os.environ[key] for key in (
    "SM_DISTRIBUTED_DRIVER_DIR", "SM_DISTRIBUTED_CONFIG", "SM_ENTRY_SCRIPT", "SM_SOURCE_DIR",
    "SM_HPS", "SM_HP_EPOCHS", "SM_HOSTS", "SM_HOST_COUNT", "SM_CURRENT_HOST_RANK",
    "SM_MASTER_ADDR", "SM_MASTER_PORT", "SM_NUM_GPUS", "SM_CHANNELS")}
seen["cwd"] = os.getcwd()
seen["helper"] = open(os.path.join(os.environ["SM_DISTRIBUTED_DRIVER_DIR"], "helper.txt")).read()
print("driver saw " + json.dumps(seen, sort_keys=True), flush=True)
config = json.loads(os.environ["SM_DISTRIBUTED_CONFIG"])
for rank in range(config["process_count_per_node"]):
    subprocess.run([sys.executable, os.environ["SM_ENTRY_SCRIPT"], str(rank)], check=True)
"""

ENTRY = """
import json, os, sys
print(f"entry rank {sys.argv[1]} on {os.environ['SM_CURRENT_HOST']} epochs "
      f"{json.loads(os.environ['SM_HPS'])['epochs']}")
open(os.path.join(os.environ['SM_MODEL_DIR'], f"from-{os.environ['SM_CURRENT_HOST']}-"
                  f"{sys.argv[1]}.txt"), "w").write("ok")
"""


@pytest.fixture
def driver_dir(run_dir: Path) -> Path:
    folder = run_dir / "custom_drivers"
    folder.mkdir()
    (folder / "driver.py").write_text(DRIVER)
    (folder / "helper.txt").write_text("shipped with the driver")
    return folder


def seen_by_driver(job) -> list[dict]:
    return [json.loads(m.removeprefix("driver saw ")) for m in job.logs().message
            if m.startswith("driver saw ")]


def test_a_local_driver_runs_instead_of_the_entry_script_laid_out_in_the_job_folder(
        ip, driver_dir):
    ip.run_cell_magic("sm_train", "job --distributed ./custom_drivers/driver.py "
                      "--distribution-config '{\"process_count_per_node\": 2}' --hp epochs=3 "
                      "--wait", ENTRY)
    job = ip.user_ns["job"]
    assert job.status == "Completed", job.failure_reason

    [seen] = seen_by_driver(job)
    data = job.directory / "opt" / "ml" / "input" / "data"
    assert seen == {
        "SM_DISTRIBUTED_DRIVER_DIR": str(data / "sm_drivers" / "distributed_drivers"),
        "SM_DISTRIBUTED_CONFIG": '{"process_count_per_node": 2}',
        "SM_ENTRY_SCRIPT": "train.py", "SM_SOURCE_DIR": str(data / "code"),
        "SM_HPS": '{"epochs": 3}', "SM_HP_EPOCHS": "3", "SM_HOSTS": '["algo-1"]',
        "SM_HOST_COUNT": "1", "SM_CURRENT_HOST_RANK": "0", "SM_MASTER_ADDR": "algo-1",
        "SM_MASTER_PORT": "7777", "SM_NUM_GPUS": "0", "SM_CHANNELS": '["code","sm_drivers"]',
        "cwd": str(data / "code"), "helper": "shipped with the driver"}
    assert json.loads((data / "sm_drivers" / "distributed.json").read_text()) == {
        "process_count_per_node": 2}
    entries = sorted(m for m in job.logs().message if m.startswith("entry rank"))
    assert entries == ["entry rank 0 on algo-1 epochs 3", "entry rank 1 on algo-1 epochs 3"]
    with tarfile.open(job.model_artifacts) as tar:
        assert sorted(tar.getnames()) == ["from-algo-1-0.txt", "from-algo-1-1.txt"]


def test_a_failing_driver_fails_the_job_with_its_error(ip, driver_dir):
    (driver_dir / "driver.py").write_text("raise RuntimeError('driver broke')\n")
    with pytest.raises(Exception, match="driver broke"):
        ip.run_cell_magic("sm_train", "job --distributed custom_drivers/driver.py --wait", ENTRY)
    assert ip.user_ns["job"].status == "Failed"


def test_local_mpi_runs_the_entry_script_as_ranks_of_mpirun(ip):
    cell = ("import os, sys\n"  # one write per line: unbuffered print() makes two
            "sys.stdout.write(f\"rank {os.environ['OMPI_COMM_WORLD_RANK']} of "
            "{os.environ['OMPI_COMM_WORLD_SIZE']} lr {os.environ['SM_HP_LR']}\\n\")\n")
    ip.run_cell_magic("sm_train", "job --distributed mpi --processes-per-host 2 --hp lr=0.5 "
                      "--wait", cell)
    job = ip.user_ns["job"]
    assert job.status == "Completed", job.failure_reason
    ranks = sorted(m for m in job.logs().message if "rank" in m and "lr 0.5" in m)
    assert ranks == ["[1,0]<stdout>:rank 0 of 2 lr 0.5", "[1,1]<stdout>:rank 1 of 2 lr 0.5"]


def test_the_v3_example_driver_runs_unmodified_on_two_container_hosts(ip, run_dir):
    shutil.copytree(V3_EXAMPLE, run_dir / "example")
    ip.run_line_magic("sm_train", f"job --mode container --image {PLAIN} --instance-count 2 "
                      "--source-dir example/scripts --entry-script entry_script.py "
                      "--distributed example/custom_drivers/driver.py "
                      "--distribution-config '{\"process_count_per_node\": 2}' --hp epochs=2 "
                      "--wait")
    job = ip.user_ns["job"]
    assert job.status == "Completed", job.failure_reason

    logs = job.logs()
    for host in ("algo-1", "algo-2"):
        said = list(logs[logs.host == host].message)
        assert said[0] == "Running custom driver script"  # the driver, then the entry script
        assert said.index("Epoch: 1") < said.index("Finished running custom driver script")
    with tarfile.open(job.model_artifacts) as tar:
        results = json.load(tar.extractfile("results.json"))
    assert results == {"status": "success", "epochs_completed": 2}
    assert "several hosts wrote the same file to /opt/ml/model (results.json)" in " ".join(
        logs.message)  # both hosts ran it, and said so


MPI_CELL = """
import os, socket, sys
from mpi4py import MPI

world = MPI.COMM_WORLD
total = world.allreduce(world.Get_rank(), op=MPI.SUM)
sys.stdout.write(f"rank {world.Get_rank()} of {world.Get_size()} on {socket.gethostname()} "
                 f"sum {total} host {os.environ['SM_CURRENT_HOST']}\\n")
"""


def test_mpi_runs_ranks_on_two_container_hosts_that_really_communicate(ip):
    ip.run_cell_magic("sm_train", f"job --mode container --image {MPI_IMAGE} --instance-count 2 "
                      "--distributed mpi --processes-per-host 2 --wait", MPI_CELL)
    job = ip.user_ns["job"]
    assert job.status == "Completed", job.failure_reason

    ranks = sorted(m.split(":", 1)[1] for m in job.logs().message if "sum" in m)
    assert ranks == [f"rank {r} of 4 on {host} sum 6 host {host}" for r, host in
                     enumerate(["algo-1", "algo-1", "algo-2", "algo-2"])]


@pytest.mark.parametrize(("line", "message"), [
    ("--distributed ./nowhere/driver.py",
     "--distributed: ./nowhere/driver.py does not exist (expected torchrun, mpi, or the path "
     "of a driver's .py file such as ./drivers/driver.py)"),
    ("--distributed ./custom_drivers/helper.txt",
     "--distributed: './custom_drivers/helper.txt' is neither a built-in launcher nor a .py "
     "file (expected torchrun, mpi, or the path of a driver's .py file such as "
     "./drivers/driver.py)"),
    ("--distributed mpi --distribution-config '{process_count_per_node: 2}'",
     "--distribution-config: invalid JSON at column 2: Expecting property name enclosed in "
     "double quotes (expected a JSON object such as '{\"process_count_per_node\": 2}', or a "
     "$dict, with --distributed)"),
    ("--distributed mpi --distribution-config '[2]'",
     "--distribution-config: [2] is a JSON list, not an object (expected a JSON object such "
     "as '{\"process_count_per_node\": 2}', or a $dict, with --distributed)"),
], ids=["missing", "not-python", "not-json", "not-an-object"])
def test_bad_driver_input_is_one_line_and_nothing_is_created(ip, driver_dir, jobs_dir, line,
                                                             message):
    with pytest.raises(UsageError) as caught:
        ip.run_cell_magic("sm_train", f"job {line}", ENTRY)
    assert str(caught.value) == message
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


def test_a_failing_mpi_rank_fails_the_job_with_its_own_error_and_line(ip):
    cell = MPI_CELL + "if world.Get_rank() == 2:\n    raise ValueError('rank 2 broke')\n"
    with pytest.raises(JobFailedError, match=r"ValueError: rank 2 broke \(train.py, line 11\)"):
        ip.run_cell_magic("sm_train", f"job --mode container --image {MPI_IMAGE} "
                          "--instance-count 2 --distributed mpi --processes-per-host 2 --wait",
                          cell)
    assert ip.user_ns["job"].status == "Failed"
