"""Container mode against a bare ``docker run --rm`` of the same script and image.

The job is the AWS-style scikit-learn decision tree on iris (``tests/data/aws_style``, the
shape of AWS's ``scikit_learn_iris.py`` example) on the plain Debian test image.  The bare
run gets its ``/opt/ml`` tree prepared by hand, once, outside the timing; sm_notebook's time
runs from the ``%%sm_train`` call to ``Completed`` with the model packed and the container
removed.  A second pair times a script whose first statement prints: magic call → first
line in the job handle, against ``docker run`` → first line on its stdout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from .common import Result, benchmark_shell, median, spread

IMAGE = "smnb-test/sklearn:1"
TOOLKIT_IMAGE = "smnb-test/toolkit:2"  # the SDK's local mode needs the toolkit's `train`
SDK_PYTHON = os.environ.get("SM_NOTEBOOK_SDK_V2_PYTHON", "/opt/smnb-sdk-v2/bin/python")
SCRIPT = Path(__file__).resolve().parent.parent / "tests" / "data" / "aws_style" / \
    "sklearn_decision_tree.py"
FIRST_LINE = 'print("first line", flush=True)\n'
WALL_RATIO = 1.3
FIRST_LINE_S = 0.4
PHASES = (("launch (spec, checks, files, supervisor start)", "magic", "supervisor"),
          ("supervisor: python and the docker client", "supervisor", "engine"),
          ("container create", "engine", "created"),
          ("attach + start", "created", "started"),
          ("script runs (start → exit)", "started", "exited"),
          ("pack model and output", "exited", "packed"),
          ("remove container (overlaps packing)", "packed", "removed"),
          ("state seen by the job handle", "removed", "seen"))


def _iris(folder: Path) -> None:
    from sklearn.datasets import load_iris

    data = load_iris()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "iris.csv").write_text("".join(
        ",".join([str(label), *map(str, row)]) + "\n"
        for label, row in zip(data.target, data.data, strict=True)))


def _bare_tree(root: Path, script: str, data: Path) -> list[str]:
    """The ``/opt/ml`` tree by hand and the ``docker run`` argv that uses it."""
    for sub in ("input/config", "input/data", "model", "output/data", "code"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "code" / "train.py").write_text(script)
    config = root / "input" / "config"
    config.joinpath("hyperparameters.json").write_text(json.dumps({"max_leaf_nodes": "30"}))
    config.joinpath("inputdataconfig.json").write_text(json.dumps({"train": {}}))
    config.joinpath("resourceconfig.json").write_text(json.dumps(
        {"current_host": "algo-1", "hosts": ["algo-1"]}))
    env = {"SM_MODEL_DIR": "/opt/ml/model", "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
           "SM_CHANNEL_TRAIN": "/opt/ml/input/data/train"}
    argv = ["docker", "run", "--rm", "-v", f"{root}:/opt/ml",
            "-v", f"{data}:/opt/ml/input/data/train:ro", "-w", "/opt/ml/code"]
    for key, value in env.items():
        argv += ["-e", f"{key}={value}"]
    return [*argv, IMAGE, "python3", "train.py", "--max_leaf_nodes", "30"]


def _bare(argv: list[str]) -> tuple[float, float]:
    """Seconds to the first stdout line and to the end of ``docker run``."""
    began = time.perf_counter()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
        proc.stdout.readline()
        first = time.perf_counter() - began
        proc.stdout.read()
        proc.wait()
    if proc.returncode:
        raise RuntimeError(f"docker run failed ({proc.returncode}): {' '.join(argv)}")
    return first, time.perf_counter() - began


def _sdk_v2(code: Path, data: Path, out: Path, repeat: int) -> list[float] | str:
    """Seconds per ``fit()`` of the V2 SDK's local mode, or why it was not measured."""
    if not Path(SDK_PYTHON).is_file() or shutil.which("docker-compose") is None:
        return (f"not measured: no SDK V2 environment at {SDK_PYTHON} (python -m venv ENV && "
                "ENV/bin/pip install 'sagemaker<3'; set SM_NOTEBOOK_SDK_V2_PYTHON=ENV/bin/"
                "python) or no docker-compose (apt-get install docker-compose)")
    runner = Path(__file__).with_name("sdk_v2_local_mode.py")
    done = subprocess.run([SDK_PYTHON, str(runner), TOOLKIT_IMAGE, str(code), str(data),
                           str(out), str(repeat)], capture_output=True, text=True,
                          timeout=120 * (repeat + 1))
    if done.returncode:
        return f"not measured: the SDK run failed: {done.stderr.strip().splitlines()[-1:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])["fit_s"]


