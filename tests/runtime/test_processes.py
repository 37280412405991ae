"""Processes told apart by identity, on real processes: a PID alone names whoever has the
number now, so nothing is signalled unless its identity is the one recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from sm_notebook.runtime import processes


@pytest.fixture
def sleeper():
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield process
    process.kill()
    process.wait()


def other_identity(pid: int) -> str:
    """What the same PID's identity would read had another process been given it."""
    boot, start = processes.identity(pid).rsplit(":", 1)
    return f"{boot}:{int(start) + 1}"


def test_an_identity_is_the_boot_and_the_start_time_and_names_one_process(sleeper):
    ident = processes.identity(sleeper.pid)
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    start = Path(f"/proc/{sleeper.pid}/stat").read_text().split()[21]  # field 22 ("sleep")
    assert ident == f"{boot}:{start}"
    assert processes.identity(os.getpid()) != ident
    assert processes.running(sleeper.pid, ident)


def test_a_process_that_ended_has_no_identity_and_does_not_run(sleeper):
    ident = processes.identity(sleeper.pid)
    sleeper.kill()
    time.sleep(0.1)
    assert not processes.running(sleeper.pid, ident)  # a zombie has ended
    sleeper.wait()
    assert processes.identity(sleeper.pid) is None
    assert not processes.running(sleeper.pid, ident)


@pytest.mark.parametrize("signal_it", [processes.signal_process, processes.signal_group])
def test_a_pid_whose_identity_differs_or_is_unknown_is_never_signalled(sleeper, signal_it):
    for recorded in (other_identity(sleeper.pid), None):
        assert signal_it(sleeper.pid, recorded, signal.SIGTERM) is False
    time.sleep(0.1)
    assert sleeper.poll() is None

    assert signal_it(sleeper.pid, processes.identity(sleeper.pid), signal.SIGTERM) is True
    assert sleeper.wait(timeout=10) == -signal.SIGTERM
