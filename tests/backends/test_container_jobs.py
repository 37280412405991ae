"""Container mode on a real Docker Engine, with the images tests/images/build.sh makes.

Nothing here is skipped: without an engine or the images these tests fail, as they should.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import ipaddress
import json
import os
import re
import signal
import tarfile
import time
import zipfile
from pathlib import Path

import docker
import pytest
from IPython.core.error import UsageError

from sm_notebook.backends.container.backend import ContainerBackend
from sm_notebook.backends.container.docker_run import docker_run_groups, render_docker_run
from sm_notebook.errors import JobFailedError, SmNotebookError

PLAIN, TOOLKIT, TORCH = "smnb-test/sklearn:1", "smnb-test/toolkit:2", "smnb-test/torch:1"
BYO = "smnb-test/byo:2"  # busybox and its own `train`: docker run IMAGE train
NOT_RUN = "raise SystemExit('the image runs its own train, not this cell')\n"
SKLEARN_SCRIPT = Path(__file__).resolve().parents[1] / "data" / "aws_style" / \
    "sklearn_decision_tree.py"
LABEL = "sm-notebook.job"


@pytest.fixture(autouse=True)
def engine():
    """The engine is up, and every test leaves no container, network or volume behind."""
    client = docker.from_env()
    client.ping()
    volumes = {v.name for v in client.volumes.list()}
    yield client
    leftovers = client.containers.list(all=True, filters={"label": LABEL})
    networks = client.networks.list(filters={"label": LABEL})
    assert (leftovers, networks) == ([], [])
    assert {v.name for v in client.volumes.list()} <= volumes


def train(ip, line: str, cell: str):
    ip.run_cell_magic("sm_train", f"job --mode container {line}", cell)
    return ip.user_ns["job"]


@pytest.mark.parametrize(("image", "style", "kind"), [
    (PLAIN, "v3", "no training toolkit"), (PLAIN, "v2", "no training toolkit"),
    (TOOLKIT, "v2", "training toolkit runs `train`"),
    (TOOLKIT, "v3", "bypassing `train` as V3's ModelTrainer does")])
def test_sklearn_script_mode_job_in_each_kind_of_image(ip, iris, run_dir, capsys, engine, image,
                                                       style, kind):
    job = train(ip, f"--image {image} --input train=data/train --hp max_leaf_nodes=30 "
                f"--hp-style {style} --wait", SKLEARN_SCRIPT.read_text())

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


def test_the_instance_type_sizes_the_containers_like_the_instance(ip):
    cell = ("import os\n"
            "def read(*paths):\n"
            "    return next(open(p).read().split() for p in paths if os.path.exists(p))\n"
            "quota = read('/sys/fs/cgroup/cpu.max', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us')[0]\n"
            "memory = read('/sys/fs/cgroup/memory.max',\n"
            "              '/sys/fs/cgroup/memory/memory.limit_in_bytes')[0]\n"
            "print('cpus', os.environ['SM_NUM_CPUS'], 'quota', quota, 'memory', memory)\n")
    job = train(ip, f"--image {PLAIN} --instance-type ml.m5.large --wait", cell)

    assert job.status == "Completed", job.failure_reason
    cpus = min(2, os.cpu_count() or 1)  # as ml.m5.large has, at most this machine's
    assert f"cpus {cpus} quota {cpus * 100000} memory {8 << 30}" in list(job.logs().message)


def test_a_job_that_runs_out_of_the_instance_memory_fails_as_out_of_memory(ip):
    cell = ("import numpy\n"
            "print('allocating', flush=True)\n"
            "block = numpy.ones(6 << 30, dtype=numpy.uint8)  # 6 GiB on a 4 GiB instance\n"
            "print('never reached')\n")
    with pytest.raises(JobFailedError, match=r"OutOfMemory: algo-1 ran out of memory \(the 4 "
                       r"GiB of ml.t3.medium\) and was killed \(exit code 137\)"):
        train(ip, f"--image {PLAIN} --instance-type ml.t3.medium --wait", cell)
    assert "never reached" not in list(ip.user_ns["job"].logs().message)


def _digest(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _wheel(folder: Path, name: str, module: str) -> Path:
    """A minimal pure-Python wheel (no build tools, no index): ``import {name}`` works."""
    dist = f"{name}-1.0.dist-info"
    files = {f"{name}.py": module,
             f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
             f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n"}
    record = [f"{path},sha256={_digest(text)},{len(text.encode())}"
              for path, text in files.items()]
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    target = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as whl:
        for path, text in files.items():
            whl.writestr(path, text)
    return target


@pytest.mark.parametrize("image", [PLAIN, TOOLKIT])
def test_requirements_txt_is_installed_in_the_container_before_the_script(ip, run_dir, image):
    source = run_dir / "src"
    (source / "wheels").mkdir(parents=True)
    _wheel(source / "wheels", "smnb_greeting", "WORDS = 'installed in the container'\n")
    (source / "requirements.txt").write_text(
        "--no-index\n--find-links /opt/ml/code/wheels\nsmnb_greeting==1.0\n")
    cell = "import smnb_greeting\nprint('greeting:', smnb_greeting.WORDS)\n"
    job = train(ip, f"--image {image} --source-dir src --wait", cell)

    assert job.status == "Completed", job.failure_reason
    assert "greeting: installed in the container" in list(job.logs().message)


def test_a_requirement_that_cannot_be_installed_fails_the_job_before_the_script(ip, run_dir):
    (run_dir / "requirements.txt").write_text("--no-index\nno-such-package-smnb==9.9\n")
    with pytest.raises(JobFailedError, match=r"ClientError: pip install -r requirements.txt "
                       r"failed"):
        train(ip, f"--image {PLAIN} --requirements requirements.txt --wait",
              "print('script ran')\n")
    assert "script ran" not in list(ip.user_ns["job"].logs().message)


def test_a_broken_entry_script_fails_the_job_naming_the_error(ip, run_dir):
    (run_dir / "src").mkdir()
    (run_dir / "src" / "broken.py").write_text("def train(:\n    pass\n")
    with pytest.raises(JobFailedError, match=r"SyntaxError"):
        train(ip, f"--image {PLAIN} --source-dir src --entry-script broken.py --wait",
              "# the entry script comes from src\n")


def test_toolkit_images_get_the_code_as_the_v2_sdk_delivers_it(ip, iris):
    job = train(ip, f"--image {TOOLKIT} --input train=data/train --hp max_leaf_nodes=3 "
                "--hp-style v2 --wait", SKLEARN_SCRIPT.read_text())
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
    with pytest.raises(JobFailedError, match=r"ValueError: bad shard \(train.py, line 4\)"):
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


def _counting_cell(n: int, pause: float) -> str:
    return f"import time\nfor i in range({n}):\n    print('line', i, flush=True)\n" \
           f"    time.sleep({pause})\n"


def test_attach_after_the_handle_is_lost_resumes_the_logs_without_duplicates(ip, engine):
    job = train(ip, f"--image {PLAIN} --quiet", _counting_cell(30, 0.1))
    name = job.name
    deadline = time.monotonic() + 60
    while job.line_count < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    running = engine.containers.list(filters={"label": f"{LABEL}={name}"})
    assert [c.name for c in running] == [f"{name}-algo-1"]  # found by its label
    del ip.user_ns["job"]  # as after a kernel restart: no handle, no job in memory
    ip.magics_manager.registry["SmTrainMagics"].jobs.clear()

    again = ip.run_line_magic("sm_attach", name)

    assert again is not job
    assert again.wait(timeout=60) == "Completed"
    lines = [m for m in again.logs().message if m.startswith("line ")]
    assert lines == [f"line {i}" for i in range(30)]


def test_a_dead_supervisor_fails_the_job_and_its_containers_are_removed(ip, engine):
    job = train(ip, f"--image {PLAIN} --instance-count 2 --quiet", _counting_cell(600, 0.5))
    deadline = time.monotonic() + 60
    while job.line_count < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    state = json.loads((job.directory / "state.json").read_text())
    os.kill(state["supervisor_pid"], signal.SIGKILL)

    assert job.wait(timeout=30) == "Failed"
    assert job.failure_reason.startswith("InternalError: supervisor lost: the job's supervisor "
                                         "process ended")
    assert engine.containers.list(all=True, filters={"label": f"{LABEL}={job.name}"}) == []


def test_files_written_as_root_in_the_container_are_given_to_the_user(ip, monkeypatch):
    monkeypatch.setattr(ContainerBackend, "file_owner", lambda self: "4321:4321")
    cell = ("import os\n"
            "os.makedirs(os.path.join(os.environ['SM_MODEL_DIR'], 'sub'))\n"
            "open(os.path.join(os.environ['SM_MODEL_DIR'], 'sub', 'w.txt'), 'w').write('x')\n")
    job = train(ip, f"--image {PLAIN} --wait", cell)

    assert job.status == "Completed", job.failure_reason
    model = job.directory / "hosts/algo-1/opt/ml/model"
    for path in (model / "sub", model / "sub" / "w.txt"):
        assert (path.stat().st_uid, path.stat().st_gid) == (4321, 4321)


def test_an_engine_that_is_not_running_is_one_line_naming_what_to_do(ip, jobs_dir,
                                                                     monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(SmNotebookError, match=r"^--mode container: the Docker Engine at unix://"
                       r".*no-engine.sock is not reachable .*; start it .* or set DOCKER_HOST$"):
        train(ip, f"--image {PLAIN}", "print(1)\n")
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


def test_a_missing_image_that_cannot_be_pulled_names_the_image(ip, jobs_dir):
    with pytest.raises(Exception, match=r"^--image: smnb-test/absent:1 is not on this machine "
                       r"and could not be pulled"):
        train(ip, "--image smnb-test/absent:1", "print(1)\n")
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


def test_containers_left_by_an_old_job_of_the_same_name_are_a_clear_error(ip, engine, jobs_dir):
    stale = engine.containers.create(PLAIN, ["true"], name="old-run-algo-1")
    try:
        with pytest.raises(SmNotebookError, match=r"container old-run-algo-1 already exists.*"
                           r"docker rm -f old-run-algo-1"):
            ip.run_cell_magic("sm_train", f"job --mode container --image {PLAIN} "
                              "--job-name old-run", "print(1)\n")
        assert not (jobs_dir / "old-run").exists()
    finally:
        stale.remove(force=True)


def test_the_dry_run_prints_the_containers_the_job_then_creates(ip, capsys):
    line = f"--image {PLAIN} --instance-count 2 --instance-type ml.m5.large --hp depth=3"
    ip.run_cell_magic("sm_train", f"--mode container {line} --job-name planned --dry-run",
                      "print(1)\n")
    printed = capsys.readouterr().out
    job = train(ip, f"{line} --job-name planned --wait", "print(1)\n")

    run = json.loads((job.directory / "run.json").read_text())
    for plan in run["containers"].values():
        assert render_docker_run(docker_run_groups(plan, run["network"])) in printed
    assert "image kind plain (detected)" in printed


def test_no_output_is_lost_when_hosts_finish_at_once(ip):
    cell = "import os\nprint('hello from', os.environ['SM_CURRENT_HOST'])\n"
    began = time.monotonic()
    job = train(ip, f"--image {PLAIN} --instance-count 3 --wait", cell)

    assert sorted(m for m in job.logs().message if m.startswith("hello")) == [
        "hello from algo-1", "hello from algo-2", "hello from algo-3"]
    assert time.monotonic() - began < 8  # no stream left waiting for a timeout


def test_an_image_with_its_own_train_runs_as_docker_run_image_train(ip):
    job = train(ip, f"--image {BYO} --hp epochs=2 --wait", NOT_RUN)

    assert job.status == "Completed", job.failure_reason
    messages = list(job.logs().message)
    assert f"train: job {job.name}" in messages
    assert any(m.startswith('train: hyperparameters {"epochs":"2"') for m in messages)
    with tarfile.open(job.model_artifacts) as tar:
        assert tar.extractfile("model.txt").read() == b"trained by algo-1\n"


def test_a_missing_image_is_pulled_with_progress_then_runs(ip, engine, local_registry, capsys):
    image = f"{local_registry}/smnb/byo:pull-test"
    engine.images.get(BYO).tag(image)
    for line in engine.images.push(image, stream=True, decode=True):
        assert "error" not in line, line
    engine.images.remove(image)

    try:
        job = train(ip, f"--image {image} --wait", NOT_RUN)
        shown = capsys.readouterr().out.splitlines()
        assert job.status == "Completed", job.failure_reason
        assert shown[0].startswith(f"pulling {image}: ") and " layers done" in shown[0]
        assert any(re.fullmatch(rf"pulled {re.escape(image)} \((every layer was already "
                                r"here|\d+ layers? downloaded), \d+ s\)", line)
                   for line in shown), shown
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            engine.images.remove(image, force=True)


def test_an_unreachable_registry_is_one_line_naming_the_image(ip, jobs_dir):
    image = "127.0.0.1:1/smnb/nowhere:1"  # nothing listens on port 1
    with pytest.raises(UsageError, match=rf"^--image: {re.escape(image)} is not on this "
                       r"machine and could not be pulled: .*connection refused"):
        train(ip, f"--image {image}", "print(1)\n")
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


def test_an_ecr_image_is_pulled_after_a_login_through_boto3(ip, aws, jobs_dir, monkeypatch):
    from sm_notebook.backends.container import registry_login as registry_auth

    logins = []
    real = registry_auth.pull_credentials
    monkeypatch.setattr(registry_auth, "pull_credentials",
                        lambda image: logins.append(real(image)) or logins[-1])
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/smnb/private:1"
    with pytest.raises(UsageError, match=rf"^--image: {re.escape(image)} is not on this "
                       "machine and could not be pulled"):  # no route to AWS from here
        train(ip, f"--image {image}", "print(1)\n")
    assert [login["username"] for login in logins] == ["AWS"]  # moto's token, decoded
    assert logins[0]["serveraddress"].startswith("https://123456789012.dkr.ecr.us-east-1.")


def test_interrupting_wait_stops_a_container_job_as_docker_run_would(ip, capsys,
                                                                    ctrl_c_once_running):
    with pytest.raises(SmNotebookError, match=r"interrupted; job .* is Stopped"):
        train(ip, f"--image {PLAIN} --wait",
              "import time\nprint('started', flush=True)\ntime.sleep(600)\n")
    assert ip.user_ns["job"].status == "Stopped"
    assert "stopping container job" in capsys.readouterr().err


def test_in_a_real_kernel_the_pull_progress_and_the_job_status_show_under_the_cell(
        engine, local_registry, jobs_dir, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    image = f"{local_registry}/smnb/byo:kernel-test"
    engine.images.get(BYO).tag(image)
    for line in engine.images.push(image, stream=True, decode=True):
        assert "error" not in line, line
    engine.images.remove(image)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%load_ext sm_notebook"),
        nbformat.v4.new_code_cell(f"%%sm_train job --mode container --image {image} --wait\n"
                                  + NOT_RUN),
        nbformat.v4.new_code_cell("print(job.status, job.model_artifacts is not None)")])
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            engine.images.remove(image, force=True)

    shown = [out for out in nb.cells[1].outputs if out.output_type == "display_data"]
    texts = [out.data["text/plain"] for out in shown]
    assert any(re.fullmatch(rf"pulled {re.escape(image)} \((every layer was already here|"
                            r"\d+ layers? downloaded), \d+ s\)", t)
               for t in texts), texts  # the progress line, replaced by its final state
    assert any("· Completed ·" in t for t in texts)
    assert nb.cells[2].outputs[0].text == "Completed True\n"


def test_a_container_job_stopped_the_moment_it_is_launched_ends_stopped(ip):
    job = train(ip, f"--image {PLAIN} --quiet", "import time\ntime.sleep(60)\n")
    job.stop()
    assert job.wait(timeout=120) == "Stopped"
    assert job.failure_reason is None


# ---- multi-host fidelity: names resolve until the job ends; algo-1's copy wins a clash ----

RESOLVE_CELL = """
import os, socket, time
host = os.environ["SM_CURRENT_HOST"]
other = {"algo-1": "algo-2", "algo-2": "algo-1"}[host]
if host == "algo-2":
    time.sleep(3)  # algo-1 exited long ago: its container is gone from the engine's DNS
