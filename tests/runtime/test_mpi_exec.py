"""The launch service mpirun reaches the other hosts through (``runtime/mpi_exec.py``),
run for real on this machine: a command runs for a request holding the job's key, its
output and exit status come back, a request without the key gets nothing, and a command
whose agent went away is killed."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sm_notebook.backends.supervised import alive
from sm_notebook.runtime import mpi_exec

KEY = "k" * 64


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def service():
    port = free_port()
    running = mpi_exec.Service(KEY, port)
    thread = threading.Thread(target=running.serve, daemon=True)
    thread.start()
    yield port
    running.done.set()
    thread.join(timeout=5)


def test_a_command_runs_with_its_output_and_exit_status_relayed(service, capfd):
    code = mpi_exec.ask("127.0.0.1", "run", timeout=5, port=service, key=KEY,
                        command="echo out; echo err >&2; exit 3")
    assert code == 3
    assert capfd.readouterr() == ("out\n", "err\n")


def test_a_request_without_the_jobs_key_runs_nothing(service, tmp_path):
    marker = tmp_path / "ran"
    code = mpi_exec.ask("127.0.0.1", "run", timeout=5, port=service, key="wrong",
                        command=f"touch {marker}")
    assert code == 255 and not marker.exists()  # the connection is closed, unanswered


def test_done_ends_the_service(service):
    assert mpi_exec.ask("127.0.0.1", "ping", timeout=5, port=service, key=KEY) == 0
    assert mpi_exec.ask("127.0.0.1", "done", timeout=5, port=service, key=KEY) == 0
    time.sleep(1)
    with pytest.raises(OSError):
        mpi_exec.ask("127.0.0.1", "ping", timeout=0.5, port=service, key=KEY)


def test_a_command_whose_agent_went_away_is_killed(service, tmp_path):
    pid_file = tmp_path / "pid"
    code = (f"import sys; sys.path.insert(0, {str(Path(mpi_exec.__file__).parent)!r}); "
            f"import mpi_exec; mpi_exec.ask('127.0.0.1', 'run', timeout=5, port={service}, "
            f"key={KEY!r}, command='echo $$ > {pid_file}; exec sleep 300')")
    agent = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pid = int(pid_file.read_text())
    agent.kill()
    agent.wait()
    deadline = time.monotonic() + 10
    while alive(pid):
        assert time.monotonic() < deadline, "the command outlived its agent"
        time.sleep(0.05)


def test_the_agent_takes_what_mpirun_passes_as_ssh_takes_it(monkeypatch):
    asked = {}
    monkeypatch.setattr(mpi_exec, "ask", lambda host, op, command="", **_: asked.update(
        host=host, op=op, command=command) or 0)
    assert mpi_exec.agent(["-x", "algo-2", "PATH=/x", ";", "orted", "-mca", "a", "b"]) == 0
    assert asked == {"host": "algo-2", "op": "run", "command": "PATH=/x ; orted -mca a b"}
    assert mpi_exec.agent(["algo-2"]) == 2