def _magic(shell, number: int | str, line: str, cell: str,
           image: str = IMAGE) -> tuple[float, float, dict]:
    """Seconds to the first line in the job handle and to ``Completed``, and the timeline."""
    from IPython.utils.capture import capture_output

    arrived = threading.Event()
    first: list[float] = []
    began = time.perf_counter()
    began_epoch = time.time()
    with capture_output():  # the notes printed at launch
        shell.run_cell_magic("sm_train", f"bench_{number} --mode container --image {image} "
                                         f"--quiet {line}", cell)
    job = shell.user_ns.pop(f"bench_{number}")

    def seen(j) -> None:
        if j.line_count and not first:
            first.append(time.perf_counter() - began)
            arrived.set()

    job.add_listener(seen)
    seen(job)
    if job.wait(120) != "Completed":
        raise RuntimeError(f"job {job.name}: {job.status} {job.failure_reason}")
    total = time.perf_counter() - began
    timeline = {"magic": began_epoch, "seen": began_epoch + total,
                **job.describe().get("timeline", {})}
    return (first[0] if first else total), total, timeline


def run(repeat: int) -> list[Result]:
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        os.environ["SM_NOTEBOOK_JOBS_DIR"] = str(tmp_path / "jobs")
        data = tmp_path / "data" / "train"
        _iris(data)
        os.chdir(tmp_path)
        shell = benchmark_shell()
        script = SCRIPT.read_text()
        bare_job = _bare_tree(tmp_path / "bare-iris", script, data)
        bare_first = _bare_tree(tmp_path / "bare-first", FIRST_LINE, data)
        iris_line = f"--input train={data} --hp max_leaf_nodes=30"
        _bare(bare_job)
        cold = _magic(shell, "cold", iris_line, script)  # first job: image kind, spare
        walls: dict[str, list[float]] = {"bare": [], "magic": []}
        firsts: dict[str, list[float]] = {"bare": [], "magic": []}
        timelines = []
        for number in range(repeat):  # side by side, alternating
            walls["bare"].append(_bare(bare_job)[1])
            _, wall, timeline = _magic(shell, number, iris_line, script)
            walls["magic"].append(wall)
            timelines.append(timeline)
            firsts["bare"].append(_bare(bare_first)[0])
            firsts["magic"].append(_magic(shell, f"first_{number}", "", FIRST_LINE)[0])
        code = tmp_path / "sdk-code"
        code.mkdir()
        (code / "train.py").write_text(script)
        sdk = _sdk_v2(code, data, tmp_path / "sdk-out", min(repeat, 3))
        toolkit = [] if isinstance(sdk, str) else [
            _magic(shell, f"toolkit_{n}", iris_line, script, TOOLKIT_IMAGE)[1]
            for n in range(len(sdk))]
        os.chdir(cwd)
    wall = Result("container mode: sklearn iris job, magic → Completed",
                  median(walls["magic"]) * 1000, "ms", f"≤ {WALL_RATIO:g}× bare", False,
                  "bare docker run --rm", median(walls["bare"]) * 1000)
    wall.passed = wall.ratio <= WALL_RATIO
    wall.notes.append(f"spread: bare {spread([w * 1000 for w in walls['bare']])} ms, "
                      f"sm_notebook {spread([w * 1000 for w in walls['magic']])} ms")
    wall.notes += [f"where the time goes: {name} {phase_ms:.0f} ms"
                   for name, phase_ms in _phases(timelines)]
    wall.notes.append(f"first job of a kernel session (image kind probed, spare supervisor "
                      f"still loading): Completed after {cold[1] * 1000:.0f} ms")
    first = Result("container mode: magic → first line", median(firsts["magic"]) * 1000,
                   "ms", f"≤ {FIRST_LINE_S * 1000:g} ms", False,
                   "docker run → first line", median(firsts["bare"]) * 1000)
    first.passed = first.measured <= FIRST_LINE_S * 1000
    first.notes.append(f"spread: bare {spread([f * 1000 for f in firsts['bare']])} ms, "
                       f"sm_notebook {spread([f * 1000 for f in firsts['magic']])} ms")
    if isinstance(sdk, str):
        wall.notes.append(f"SageMaker SDK V2 local mode: {sdk}")
        return [wall, first]
    versus = Result("container mode vs SDK V2 local mode (toolkit image)",
                    median(toolkit) * 1000, "ms", "ratio reported", True,
                    "SDK V2 fit()", median(sdk) * 1000, informational=True)
    versus.notes.append(f"spread: SDK {spread([t * 1000 for t in sdk])} ms, sm_notebook "
                        f"{spread([t * 1000 for t in toolkit])} ms; both run "
                        f"{TOOLKIT_IMAGE} (toolkit `train`), the SDK through docker-compose")
    return [wall, first, versus]


def _phases(timelines: list[dict[str, float]]) -> list[tuple[str, float]]:
    return [(name, median([(t[end] - t[start]) * 1000 for t in timelines]))
            for name, start, end in PHASES
            if all(start in t and end in t for t in timelines)]