address = socket.gethostbyname(other)
probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
probe.connect((address, 9))  # sends nothing: only picks the interface's own address
print(f"{host} at {probe.getsockname()[0]} resolves {other} as {address}", flush=True)
"""


def _resolved(job) -> dict[str, tuple[str, str]]:
    """host → (its own address, the address it resolved the other host's name to)."""
    found = (re.fullmatch(r"(algo-\d) at (\S+) resolves algo-\d as (\S+)", m)
             for m in job.logs().message)
    return {m.group(1): (m.group(2), m.group(3)) for m in found if m}


def test_a_host_that_finished_stays_resolvable_by_the_others_until_the_job_ends(ip):
    job = train(ip, f"--image {PLAIN} --instance-count 2 --wait", RESOLVE_CELL)

    assert job.status == "Completed", job.failure_reason
    run = json.loads((job.directory / "run.json").read_text())
    planned = {host: plan["ip"] for host, plan in run["containers"].items()}
    resolved = _resolved(job)
    assert resolved == {"algo-1": (planned["algo-1"], planned["algo-2"]),
                        "algo-2": (planned["algo-2"], planned["algo-1"])}
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network(run["subnet"])
               for a in planned.values())


def test_names_resolve_until_the_job_ends_in_an_image_without_python(ip):
    # busybox's resolver reads /etc/hosts; the image's own `train` cannot be told to wait,
    # so a --command runs in it instead (the same containers, the same network)
    command = ('if [ "$SM_CURRENT_HOST" = algo-2 ]; then sleep 3; other=algo-1; '
               'else other=algo-2; fi; ping -c 1 -W 1 $other 2>&1 | head -n 1 | grep ^PING')
    job = train(ip, f"--image {BYO} --instance-count 2 --command '{command}' --wait", NOT_RUN)

    assert job.status == "Completed", job.failure_reason
    run = json.loads((job.directory / "run.json").read_text())
    ips = {host: plan["ip"] for host, plan in run["containers"].items()}
    logs = job.logs()
    said = {h: m for h, m in zip(logs.host, logs.message, strict=True) if m.startswith("PING")}
    assert said["algo-2"].startswith(f"PING algo-1 ({ips['algo-1']})")
    assert said["algo-1"].startswith(f"PING algo-2 ({ips['algo-2']})")


