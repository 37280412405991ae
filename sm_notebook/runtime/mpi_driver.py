"""sm_notebook's MPI driver (``--distributed mpi``): ``mpirun`` across the job's hosts.

It runs on every host instead of the entry script, as V3's MPI driver does.  The workers
answer the master's launch requests (``mpi_exec.py``, in place of V3's sshd) until it
says the job is done; the master waits for them, runs ``mpirun`` over all the hosts with
``process_count_per_node`` ranks each (default: a rank per GPU, else one) and ends the
job with its exit status.  The config is V3's ``MPI``: ``process_count_per_node`` and
``mpi_additional_options`` (more ``mpirun`` arguments).  Standard library only.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

import mpi_exec

WAIT_FOR_WORKERS = 300.0  # seconds, as V3's driver waits


def processes_per_host(config: dict[str, object]) -> int:
    """``process_count_per_node``, else a rank per GPU (or Neuron core), else one."""
    count = config.get("process_count_per_node")
    if isinstance(count, int) and count > 0:
        return count
    return int(os.environ.get("SM_NUM_GPUS") or 0) or int(
        os.environ.get("SM_NUM_NEURONS") or 0) or 1


def entry_command() -> list[str]:
    """The entry script with the hyperparameters as arguments (``SM_USER_ARGS``)."""
    entry = os.environ["SM_ENTRY_SCRIPT"]
    args = json.loads(os.environ.get("SM_USER_ARGS") or "[]")
    if entry.endswith(".py"):
        return [sys.executable, entry, *args]
    if entry.endswith(".sh"):
        return ["bash", entry, *args]
    return [f"./{entry}", *args]


def mpirun_command(hosts: list[str], per_host: int, options: list[str]) -> list[str]:
    """``mpirun`` over ``hosts``: one host runs here; several are reached through
    ``mpi_exec.py`` on the job's network interface."""
    command = ["mpirun", "-np", str(per_host * len(hosts)), "--allow-run-as-root",
               "--tag-output", "--mca", "pml", "ob1", "--mca", "btl", "self,vader,tcp"]
    if len(hosts) == 1:
        command += ["--oversubscribe"]  # a process job: the ranks share this machine
    else:
        interface = os.environ.get("SM_NETWORK_INTERFACE_NAME", "eth0")
        agent = f"{sys.executable} {Path(mpi_exec.__file__).resolve()}"
        command += ["--host", ",".join(f"{host}:{per_host}" for host in hosts),
                    "--mca", "plm_rsh_agent", agent, "--mca", "plm_rsh_no_tree_spawn", "1",
                    "--mca", "btl_tcp_if_include", interface,
                    "--mca", "oob_tcp_if_include", interface]
    return [*command, "-x", "PYTHONUNBUFFERED", *options, *entry_command()]


def run_master(hosts: list[str], master: str, config: dict[str, object]) -> int:
    workers = [host for host in hosts if host != master]
    for worker in workers:
        try:
            mpi_exec.ask(worker, "ping", timeout=WAIT_FOR_WORKERS)
        except OSError as exc:
            print(f"sm_notebook mpi: {worker} did not answer within {WAIT_FOR_WORKERS:.0f} s "
                  f"({exc})", file=sys.stderr, flush=True)
            return 1
    options = [str(o) for o in config.get("mpi_additional_options") or []]  # type: ignore[union-attr]
    command = mpirun_command(hosts, processes_per_host(config), options)
    print(f"sm_notebook mpi: {shlex.join(command)}", flush=True)
    try:
        return subprocess.call(command)
    finally:
        for worker in workers:  # their drivers end, and with them the job
            with contextlib.suppress(OSError):
                mpi_exec.ask(worker, "done", timeout=10)


def main() -> int:
    config = json.loads(os.environ.get("SM_DISTRIBUTED_CONFIG") or "{}")
    hosts = json.loads(os.environ["SM_HOSTS"])
    master = os.environ.get("SM_MASTER_ADDR") or hosts[0]
    if os.environ["SM_CURRENT_HOST"] != master:
        mpi_exec.Service(mpi_exec.job_key()).serve()
        return 0
    return run_master(hosts, master, config)


if __name__ == "__main__":
    sys.exit(main())
