"""Serving (issue 14): ``job.deploy()`` → the first prediction, and the request latency.

A small scikit-learn model (logistic regression on iris, saved with joblib to
``SM_MODEL_DIR``; ``model_fn`` loads it, the default ``predict_fn`` calls
``model.predict``) is trained once as a local job and once as a container job (the image's
scikit-learn is not the kernel's, and a pickle is read by the version that wrote it).  Each
figure is timed from calling ``job.deploy()`` until ``predictor.predict()`` returns; the
endpoint is deleted after each repeat, outside the timing.  The floors:

- local mode: a fresh ``python`` (this interpreter) that imports the script, calls
  ``model_fn`` and predicts once, timed until it prints the prediction;
- container mode: a bare ``docker run -d`` of the same image running the command
  sm_notebook runs (``container.container_plan``: its model server, mounted read-only) on
  the model folder laid out by hand once, outside the timing, polled until ``/ping``
  answers, then one ``POST /invocations``;
- the V2 SDK's local-mode ``Model(...).deploy(instance_type="local")`` on an image with a
  ``serve`` of its own (``sdk_v2_local_serving.py``, run by the SDK's interpreter), against
  sm_notebook's container ``deploy()`` on the same image, when the SDK and docker-compose
  are here.

The latency is of 1,000 ``predictor.predict()`` calls on a local endpoint, each followed by
the same request as a raw ``urllib`` ``POST /invocations`` (the baseline: the predictor's
own cost is the difference).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from .bench_container import SDK_PYTHON
from .common import Result, benchmark_shell, median, scratch_dir, spread

IMAGE = "smnb-test/sklearn:1"  # Debian's python3 and scikit-learn, no serving stack
SERVE_IMAGE = "smnb-test/serving:1"  # the same with a `serve` of its own, as V2 needs
RUNTIME = Path(__file__).resolve().parent.parent / "sm_notebook" / "runtime"
LOCAL_RATIO = 1.5
CONTAINER_RATIO = 1.3
TARGET_P50_MS = 5.0
REQUESTS = 1_000
WARMUP_REQUESTS = 50
POLL_S = 0.02
BARE_LABEL = "sm-notebook.benchmark=serving"  # the bare containers, removed in any case
SDK_LABEL = "sm-notebook.benchmark=sdk-v2-serving"  # sdk_v2_local_serving.py's, likewise
SAMPLE = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
BODY = json.dumps(SAMPLE).encode()
SCRIPT = '''import os

import joblib


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


if __name__ == "__main__":
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(features, labels)
    joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
'''
FLOOR = """import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("train", sys.argv[1])
script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(script)
model = script.model_fn(sys.argv[2])
print(json.dumps(model.predict(json.loads(sys.argv[3])).tolist()), flush=True)
"""
_SERVED_MS = re.compile(r"POST /invocations 200 \d+ bytes ([0-9.]+) ms")


def _train(shell, name: str, line: str = "") -> Any:
    from IPython.utils.capture import capture_output

    with capture_output():
        shell.run_cell_magic("sm_train", f"bench_job --job-name {name} --wait --quiet {line}",
                             SCRIPT)
    job = shell.user_ns.pop("bench_job")
    if job.status != "Completed":
        raise RuntimeError(f"job {job.name}: {job.status} {job.failure_reason}")
    return job


def _model_folder(job: Any, code: Path, folder: Path) -> Path:
    """The job's model extracted by hand, its code under ``code/``, as endpoints have it."""
    with tarfile.open(job.model_tarball()) as tar:
        tar.extractall(folder, filter="data")
    shutil.copytree(code, folder / "code")
    return folder


def _post(url: str, body: bytes = BODY) -> Any:
    request = urllib.request.Request(f"{url}/invocations", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.loads(reply.read())


def _deploy(job: Any, name: str, **options: Any) -> tuple[float, Any]:
    """Seconds from ``job.deploy()`` until the first ``predict()`` returns, and the reply."""
    began = time.perf_counter()
    predictor = job.deploy(name=name, **options)
    try:
        reply = predictor.predict(SAMPLE)
        return time.perf_counter() - began, reply
    finally:
        predictor.delete()


def _floor(script: Path, model: Path) -> tuple[float, Any]:
    """A fresh python: import the script, ``model_fn``, one prediction."""
    argv = [sys.executable, "-c", FLOOR, str(script), str(model), json.dumps(SAMPLE)]
    began = time.perf_counter()
    with subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=script.parent) as proc:
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - began
        proc.wait()
    if proc.returncode:
        raise RuntimeError(f"the floor's python failed ({proc.returncode})")
    return elapsed, json.loads(line)