def test_the_dry_run_shows_each_host_s_fixed_address_and_every_host_s_name(ip, capsys):
    ip.run_cell_magic("sm_train", f"--mode container --image {PLAIN} --instance-count 3 "
                      "--job-name addressed --dry-run", "print(1)\n")
    printed = capsys.readouterr().out
    subnet = re.search(r"on a private network addressed-net \((\S+)\)", printed).group(1)
    addresses = [str(a) for a in list(ipaddress.ip_network(subnet).hosts())[1:4]]
    for host, address in zip(("algo-1", "algo-2", "algo-3"), addresses, strict=True):
        assert f"--ip {address}" in printed
        assert printed.count(f"--add-host {host}:{address}") == 3  # in every container


def test_a_subnet_taken_since_the_job_was_planned_gives_way_to_a_free_one(ip, engine,
                                                                         monkeypatch):
    from sm_notebook.runtime import container_supervisor

    name = f"taken-{os.getpid()}-{time.time_ns() % 10**6}"
    taken = container_supervisor.free_subnet(name, 2, [])
    pool = docker.types.IPAMPool(subnet=taken)
    blocker = engine.networks.create(f"{name}-blocker", ipam=docker.types.IPAMConfig(
        pool_configs=[pool]), labels={"smnb-test": "blocker"})
    # the kernel plans without seeing the blocker, as when another job's network is made
    # between the plan and the supervisor's network
    monkeypatch.setattr(container_supervisor, "used_subnets", lambda api: [])
    try:
        job = train(ip, f"--image {PLAIN} --instance-count 2 --job-name {name} --wait",
                    RESOLVE_CELL)
    finally:
        blocker.remove()

    assert job.status == "Completed", job.failure_reason
    run = json.loads((job.directory / "run.json").read_text())  # what was really created
    assert run["subnet"] != taken
    planned = {host: plan["ip"] for host, plan in run["containers"].items()}
    assert _resolved(job) == {"algo-1": (planned["algo-1"], planned["algo-2"]),
                              "algo-2": (planned["algo-2"], planned["algo-1"])}
    assert all(plan["extra_hosts"] == planned for plan in run["containers"].values())


