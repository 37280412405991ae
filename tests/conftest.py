"""Shared fixtures: a real IPython shell with the extension loaded, isolated job folders."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def jobs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Jobs go under a fresh folder; the working directory is a fresh folder too."""
    path = tmp_path / "jobs"
    monkeypatch.setenv("SM_NOTEBOOK_JOBS_DIR", str(path))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return path


@pytest.fixture(scope="session")
def _shell():
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.run_line_magic("load_ext", "sm_notebook")
    return shell


@pytest.fixture
def ip(_shell, jobs_dir: Path):
    """The session's real ``InteractiveShell`` with sm_notebook loaded and a clean namespace."""
    before = set(_shell.user_ns)
    magics = _shell.magics_manager.registry["SmTrainMagics"]
    magics.jobs.clear()
    yield _shell
    for name in set(_shell.user_ns) - before:
        del _shell.user_ns[name]
    for job in list(magics.jobs.values()):
        if not job.done:
            job.stop()
            job.wait(timeout=60)


@pytest.fixture
def ctrl_c_once_running(ip):
    """Ctrl-C, as a user presses it: once a job of this test has printed its first line
    (so the magic is in its ``--wait`` loop), SIGINT raises KeyboardInterrupt in the main
    thread.  Python's own SIGINT handler is put in place first: another library of the
    session (a browser driver, say) may have taken SIGINT over."""
    import _thread
    import signal
    import threading

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    magics = ip.magics_manager.registry["SmTrainMagics"]
    finished = threading.Event()

    def press() -> None:
        deadline = time.monotonic() + 120
        while not finished.is_set() and time.monotonic() < deadline:
            if any(job.line_count for job in list(magics.jobs.values())):
                time.sleep(0.3)
                _thread.interrupt_main()
                return
            time.sleep(0.05)

    presser = threading.Thread(target=press, daemon=True)
    presser.start()
    yield
    finished.set()
    presser.join(timeout=5)
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def run_dir(jobs_dir: Path) -> Path:
    """The working directory a test's magics resolve relative paths against."""
    return Path(os.getcwd())


@pytest.fixture
def iris(run_dir: Path) -> Path:
    """The iris data set as AWS's examples lay it out: a CSV, the label first, in
    ``data/train`` of the test's working directory."""
    from sklearn.datasets import load_iris

    folder = run_dir / "data" / "train"
    folder.mkdir(parents=True)
    data = load_iris()
    (folder / "iris.csv").write_text("".join(
        ",".join([str(label), *map(str, row)]) + "\n"
        for label, row in zip(data.target, data.data, strict=True)))
    return folder


@pytest.fixture(scope="session")
def moto_endpoint():
    """moto's AWS API server in this process, reached over HTTP by plain boto3."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Dummy credentials and every AWS call going to the moto server."""
    for key, value in {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    return moto_endpoint


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def local_registry(tmp_path_factory: pytest.TempPathFactory):
    """A Docker registry on loopback (Debian's docker-registry); the engine pulls from
    127.0.0.1 over plain HTTP without configuration."""
    root = tmp_path_factory.mktemp("registry")
    port = _free_port()
    config = root / "config.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                      f"    rootdirectory: {root / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\n")
    with open(root / "registry.log", "wb") as log:
        server = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log,
                                  stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert server.poll() is None and time.monotonic() < deadline, \
            (root / "registry.log").read_text()
        time.sleep(0.1)
    yield f"localhost:{port}"
    server.terminate()
    server.wait(10)