def _bare_container(model: Path) -> tuple[float, Any]:
    """``docker run -d`` of sm_notebook's server command → ``/ping`` answers → one
    prediction; the container is removed after, outside the timing."""
    argv = ["docker", "run", "-d", "--label", BARE_LABEL, "-p", "127.0.0.1::8080",
            "-v", f"{model}:/opt/ml/model:ro", "-v", f"{RUNTIME}:/opt/sm_notebook:ro", IMAGE,
            "python3", "/opt/sm_notebook/model_server.py", "--script",
            "/opt/ml/model/code/train.py", "--model-dir", "/opt/ml/model",
            "--host", "0.0.0.0", "--port", "8080"]
    began = time.perf_counter()
    started = subprocess.run(argv, capture_output=True, text=True)
    if started.returncode:
        raise RuntimeError(f"docker run failed: {started.stderr.strip()}")
    cid = started.stdout.strip()
    try:
        port = subprocess.run(["docker", "port", cid, "8080/tcp"], capture_output=True,
                              text=True, check=True).stdout.splitlines()[0].rsplit(":", 1)[1]
        url = f"http://127.0.0.1:{port}"
        _wait_ping(url, cid)
        reply = _post(url)
        return time.perf_counter() - began, reply
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", cid], capture_output=True)


def _wait_ping(url: str, cid: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(POLL_S)
    logs = subprocess.run(["docker", "logs", "--tail", "5", cid], capture_output=True,
                          text=True)
    raise RuntimeError(f"bare container: no /ping within {timeout:g} s: "
                       f"{(logs.stdout + logs.stderr).strip()}")


def _remove_leftovers() -> None:
    """Containers a failed repeat left (only those this benchmark labelled)."""
    for label in (BARE_LABEL, SDK_LABEL):
        listed = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={label}"],
                                capture_output=True, text=True).stdout.split()
        if listed:
            subprocess.run(["docker", "rm", "-f", "-v", *listed], capture_output=True)