CLASH_CELL = """
import os
host = os.environ["SM_CURRENT_HOST"]
for folder in (os.environ["SM_MODEL_DIR"], os.environ["SM_OUTPUT_DATA_DIR"]):
    os.makedirs(os.path.join(folder, "shared"), exist_ok=True)  # a folder on both: no clash
    open(os.path.join(folder, "model.pth"), "w").write(host)
    open(os.path.join(folder, "shared", f"{host}.txt"), "w").write(host)
"""


def test_hosts_writing_the_same_file_keep_algo_1s_copy_and_the_log_says_so(ip):
    job = train(ip, f"--image {PLAIN} --instance-count 2 --wait", CLASH_CELL)

    assert job.status == "Completed", job.failure_reason
    for archive in (job.model_artifacts, job.output_artifacts):
        with tarfile.open(archive) as tar:
            assert sorted(tar.getnames()) == ["model.pth", "shared", "shared/algo-1.txt",
                                              "shared/algo-2.txt"]
            assert tar.extractfile("model.pth").read() == b"algo-1"
    notices = [m for m in job.logs().message if "several hosts wrote" in m]
    assert notices == [
        "sm_notebook: several hosts wrote the same file to /opt/ml/model (model.pth); "
        "model.tar.gz keeps algo-1's copy",
        "sm_notebook: several hosts wrote the same file to /opt/ml/output/data (model.pth); "
        "output.tar.gz keeps algo-1's copy"]


