"""How ``mpirun`` starts its daemons on the other hosts of a job, without ssh.

Open MPI reaches a remote host through an "rsh agent", a program called as
``AGENT [OPTIONS] HOST COMMAND...`` that must run COMMAND there and relay its output and
exit status, as ssh does.  V3's MPI driver needs sshd and shared keys in the image; this
needs only Python.  Each worker runs ``mpi_exec.py serve``, a small service on the job's
network; the master's ``mpirun`` is given ``mpi_exec.py`` as its agent.  Every request
carries the job's key (``mpi.key`` in the ``sm_drivers`` channel, new for each job, which
only the job's hosts hold), and a command runs only for a request that has it.  The
service listens on the job's own network (a container's or a training instance's), which
is why it does not bind to 127.0.0.1; it never runs on this machine itself, where a local
job's ranks are all started by mpirun directly.

Frames: one JSON line asks; the answer is frames of a kind byte (``o`` stdout, ``e``
stderr, ``x`` the exit status), a 4-byte length and the bytes.  When the agent goes
away, the command's process group is killed.  Standard library only.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

PORT = 7778  # beside torchrun's 7777
KEY_FILE = Path(__file__).resolve().parent.parent / "mpi.key"
CONNECT_TIMEOUT = 300.0  # seconds the agent keeps trying a host that is still starting
HEADER = struct.Struct("!cI")


def job_key() -> str:
    return KEY_FILE.read_text().strip()


def send_frame(conn: socket.socket, kind: bytes, data: bytes, lock: threading.Lock) -> None:
    with lock:
        conn.sendall(HEADER.pack(kind, len(data)) + data)


def read_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the other side closed the connection")
        data += chunk
    return data


# ---- the service on a worker ---------------------------------------------------------

class Service:
    """Runs the master's commands on this host until the master says the job is done."""

    def __init__(self, key: str, port: int = PORT):
        self.key = key
        self.done = threading.Event()
        self.server = socket.create_server(("", port), reuse_port=False)
        self.server.settimeout(0.5)

    def serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()
        self.server.close()

    def answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(30)
                request = json.loads(conn.makefile("rb").readline() or b"{}")
                conn.settimeout(None)
            except (OSError, ValueError):
                return
            if not hmac.compare_digest(str(request.get("key", "")), self.key):
                return  # not one of the job's hosts: no answer at all
            if request.get("op") == "run":
                self.run(conn, str(request.get("command", "")))
                return
            if request.get("op") == "done":
                self.done.set()
            send_frame(conn, b"x", b"0", threading.Lock())

    def run(self, conn: socket.socket, command: str) -> None:
        process = subprocess.Popen(["/bin/sh", "-c", command], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True)
        lock = threading.Lock()

        def relay(stream, kind: bytes) -> None:  # type: ignore[no-untyped-def]
            for chunk in iter(lambda: stream.read1(65536), b""):
                try:
                    send_frame(conn, kind, chunk, lock)
                except OSError:  # the agent is gone: so is what it started
                    _kill_group(process)
                    return

        relays = [threading.Thread(target=relay, args=(process.stdout, b"o"), daemon=True),
                  threading.Thread(target=relay, args=(process.stderr, b"e"), daemon=True)]
        for thread in relays:
            thread.start()
        watcher = threading.Thread(target=_kill_when_closed, args=(conn, process), daemon=True)
        watcher.start()
        code = process.wait()
        for thread in relays:
            thread.join()
        with contextlib.suppress(OSError):
            send_frame(conn, b"x", str(code).encode(), lock)


def _kill_when_closed(conn: socket.socket, process: subprocess.Popen[bytes]) -> None:
    """The agent never writes after its request: a read that ends means it went away."""
    try:
        while process.poll() is None:
            if not conn.recv(1):
                break
    except OSError:
        pass
    if process.poll() is None:
        _kill_group(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


# ---- the agent and the master's requests ---------------------------------------------

def connect(host: str, timeout: float, port: int = PORT) -> socket.socket:
    """A connection to ``host``'s service, tried until ``timeout`` (it may be starting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection((host, port), timeout=10)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def ask(host: str, op: str, timeout: float = CONNECT_TIMEOUT, command: str = "",
        port: int = PORT, key: str | None = None) -> int:
    """Send one request to ``host``; relay what comes back; its exit status."""
    with connect(host, timeout, port) as conn:
        conn.settimeout(None)
        request = {"key": key or job_key(), "op": op, "command": command}
        conn.sendall(json.dumps(request).encode() + b"\n")
        while True:
            try:
                kind, size = HEADER.unpack(read_exact(conn, HEADER.size))
                data = read_exact(conn, size)
            except ConnectionError:
                return 255  # as ssh says a connection was lost
            if kind == b"x":
                return int(data)
            out = sys.stdout if kind == b"o" else sys.stderr
            out.buffer.write(data)
            out.buffer.flush()


def agent(argv: list[str]) -> int:
    """``mpi_exec.py [OPTIONS] HOST COMMAND...``, as mpirun calls ssh."""
    words = list(argv)
    while words and words[0].startswith("-"):  # ssh's options (-x, ...): nothing to do
        words.pop(0)
    if len(words) < 2:
        sys.stderr.write("usage: mpi_exec.py HOST COMMAND... | mpi_exec.py serve\n")
        return 2
    host, command = words[0], " ".join(words[1:])
    return ask(host, "run", command=command)


def main(argv: list[str]) -> int:
    if argv[1:] == ["serve"]:
        Service(job_key()).serve()
        return 0
    return agent(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