def _latencies(job: Any) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds of ``predict()`` and of a raw POST, interleaved, and of the handlers
    as the server logs them."""
    predictor = job.deploy(name="bench-latency")
    try:
        for _ in range(WARMUP_REQUESTS):
            predictor.predict(SAMPLE)
            _post(predictor.url)
        ours, raw = [], []
        for _ in range(REQUESTS):
            began = time.perf_counter()
            predictor.predict(SAMPLE)
            ours.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            _post(predictor.url)
            raw.append((time.perf_counter() - began) * 1000)
        served = [float(m.group(1)) for line in predictor.logs()["message"]
                  if (m := _SERVED_MS.search(line))][-2 * REQUESTS:]
    finally:
        predictor.delete()
    return ours, raw, served


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def _sdk_v2(model: Path, code: Path, repeat: int) -> dict[str, Any] | str:
    """Seconds per V2 local-mode ``deploy()`` → first ``predict()`` (``deploy_s``, and
    ``no_wait_s`` for one ``deploy(wait=False)``), or why it was not measured."""
    if not Path(SDK_PYTHON).is_file():
        return (f"not measured: no SDK V2 environment at {SDK_PYTHON} (python -m venv ENV && "
                "ENV/bin/pip install 'sagemaker<3'; set SM_NOTEBOOK_SDK_V2_PYTHON=ENV/bin/"
                "python)")
    if not _compose():
        return ("not measured: the SDK's local mode serves through docker-compose, and "
                "there is none (apt-get install docker-compose)")
    if subprocess.run(["docker", "image", "inspect", SERVE_IMAGE],
                      capture_output=True).returncode:
        return (f"not measured: V2 runs `serve` in the image, and {SERVE_IMAGE} (the test "
                "image with one) is not built (tests/images/build.sh)")
    runner = Path(__file__).with_name("sdk_v2_local_serving.py")
    try:
        done = subprocess.run([SDK_PYTHON, str(runner), SERVE_IMAGE, str(model), str(code),
                               json.dumps(SAMPLE), str(repeat)], capture_output=True,
                              text=True, timeout=180 * (repeat + 1))
    except subprocess.TimeoutExpired:
        return "not measured: the SDK's deploy() did not finish in time"
    said = _last_json(done.stdout)
    if done.returncode or "deploy_s" not in said:
        why = said.get("error") or (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"not measured: the SDK run failed ({done.returncode}): {why}"
    return said


def _compose() -> bool:
    """Whether the SDK will find a docker compose (its own test: ``docker compose version``
    saying v2, else ``docker-compose`` on the PATH)."""
    said = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    return "v2" in said.stdout or shutil.which("docker-compose") is not None


def _last_json(out: str) -> dict[str, Any]:
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {}


def run(repeat: int) -> list[Result]:
    try:
        with scratch_dir() as tmp_path:
            return _measure(benchmark_shell(), tmp_path, repeat)
    finally:
        _remove_leftovers()


def _measure(shell, tmp: Path, repeat: int) -> list[Result]:
    local_job = _train(shell, "bench-serve-local")
    box_job = _train(shell, "bench-serve-box", f"--mode container --image {IMAGE}")
    local_model = _model_folder(local_job, local_job.directory / "opt/ml/code",
                                tmp / "floor-model")
    box_code = box_job.directory / "hosts/algo-1/opt/ml/code"
    box_model = _model_folder(box_job, box_code, tmp / "bare-model")
    floor_script = local_model / "code" / "train.py"
    _floor(floor_script, local_model), _deploy(local_job, "bench-local-warm")  # file cache
    cold = _deploy(box_job, "bench-box-cold", mode="container", image=IMAGE)  # kind probed
    _bare_container(box_model)
    times: dict[str, list[float]] = {"floor": [], "local": [], "bare": [], "box": []}
    replies = set()
    for number in range(repeat):  # side by side, alternating
        for key, (elapsed, reply) in (
                ("floor", _floor(floor_script, local_model)),
                ("local", _deploy(local_job, f"bench-local-{number}")),
                ("bare", _bare_container(box_model)),
                ("box", _deploy(box_job, f"bench-box-{number}", mode="container",
                                image=IMAGE))):
            times[key].append(elapsed * 1000)
            replies.add(json.dumps(reply))
    if len(replies) != 1:
        raise RuntimeError(f"the predictions differ between the ways of serving: {replies}")
    ours, raw, served = _latencies(local_job)
    sdk = _sdk_v2(box_job.model_tarball(), box_code, min(repeat, 2))  # ≥ 30 s each
    serve_times = [] if isinstance(sdk, str) else [
        _deploy(box_job, f"bench-serve-{n}", mode="container", image=SERVE_IMAGE)[0]
        for n in range(min(repeat, 3) + 1)][1:]  # the first probes the image: dropped
    return _results(times, cold[0], ours, raw, served, sdk, serve_times)


def _results(times: dict[str, list[float]], cold: float, ours: list[float],
             raw: list[float], served: list[float], sdk: dict[str, Any] | str,
             serve_times: list[float]) -> list[Result]:
    local = Result("local mode: deploy() → first prediction (sklearn)",
                   median(times["local"]), "ms", f"≤ {LOCAL_RATIO:g}× floor", False,
                   "python: import, model_fn, predict", median(times["floor"]))
    local.passed = local.ratio <= LOCAL_RATIO
    local.notes.append(f"spread: floor {spread(times['floor'])} ms, deploy() "
                       f"{spread(times['local'])} ms")
    box = Result("container mode: deploy() → first prediction (sklearn)",
                 median(times["box"]), "ms", f"≤ {CONTAINER_RATIO:g}× bare", False,
                 "bare docker run → /ping + predict", median(times["bare"]))
    box.passed = box.ratio <= CONTAINER_RATIO
    box.notes.append(f"spread: bare {spread(times['bare'])} ms, deploy() "
                     f"{spread(times['box'])} ms")
    box.notes.append(f"first container deploy() of a kernel session (image probed for a "
                     f"`serve`): first prediction after {cold * 1000:.0f} ms")
    p50 = Result(f"local mode: sklearn predict() latency p50 ({REQUESTS:,} requests)",
                 median(ours), "ms", f"≤ {TARGET_P50_MS:g} ms", False,
                 "urllib POST /invocations", median(raw))
    p50.passed = p50.measured <= TARGET_P50_MS
    tail = Result(f"local mode: sklearn predict() latency p99 ({REQUESTS:,} requests)",
                  p99(ours), "ms", "reported", True, "urllib POST /invocations", p99(raw),
                  informational=True)
    p50.notes.append(f"p50 {median(ours):.2f} ms, p99 {p99(ours):.2f} ms through "
                     f"predictor.predict(); raw urllib POST p50 {median(raw):.2f} ms, p99 "
                     f"{p99(raw):.2f} ms (interleaved, {len(SAMPLE)} rows a request)")
    if served:
        p50.notes.append(f"of which the handlers (input_fn, predict, output_fn, in the "
                         f"server's log): p50 {median(served):.2f} ms")
    rows = [local, box, p50, tail]
    if isinstance(sdk, str):
        box.notes.append(f"SageMaker SDK V2 local deploy(): {sdk}")
        return rows
    v2 = [t * 1000 for t in sdk["deploy_s"]]
    versus = Result("container deploy() vs SDK V2 local deploy() (serve image)",
                    median(serve_times) * 1000, "ms", "ratio reported", True,
                    "SDK V2 deploy()", median(v2), informational=True)
    versus.notes.append(f"spread: SDK {spread(v2)} ms, sm_notebook "
                        f"{spread([t * 1000 for t in serve_times])} ms; both run "
                        f"{SERVE_IMAGE}'s `serve` to the first prediction, the SDK "
                        f"({sdk.get('version')}) through docker-compose")
    versus.notes.append(f"V2's deploy(wait=False): {sdk['no_wait_s'] * 1000:.0f} ms (its "
                        "default wait=True sleeps wait_for_endpoint's 30 s poll before the "
                        "first look, in local mode too; it polls /ping every 5 s)")
    return [local, box, versus, p50, tail]
