"""sm_notebook's model server as a real process: SageMaker's /ping and /invocations on
127.0.0.1, a free port said in the ready file, 415 and 500 with the traceback logged, and
a start that fails saying why in one line."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sm_notebook.runtime import model_server

SERVER = Path(model_server.__file__)
SCRIPT = """import json

def model_fn(model_dir):
    return 3

def input_fn(body, content_type):
    if content_type != "application/json":
        raise UnsupportedFormatError(content_type)
    return json.loads(body)

def predict_fn(data, model):
    return [v * model for v in data["x"]]

class UnsupportedFormatError(Exception):
    pass
"""


def start(tmp_path: Path, script: str, *extra: str) -> tuple[subprocess.Popen, dict, Path]:
    path = tmp_path / "train.py"
    path.write_text(script)
    (tmp_path / "model").mkdir(exist_ok=True)
    ready, log = tmp_path / "ready.json", tmp_path / "server.log"
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "--script", str(path), "--model-dir",
         str(tmp_path / "model"), "--ready-file", str(ready), *extra],
        stdout=subprocess.DEVNULL, stderr=log.open("w"))
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert time.monotonic() < deadline and process.poll() in (None, 0, 1)
        time.sleep(0.02)
    return process, json.loads(ready.read_text()), log


def post(port: int, body: bytes, content_type: str = "application/json"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                     headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read(), reply.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers["Content-Type"]


@pytest.fixture
def server(tmp_path):
    process, ready, log = start(tmp_path, SCRIPT)
    yield ready["port"], log
    process.terminate()
    process.wait(timeout=10)


def test_it_answers_ping_and_invocations_on_a_free_local_port(server):
    port, _ = server
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=10) as reply:
        assert reply.status == 200
    assert post(port, b'{"x": [1, 2]}') == (200, b"[3, 6]", "application/json")


def test_only_127_0_0_1_listens(server):
    port, _ = server
    listening = [line.split()[1] for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
                 if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == port]
    assert listening == [f"0100007F:{port:04X}"]  # 127.0.0.1, and nothing else
    assert not any(int(line.split()[1].split(":")[1], 16) == port
                   for line in Path("/proc/net/tcp6").read_text().splitlines()[1:])


def test_a_format_refused_is_415_and_a_handler_bug_500_with_the_traceback_logged(server):
    port, log = server
    assert post(port, b"1,2", "text/csv")[0] == 415
    status, body, _ = post(port, b'{"y": 1}')
    assert (status, body) == (500, b"KeyError: 'x'")
    time.sleep(0.2)
    text = log.read_text()
    assert 'train.py", line 12, in predict_fn' in text and "KeyError: 'x'" in text


@pytest.mark.parametrize(("script", "reason"), [
    ("def model_fn(d):\n    raise RuntimeError('no weights')\n",
     "model_fn failed: RuntimeError: no weights"),
    ("x = 1\n", "train.py: no model_fn, and there is no default loader"),
    ("def transform_fn(m, b, c, a):\n    pass\ndef input_fn(b, c):\n    pass\n",
     "train.py: transform_fn replaces input_fn"),
])
def test_a_start_that_fails_says_why_in_the_ready_file_and_exits(tmp_path, script, reason):
    process, ready, _ = start(tmp_path, script)
    assert process.wait(timeout=10) == 1
    assert ready["error"].startswith(reason)


def test_a_port_in_use_is_said_plainly(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process, ready, _ = start(tmp_path, SCRIPT, "--port", str(port))
        assert process.wait(timeout=10) == 1
    assert ready["error"] == f"port {port} on 127.0.0.1: Address already in use"