def test_an_image_s_own_train_runs_on_every_host_and_algo_1s_model_is_kept(ip):
    job = train(ip, f"--image {BYO} --instance-count 2 --wait", NOT_RUN)

    assert job.status == "Completed", job.failure_reason
    assert sorted(m for m in job.logs().message if m.startswith("train: job")) == [
        f"train: job {job.name}"] * 2  # `docker run IMAGE train` on each host
    with tarfile.open(job.model_artifacts) as tar:
        assert tar.extractfile("model.txt").read() == b"trained by algo-1\n"
    assert ("sm_notebook: several hosts wrote the same file to /opt/ml/model (model.txt); "
            "model.tar.gz keeps algo-1's copy") in list(job.logs().message)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_pack_merges_hosts_keeping_the_first_host_s_file_and_reports_only_file_clashes(
        tmp_path):
    from sm_notebook.runtime.packing import pack

    first = _tree(tmp_path / "algo-1", {"model.pth": "1", "sub/a.txt": "1", "x": "file"})
    second = _tree(tmp_path / "algo-2", {"model.pth": "2", "sub/b.txt": "2", "x/y": "2"})
    third = _tree(tmp_path / "algo-3", {"sub/b.txt": "3", "c.txt": "3"})
    heard = []

    assert pack([first, second, third, tmp_path / "absent"], tmp_path / "m.tar.gz",
                heard.append)

    assert heard == [{"model.pth": first, "x": first, "sub/b.txt": second}]
    with tarfile.open(tmp_path / "m.tar.gz") as tar:
        assert sorted(tar.getnames()) == ["c.txt", "model.pth", "sub", "sub/a.txt",
                                          "sub/b.txt", "x"]
        assert [tar.extractfile(n).read() for n in ("model.pth", "sub/b.txt", "x")] == [
            b"1", b"2", b"file"]  # x/ of algo-2 went with its clash against algo-1's file


def test_the_clash_notice_names_a_few_files_the_count_and_whose_copy_was_kept():
    from sm_notebook.runtime.packing import clash_notice

    many = {f"shard-{i}.pt": "algo-1" for i in range(7)}
    assert clash_notice(many, "/opt/ml/model", "model.tar.gz") == (
        "sm_notebook: several hosts wrote the same 7 files to /opt/ml/model (shard-0.pt, "
        "shard-1.pt, shard-2.pt and 4 more); model.tar.gz keeps algo-1's copies")
    mixed = {"a": "algo-10", "b": "algo-2", "c": "algo-2"}
    assert clash_notice(mixed, "/opt/ml/output/data", "output.tar.gz").endswith(
        "(a, b, c); output.tar.gz keeps the first writer's copy of each (algo-2, algo-10)")
