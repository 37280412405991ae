"""Run one container-mode job, detached from the kernel, on a Docker Engine.

Like the local supervisor (whose state, log and packing it reuses) it survives a kernel
restart.  It creates one container per host (``algo-1`` … ``algo-N``; when there are
several, on a private network of the job's, each at a fixed address listed in every
container's ``/etc/hosts``, so every name resolves until the job ends, as on the service,
even after its host finished), attaches to each before starting it so no output is missed,
streams every host's output into the job's log with its host tag, stops the other hosts
when one fails, stops all of them as the service does (SIGTERM, then SIGKILL after a grace
period), merges the hosts' ``/opt/ml/model`` into one ``model.tar.gz`` (algo-1's copy of a
file several wrote), and removes every container and the network however the job ends,
before the job is reported ended.  Containers and network carry labels, so they can always
be found.  An output stream or wait that the engine breaks off fails the job with the
engine's error (what the container printed next would be lost) and its containers are
stopped and removed, retried while the engine cannot be reached.

Usage: ``python -m sm_notebook.runtime.container_supervisor JOB_DIR``, or ``--spare``: a
process started ahead of time that loads the Docker client (most of its start-up time) and
then waits for one job directory on stdin, so a job's containers start that much sooner.
An empty stdin (the kernel went away) ends it.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .supervisor import RUN_FILE, SUPERVISOR_ERRORS, LineSplitter, Supervisor, run_main

LABEL = "sm-notebook.job"
# Where job networks get their subnets: private, and 172.16.0.0/16 (tried first) is outside
# the pools Docker allocates from by default.
SUBNET_POOL = ipaddress.IPv4Network("172.16.0.0/12")
SUBNET_TRIES = 5
STREAM_END_GRACE = 5.0  # seconds from a host's output ending to its container's exit
REMOVE_RETRY = 60.0  # seconds to keep trying to remove a container the engine lost
_preloaded_client: Any = None  # set by a spare, which loads it before its job arrives


class ContainerSupervisor(Supervisor):
    def __init__(self, job_dir: Path):
        began = time.time()
        super().__init__(job_dir)
        # Where the time goes (epoch seconds), kept in state.json: job.describe()["timeline"].
        self.timeline: dict[str, float] = {"supervisor": began}
        self.client = _preloaded_client or _new_client()
        self.api = self.client.api
        self.ids: dict[str, str] = {}  # host → container id
        self.exit_codes: dict[str, int] = {}
        self.out_of_memory: set[str] = set()
        self.lost: set[str] = set()  # hosts whose wait the engine broke off
        self.first_failure: str | None = None
        self.done = threading.Condition()
        self.cleaner: threading.Thread | None = None
        self.cleaned = threading.Event()
        self.network_created = False

    def started(self) -> bool:
        return bool(self.ids)

    # ---- set-up ---------------------------------------------------------------------------
    def create(self) -> None:
        labels = {LABEL: self.run["job_name"]}
        network = self.run.get("network")  # one host needs none: its name is in /etc/hosts
        if network:
            self.create_network(network, labels)
        for host, plan in self.run["containers"].items():
            host_config = self.api.create_host_config(
                binds=[f"{src}:{dst}:{mode}" for src, dst, mode in plan["mounts"]],
                init=True, mem_limit=plan.get("mem_limit"),
                memswap_limit=plan.get("memswap_limit"), nano_cpus=plan.get("nano_cpus"),
                device_requests=_gpu_requests(plan["gpus"]) if plan.get("gpus") else None,
                shm_size=plan.get("shm_size"), extra_hosts=plan.get("extra_hosts"))
            networking = network and self.api.create_networking_config(
                {network: self.api.create_endpoint_config(aliases=[host],
                                                          ipv4_address=plan.get("ip"))})
            created = self.api.create_container(
                plan["image"], command=plan["command"], entrypoint=plan.get("entrypoint"),
                environment=plan["environment"], hostname=host, name=plan["name"],
                working_dir=plan.get("working_dir"), labels={**labels, "sm-notebook.host": host},
                host_config=host_config, networking_config=networking)
            self.ids[host] = created["Id"]

    def create_network(self, network: str, labels: dict[str, str]) -> None:
        """The job's network, on the subnet in which its plan gives every host a fixed
        address.  A subnet taken since it was planned (another job's network) gives way to
        a free one, recorded in ``run.json``, so the plan stays what was created."""
        import docker

        for attempt in range(SUBNET_TRIES):
            try:
                self.api.create_network(network, driver="bridge", labels=labels,
                                        check_duplicate=True, ipam=_ipam(self.run["subnet"]))
                self.network_created = True
                return
            except docker.errors.APIError as exc:
                if attempt == SUBNET_TRIES - 1 or "overlap" not in str(exc).lower():
                    raise
            taken = [*used_subnets(self.api), ipaddress.IPv4Network(self.run["subnet"])]
            self.readdress(free_subnet(self.run["job_name"], len(self.run["containers"]),
                                       taken))

    def readdress(self, subnet: str) -> None:
        """Move the job's plan to another subnet, in memory and in ``run.json``."""
        self.run["subnet"] = subnet
        assign_addresses(self.run["containers"], subnet)
        tmp = self.job_dir / f"{RUN_FILE}.tmp"
        tmp.write_text(json.dumps(self.run, indent=2))
        os.replace(tmp, self.job_dir / RUN_FILE)

    # ---- running ------------------------------------------------------------------------
    def attach(self, host: str) -> Any:
        """Attach to a created container (before it starts, as ``docker run`` does, so no
        output is missed): the request is sent now, the frames are read later."""
        return self.api.attach(self.ids[host], stdout=True, stderr=True, stream=True,
                               logs=True, demux=True)

    def stream(self, host: str, frames: Any) -> None:
        """One host's output, stdout and stderr demultiplexed, into the job's log.  An
        output that breaks off (an error, or its end while the container runs on) fails
        the job: what the container prints next would be lost."""
        splitters = {"stdout": LineSplitter(), "stderr": LineSplitter()}
        broken = None
        try:
            for out, err in frames:
                self.mark("first output")
                for stream, chunk in (("stdout", out), ("stderr", err)):
                    if chunk:
                        self.write_lines(splitters[stream].feed(chunk), stream, host)
        except Exception as exc:
            broken = engine_error(exc)
        for stream, splitter in splitters.items():
            self.write_lines(splitter.flush(), stream, host)
        if broken is None and not self.exited(host, STREAM_END_GRACE):
            broken = "it ended while the container was still running"
        if broken is not None:
            self.fail(f"InternalError: the Docker Engine's output stream of {host} broke "
                      f"({broken}); the job was stopped")

    def exited(self, host: str, timeout: float) -> bool:
        """Whether ``host``'s container exits within ``timeout`` seconds (or has)."""
        with self.done:
            return self.done.wait_for(lambda: host in self.exit_codes or host in self.lost,
                                      timeout)

    def watch(self, host: str) -> None:
        """Wait for one host; the first failure stops the others, as on the service."""
        try:
            code = int(self.api.wait(self.ids[host])["StatusCode"])
        except Exception as exc:  # the engine went away: the container's end is unknown
            with self.done:
                self.lost.add(host)
                self.done.notify_all()
            self.fail(f"InternalError: lost the Docker Engine while waiting for {host} "
                      f"({engine_error(exc)}); the job was stopped")
            return
        with contextlib.suppress(Exception):
            if self.api.inspect_container(self.ids[host])["State"].get("OOMKilled"):
                code = 137
                self.out_of_memory.add(host)
        with self.done:
            self.exit_codes[host] = code
            failed_first = code != 0 and self.first_failure is None
            if failed_first:
                self.first_failure = host
            self.done.notify_all()
        if failed_first and self.stop_reason is None and len(self.ids) > 1:
            self.write_lines([f"sm_notebook: {host} exited with code {code}; stopping the "
                              "other hosts"], "stderr", host)
            self.stop_all(grace=0)

    def failure_reason(self, code: int, host: str) -> str:
        if host not in self.out_of_memory:
            return super().failure_reason(code, host)
        plan = self.run["containers"][host]
        limit = plan.get("mem_limit")
        what = (f"the {limit / (1 << 30):g} GiB of {plan.get('instance_type')}" if limit
                else "the memory of this machine")
        return (f"OutOfMemory: {host} ran out of memory ({what}) and was killed (exit code "
                "137); use a larger instance type or less memory")

    def stop_all(self, grace: float | None = None) -> None:
        grace = float(self.run.get("stop_grace", 30)) if grace is None else grace
        threads = [threading.Thread(target=self._stop_one, args=(cid, grace), daemon=True)
                   for host, cid in self.ids.items() if host not in self.exit_codes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _stop_one(self, container_id: str, grace: float) -> None:
        with contextlib.suppress(Exception):  # already gone, or already stopped
            self.api.stop(container_id, timeout=int(grace))

    def _terminate(self) -> None:
        self.stop_all()

    def main(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.request_stop("stop"))
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.hold_reserve()
        try:
            self.mark("engine")
            self.create()
            self.mark("created")
            attached = {host: self.attach(host) for host in self.ids}
            for cid in self.ids.values():
                self.api.start(cid)
            self.mark("started")
            self.transition("InProgress", "Training", "Training in progress",
                            containers=self.ids, **self.identities())
            self.stop_if_asked()
            readers = [threading.Thread(target=self.stream, args=(h, attached[h]), daemon=True)
                       for h in self.ids]
            watchers = [threading.Thread(target=self.watch, args=(h,), daemon=True)
                        for h in self.ids]
            for t in readers + watchers:
                t.start()
            timer = None
            if self.run.get("max_run"):
                timer = threading.Timer(float(self.run["max_run"]), self.request_stop,
                                        args=("max_run",))
                timer.daemon = True
                timer.start()
            for t in watchers:
                t.join()
            if timer:
                timer.cancel()
            self.mark("exited")
            for t in readers:
                t.join(timeout=10)
            # Containers go while the model is packed; the job ends once both are done.
            self.cleaner = threading.Thread(target=self.clean_up, daemon=True)
            self.cleaner.start()
            failed = self.first_failure
            code = self.exit_codes[failed] if failed else 0
            self.finish(code, failed)
        finally:
            self.clean_up()
        return 0

    # ---- clean-up -------------------------------------------------------------------------
    def give_files_to_user(self) -> None:
        """Files the containers wrote as root become the user's (readable, deletable)
        before the job is reported finished; a throwaway container does it, as root."""
        owner = self.run.get("chown")
        if not owner or not self.ids:
            return
        with contextlib.suppress(Exception):
            image = next(iter(self.run["containers"].values()))["image"]
            mounts = {root: {"bind": f"/hosts/{host}", "mode": "rw"}
                      for host, root in self.run["layout_roots"].items()}
            run_throwaway(self.client, image, ["chown", "-R", owner, "/hosts"], volumes=mounts,
                          labels={LABEL: self.run["job_name"]})

    def remove(self, host: str, container_id: str) -> None:
        """Remove a container, retrying while the engine cannot be reached; one that
        cannot be removed is named in the log, with the command that removes it."""
        import docker

        deadline = time.monotonic() + REMOVE_RETRY
        while True:
            try:
                self.api.remove_container(container_id, force=True, v=True)
                return
            except docker.errors.NotFound:
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    name = self.run["containers"][host]["name"]
                    self.write_lines([f"sm_notebook: could not remove the container {name} "
                                      f"({engine_error(exc)}); remove it with "
                                      f"`docker rm -f {name}`"], "stderr", host)
                    return
                time.sleep(1.0)

    def mark(self, event: str) -> None:
        self.timeline.setdefault(event, time.time())

    def settle(self) -> None:
        self.mark("packed")
        if self.cleaner is not None:
            self.cleaner.join()
        else:
            self.clean_up()
        self.mark("removed")
        self.state["timeline"] = self.timeline

    def clean_up(self) -> None:
        """Give the files to the user, then remove every container and the network,
        however the job ended (once)."""
        if self.cleaned.is_set():
            return
        self.give_files_to_user()
        for host, cid in self.ids.items():
            self.remove(host, cid)
        if self.network_created:
            with contextlib.suppress(Exception):
                self.api.remove_network(self.run["network"])
        self.cleaned.set()


def engine_error(exc: Exception) -> str:
    """The engine's error as one short phrase: its type and first line."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def free_subnet(seed: str, hosts: int, taken: list[ipaddress.IPv4Network]) -> str:
    """A subnet of ``SUBNET_POOL`` with room for ``hosts`` that overlaps none of ``taken``.

    Where the search starts depends on ``seed`` (the job's name), so jobs launched together
    rarely pick the same one, and a dry run picks what its job then gets."""
    prefix = min(24, 32 - (hosts + 2).bit_length())  # the hosts, gateway, network, broadcast
    slots = list(SUBNET_POOL.subnets(new_prefix=prefix))
    in_first_16 = max(1, len(slots) // 16)  # start in 172.16.0.0/16, the pool's first /16
    start = int(hashlib.sha256(seed.encode()).hexdigest(), 16) % in_first_16
    for subnet in slots[start:] + slots[:start]:
        if not any(subnet.overlaps(t) for t in taken):
            return str(subnet)
    raise RuntimeError(f"no free subnet in {SUBNET_POOL} for a network of {hosts} hosts")


def used_subnets(api: Any | None) -> list[ipaddress.IPv4Network]:
    """The IPv4 subnets of the engine's networks (``api`` None: none known) and of this
    machine's routes: a job's network overlapping either would hide addresses from it."""
    subnets = [*_route_subnets()]
    for network in api.networks() if api is not None else []:
        for config in (network.get("IPAM") or {}).get("Config") or []:
            with contextlib.suppress(ValueError, KeyError):
                subnets.append(ipaddress.IPv4Network(config["Subnet"], strict=False))
    return subnets


def _route_subnets() -> list[ipaddress.IPv4Network]:
    """This machine's routed IPv4 subnets (Linux's ``/proc/net/route``; none elsewhere),
    the default route left out."""
    subnets = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/route").read_text().splitlines()[1:]:
            fields = line.split()
            with contextlib.suppress(ValueError, IndexError):
                destination, mask = (_le_address(fields[i]) for i in (1, 7))
                if int(mask):
                    subnets.append(ipaddress.IPv4Network(f"{destination}/{mask}",
                                                         strict=False))
    return subnets


def _le_address(field: str) -> ipaddress.IPv4Address:
    """An address as ``/proc/net/route`` writes it: hex, in the machine's byte order."""
    return ipaddress.IPv4Address(int(field, 16).to_bytes(4, sys.byteorder))


def assign_addresses(plans: dict[str, dict[str, Any]], subnet: str) -> None:
    """Give every host a fixed address in ``subnet`` (the first one is the gateway's) and
    every container every host's name in its ``/etc/hosts``: the engine's DNS answers only
    for running containers, and on SageMaker a host that finished stays resolvable until
    the job ends."""
    network = ipaddress.IPv4Network(subnet)
    addresses = {host: str(network[i + 2]) for i, host in enumerate(plans)}
    for host, plan in plans.items():
        plan["ip"], plan["extra_hosts"] = addresses[host], dict(addresses)


def _ipam(subnet: str) -> Any:
    import docker

    network = ipaddress.IPv4Network(subnet)
    pool = docker.types.IPAMPool(subnet=subnet, gateway=str(network[1]))
    return docker.types.IPAMConfig(pool_configs=[pool])


def _gpu_requests(count: int) -> list[Any]:
    import docker

    return [docker.types.DeviceRequest(count=count, capabilities=[["gpu"]])]


def run_throwaway(client: Any, image: str, command: list[str], **options: Any) -> bytes:
    """Run a short command in a container of ``image``, return its output, and remove it
    with any anonymous volume the image declares (``remove=True`` would leave those)."""
    container = client.containers.run(image, command, entrypoint="", detach=True,
                                      network_mode="none", **options)
    try:
        container.wait()
        return container.logs()
    finally:
        container.remove(force=True, v=True)


def _new_client() -> Any:
    import docker

    return docker.from_env(timeout=120)


def spare(argv0: str) -> int:
    """Load the client, wait for a job directory on stdin, then supervise that job."""
    global _preloaded_client
    _preloaded_client = _new_client()  # imports docker and negotiates the API version
    job_dir = sys.stdin.readline().strip()
    if not job_dir:
        return 0
    os.dup2(os.open(Path(job_dir) / SUPERVISOR_ERRORS, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                    0o600), 2)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    return run_main(ContainerSupervisor, [argv0, job_dir])


def main(argv: list[str]) -> int:
    if argv[1:] == ["--spare"]:
        return spare(argv[0])
    return run_main(ContainerSupervisor, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
