"""The kernel's side of the Docker Engine: one client per engine address, and a spare
supervisor per address that has already loaded its Docker client, for the next job.

A job's supervisor spends most of its start-up importing the Docker SDK (a quarter of a
second here); a spare does that ahead of time and waits on its stdin for a job directory,
so the containers start that much sooner.  It exits when the kernel does (its stdin
closes).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from ...errors import SmNotebookError


def engine_address() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


clients: dict[str, Any] = {}


def client_for(address: str) -> Any:
    if address not in clients:
        import docker

        try:
            client = docker.from_env(timeout=120)  # negotiates the API version: a round trip
        except Exception as exc:
            raise unreachable(exc) from None
        clients[address] = client
    return clients[address]


def unreachable(exc: Exception) -> SmNotebookError:
    return SmNotebookError(
        f"--mode container: the Docker Engine at {engine_address()} is not reachable "
        f"({type(exc).__name__}); start it (dockerd, or `systemctl start docker`) or set "
        "DOCKER_HOST")


class SparePool:
    """At most one idle spare supervisor per engine address, replaced after each use."""

    REPLACE_AFTER = 1.0  # seconds: not while the job's containers are starting

    def __init__(self) -> None:
        self.spares: dict[str, subprocess.Popen] = {}
        self.lock = threading.Lock()

    def prime(self, address: str) -> None:
        with self.lock:
            spare = self.spares.get(address)
            if spare is None or spare.poll() is not None:
                self.spares[address] = subprocess.Popen(
                    [sys.executable, "-m", "sm_notebook.runtime.container_supervisor",
                     "--spare"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)

    def take(self, address: str, directory: Path) -> subprocess.Popen | None:
        with self.lock:
            spare = self.spares.pop(address, None)
        if spare is None or spare.poll() is not None:
            return None
        try:
            spare.stdin.write(f"{directory}\n".encode())
            spare.stdin.close()
        except OSError:  # it died in the meantime
            return None
        timer = threading.Timer(self.REPLACE_AFTER, self.prime, args=(address,))
        timer.daemon = True
        timer.start()
        return spare


spares = SparePool()
