"""Container mode: the cell runs in Docker containers with SageMaker's ``/opt/ml`` contract.

Each host (``algo-1`` … ``algo-N``) gets its own ``/opt/ml`` tree in the job's directory,
bind-mounted at ``/opt/ml``, with the channels mounted read-only under
``/opt/ml/input/data``.  Images with AWS's training toolkit run ``train`` and find the code
through ``sagemaker_program`` / ``sagemaker_submit_directory``, as the V2 SDK delivers it;
plain images run the script with the full ``SM_*`` environment, through sm_notebook's
launcher (mounted read-only) when a ``requirements.txt`` must be installed first.  A
detached supervisor (``runtime/container_supervisor.py``) drives the engine; following the
job afterwards (state, log, stop, attach) is the local backend's, unchanged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ... import contract, sourcedir
from ...catalog import images, instances
from ...errors import SmNotebookError, SpecError
from ...jobdir import write_json
from ...plans import runs_image_train, sagemaker_hyperparameters
from ...spec import TrainingSpec, no_code_error, resolve_path
from ..aws import configured_region
from ..base import JobRef
from ..local import LocalBackend, _gpu_count
from ..s3_inputs import as_planned, planned_downloads
from .engine import client_for, clients, engine_address, spares, unreachable

LAUNCHER = Path(__file__).resolve().parents[2] / "runtime" / "launcher.py"
LAUNCHER_IN_CONTAINER = "/opt/sm_notebook/launcher.py"
LABEL = "sm-notebook.job"


class ContainerBackend(LocalBackend):
    """Runs jobs in local Docker containers; see the module docstring."""

    mode = "container"

    def __init__(self, stop_grace: float = 30.0, kinds_cache: Path | None = None):
        super().__init__(stop_grace)
        self.kinds_cache = kinds_cache
        self._images: dict[str, Any] = {}  # name → image, looked up once per launch
        self._kinds: dict[str, str] = {}
        self._host_gpus: int | None = None

    # ---- the engine -----------------------------------------------------------------------
    @property
    def client(self) -> Any:
        """One client per engine address for the kernel's life (connecting costs ~20 ms)."""
        return client_for(engine_address())

    def check_engine(self) -> None:
        """The engine answers now (it may have stopped since the client was made)."""
        try:
            self.client.ping()
        except SmNotebookError:
            raise
        except Exception as exc:
            clients.pop(engine_address(), None)
            raise unreachable(exc) from None

    def preflight(self, spec: TrainingSpec, base: Path) -> list[str]:
        if spec.image is None:
            raise SpecError("--image", "container mode needs an image",
                            "--image NAME[:TAG] (an AWS framework image or any image with "
                            "python3), or %config SmTrainMagics.default_image")
        alias, spec = spec.image, with_resolved_image(spec)
        self.warm_up()
        self.check_engine()
        self.ensure_image(spec.image)
        kind = self.image_kind(spec)
        if not spec.has_code and kind != "own":
            raise no_code_error()
        how = _how_it_runs(spec, kind) + (f" (as --image-kind {kind} says; detection "
                                          "is skipped)" if spec.image_kind else "")
        sizing = self.sizing(spec).note
        resolved = [f"--image {alias} is {spec.image}"] if alias != spec.image else []
        return [*resolved, f"image {spec.image}: {how}", *([sizing] if sizing else [])]

    def warm_up(self) -> None:
        """Start a spare supervisor now, so it has loaded its Docker client by the time
        the job is handed to it (see ``runtime/container_supervisor.py``)."""
        spares.prime(engine_address())

    def start_supervisor(self, directory: Path, supervisor: list[str]) -> subprocess.Popen:
        spare = spares.take(engine_address(), directory)
        return spare or super().start_supervisor(directory, supervisor)

    def ensure_image(self, image: str) -> None:
        """The image is on this machine: pulled (with progress, and an ECR login when the
        image lives in ECR) when it is not."""
        import docker

        try:
            self._images[image] = self.client.images.get(image)
            return
        except docker.errors.ImageNotFound:
            pass
        from .pulling import PullProgress
        from .registry_login import pull_credentials

        auth = pull_credentials(image)
        progress, began = PullProgress(image), time.monotonic()
        try:
            for event in self.client.api.pull(image, stream=True, decode=True,
                                              auth_config=auth):
                progress.feed(event)
                if progress.error:
                    break
                self.on_progress(progress.text())
        except docker.errors.APIError as exc:
            progress.error = str(exc.explanation or exc)
        if progress.error:
            self.on_progress(f"could not pull {image}", final=True)
            raise SpecError("--image", f"{image} is not on this machine and could not be "
                            f"pulled: {progress.error}",
                            "an image that exists locally (docker image ls) or in a "
                            "registry this machine can reach") from None
        self._images[image] = self.client.images.get(image)
        self.on_progress(f"pulled {image} ({progress.summary()}, "
                         f"{time.monotonic() - began:.0f} s)", final=True)

    def image_kind(self, spec: TrainingSpec, pull: bool = True) -> str | None:
        """``toolkit`` when the image has AWS's training toolkit (``train`` on its PATH),
        found by a throwaway container; None for an image not here when ``pull`` is false
        (a dry run pulls nothing)."""
        if spec.image_kind:
            return spec.image_kind
        if spec.image in self._kinds:
            return self._kinds[spec.image]
        import docker

        try:
            image = self._images.get(spec.image) or self.client.images.get(spec.image)
        except docker.errors.ImageNotFound:
            if pull:
                raise
            return None
        cache = _read_cache(self.kinds_cache)
        if image.id in cache:
            self._kinds[spec.image] = cache[image.id]
            return cache[image.id]
        env = {e.split("=", 1)[0] for e in image.attrs["Config"].get("Env") or []}
        if env & {"SAGEMAKER_TRAINING_MODULE", "SAGEMAKER_PROGRAM"}:
            kind = "toolkit"
        else:
            from ...runtime.container_supervisor import run_throwaway

            found = run_throwaway(self.client, spec.image, ["sh", "-c", _KIND_PROBE],
                                  labels={LABEL: "probe"})
            kind = found.decode(errors="replace").strip() or "plain"
        cache[image.id] = kind
        _write_cache(self.kinds_cache, cache)
        self._kinds[spec.image] = kind
        return kind

    # ---- launching --------------------------------------------------------------------------
    def sizing(self, spec: TrainingSpec) -> Sizing:
        if self._host_gpus is None:  # asked once per launch, not once per host
            self._host_gpus = _gpu_count()
        return Sizing.of(spec.effective_instance_type, os.cpu_count() or 1, self._host_gpus)

    def host_run(self, spec: TrainingSpec, name: str, host: str) -> contract.ScriptRun:
        cluster = contract.Cluster(spec.effective_instance_type, spec.instance_count)
        sizing = self.sizing(spec)
        return contract.ScriptRun(
            job_name=name, cluster=cluster, current_host=host, entry_point=spec.entry_script,
            hyperparameters=spec.hyperparameters, channels=spec.channel_names,
            num_cpus=sizing.cpus, num_gpus=sizing.gpus, region=spec.region,
            processes_per_host=spec.launched_processes,
            hp_style=spec.hp_style, shell_command=spec.command)

    def container_plan(self, spec: TrainingSpec, name: str, host: str, root: Path,
                       base: Path, kind: str) -> dict[str, Any]:
        run = self.host_run(spec, name, host)
        mounts = [[str(root), "/opt/ml", "rw"]]
        mounts += [[str(resolve_path(base, ch.source)), f"/opt/ml/input/data/{ch.name}", "ro"]
                   for ch in spec.channels]
        if runs_image_train(spec, kind):
            command, entrypoint = ["train"], None
            environment = {"TRAINING_JOB_NAME": name, **_region(spec)}
        else:
            command, entrypoint = run.command("python3"), ""
            environment = {**run.environment(), "PYTHONUNBUFFERED": "1"}
            if sourcedir.ships_requirements(spec, base):  # installed first, by the launcher
                command = ["python3", LAUNCHER_IN_CONTAINER, "--", *command]
                mounts.append([str(LAUNCHER), LAUNCHER_IN_CONTAINER, "ro"])
        sizing = self.sizing(spec)
        return {"name": f"{name}-{host}", "host": host, "image": spec.image, "command": command,
                "entrypoint": entrypoint, "environment": {**environment, **spec.environment},
                "mounts": mounts, "working_dir": "/opt/ml/code", "gpus": sizing.gpu_request,
                "shm_size": "1g", "mem_limit": sizing.memory, "memswap_limit": sizing.memory,
                "nano_cpus": sizing.nano_cpus, "instance_type": spec.effective_instance_type}

    def file_owner(self) -> str | None:
        """``uid:gid`` that gets the files containers write as root (None when we are root)."""
        return None if os.getuid() == 0 else f"{os.getuid()}:{os.getgid()}"

    def check_names_free(self, name: str, hosts: list[str]) -> None:
        """Containers or a network left under this job's names (an older job, another tool)."""
        wanted = {f"{name}-{host}" for host in hosts}
        for container in self.client.containers.list(all=True, filters={"name": name}):
            if container.name in wanted:
                raise SmNotebookError(
                    f"job {name}: a container {container.name} already exists (left by an "
                    f"older job?); remove it with `docker rm -f {container.name}` or choose "
                    "another --job-name")
        if any(n.name == f"{name}-net" for n in self.client.networks.list(names=[f"{name}-net"])):
            raise SmNotebookError(
                f"job {name}: a network {name}-net already exists; remove it with "
                f"`docker network rm {name}-net` or choose another --job-name")

    def submit(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> JobRef:
        spec = self.stage_inputs(with_resolved_image(spec), directory)
        kind = self.image_kind(spec)
        if spec.job_name:  # generated names are unique to the millisecond
            self.check_names_free(name, contract.host_names(spec.instance_count))
        roots, plans, notes = {}, {}, []
        for host in contract.host_names(spec.instance_count):
            run = self.host_run(spec, name, host)
            root = directory / "hosts" / host / "opt" / "ml"
            layout = contract.Layout(root)
            for d in layout.directories():
                Path(d).mkdir(parents=True, exist_ok=True)
            for ch in spec.channels:
                Path(layout.channel_dir(ch.name)).mkdir(parents=True, exist_ok=True)
            notes = sourcedir.lay_out(spec, base, Path(layout.code_dir))
            contract.write_config_files(run, Path(layout.config_dir))
            if runs_image_train(spec, kind):  # the code reaches `train` as V2 delivers it
                stored = sagemaker_hyperparameters(spec, name, "/opt/ml/code", spec.region)
                (Path(layout.config_dir) / "hyperparameters.json").write_text(
                    json.dumps(stored, indent=2))
            roots[host] = str(root)
            plans[host] = self.container_plan(spec, name, host, root, base, kind)
        output_dir = spec.output and str(resolve_path(base, spec.output.removeprefix("file://")))
        network, subnet = self.address(name, plans)
        write_json(directory / "run.json", {
            "job_name": name, "entry_point": spec.entry_script, "image_kind": kind,
            "layout_roots": roots, "containers": plans, "network": network, "subnet": subnet,
            "artifacts_dir": str(directory / "artifacts"), "max_run": spec.max_run,
            "stop_grace": self.stop_grace, "copy_artifacts_to": output_dir,
            "chown": self.file_owner(),
        })
        return self.launch(directory, ["-m", "sm_notebook.runtime.container_supervisor"],
                           "Starting the containers", notes)

    def address(self, name: str, plans: dict[str, dict[str, Any]]) -> tuple[str | None,
                                                                           str | None]:
        """The job's network and subnet, each host's fixed address in the plans (one host
        needs none): the subnet is one the engine's networks leave free, chosen from the
        job's name, so a dry run shows what its job then gets."""
        if len(plans) < 2:
            return None, None
        from ...runtime.container_supervisor import assign_addresses, free_subnet, used_subnets

        try:
            taken = used_subnets(self.client.api)
        except Exception:  # no engine (a dry run): this machine's routes alone
            taken = used_subnets(None)
        subnet = free_subnet(name, len(plans), taken)
        assign_addresses(plans, subnet)
        return f"{name}-net", subnet

    def _kill_orphans(self, ref: JobRef, state: dict[str, Any]) -> None:
        """A dead supervisor's containers and network, found by their labels."""
        with contextlib.suppress(Exception):
            labelled = {"label": f"{LABEL}={ref.name}"}
            for container in self.client.containers.list(all=True, filters=labelled):
                container.remove(force=True, v=True)
            for network in self.client.networks.list(filters=labelled):
                network.remove()

    def plan(self, spec: TrainingSpec, name: str, directory: Path, base: Path) -> str:
        """``--dry-run``: the containers ``submit`` would create, as ``docker run`` lines."""
        spec = with_resolved_image(spec)
        from ...plans import docker_run_groups, render_docker_run

        try:
            kind, how = self.image_kind(spec, pull=False), "detected"
        except SmNotebookError as exc:  # no engine: still show the plan
            kind, how = "toolkit", f"assumed: {exc}; --image-kind plain for other images"
        if kind is None:
            kind, how = "toolkit", ("assumed: the image is not on this machine; --image-kind "
                                    "plain for images without the toolkit")
        if spec.image_kind:
            how = "from --image-kind"
        planned = as_planned(spec, directory)
        plans = {host: self.container_plan(planned, name, host,
                                           directory / "hosts" / host / "opt" / "ml", base, kind)
                 for host in contract.host_names(spec.instance_count)}
        network, subnet = self.address(name, plans)
        lines = [f"container job {name}: {spec.instance_count} host(s)"
                 + (f" on a private network {network} ({subnet})" if network else "")
                 + f"; image kind {kind} ({how})",
                 f"  job directory  {directory}"]
        sizing = self.sizing(spec).note
        if sizing:
            lines.append(f"  resources      {sizing}")
        lines += planned_downloads(spec, directory)
        lines += [render_docker_run(docker_run_groups(plan, network)) for plan in plans.values()]
        return "\n".join(lines)


@dataclass(frozen=True)
class Sizing:
    """What each container of a job gets: the instance type's memory and vCPUs (at most this
    machine's), so memory errors show here before they cost anything; ``local_cpu`` and
    ``local_gpu`` get the whole machine, ``local_gpu`` every GPU."""

    cpus: int
    gpus: int  # what SM_NUM_GPUS says
    gpu_request: int | None  # GPUs asked of the engine; -1: all (docker's --gpus all)
    memory: int | None  # bytes; None: no limit
    nano_cpus: int | None
    note: str

    @classmethod
    def of(cls, instance_type: str, host_cpus: int, host_gpus: int) -> Sizing:
        if instance_type == "local_gpu":
            return cls(host_cpus, host_gpus, -1, None, None,
                       "local_gpu: every CPU, GPU and all the memory of this machine")
        known = instances.lookup(instance_type)
        if known is None:
            note = ("" if instance_type.startswith("local") else
                    f"{instance_type} is not in sm_notebook's instance catalog, so the "
                    "containers may use every CPU and all the memory of this machine")
            return cls(host_cpus, 0, None, None, None, note)
        cpus = min(known.vcpus, host_cpus)
        gpus = min(known.gpus, host_gpus)
        capped = f" (this machine has {host_cpus})" if cpus < known.vcpus else ""
        gpu_note = (f"; {known.gpus} GPU(s) asked, {gpus} on this machine"
                    if known.gpus else "")
        return cls(cpus, gpus, gpus or None, known.memory_bytes, cpus * 10**9,
                   f"{instance_type}: each container gets {cpus} vCPU{capped} and "
                   f"{known.memory_gib:g} GiB of memory, as the instance has{gpu_note}")


# `train` on the PATH: AWS's toolkit when it is the toolkit's console script, else the
# image's own program; nothing: a plain image (an image without sh is one too).
_KIND_PROBE = ('p=$(command -v train) || exit 0; '
               'if grep -q sagemaker_training "$p" 2>/dev/null; then echo toolkit; '
               'else echo own; fi')


def with_resolved_image(spec: TrainingSpec) -> TrainingSpec:
    """An alias (``pytorch:2.0.0``) is AWS's image for the region, as in sagemaker mode
    (pulled through an ECR login), never a Docker Hub image of that name."""
    if not spec.image or not images.is_alias(spec.image):
        return spec
    region = spec.region or configured_region()
    if not region:
        raise SpecError("--image", f"{spec.image} stands for AWS's image in a region, and no "
                        "region is set", "--region us-east-1 (or %config SmTrainMagics.region"
                        "), or the image's full name")
    uri = images.resolve(spec.image, region, spec.effective_instance_type)
    return dataclasses.replace(spec, image=uri)


def _how_it_runs(spec: TrainingSpec, kind: str | None) -> str:
    """The launch note: who runs the script in this image, and why."""
    if spec.command is not None:
        bypass = ", bypassing the image's `train`" if kind in ("toolkit", "own") else ""
        return f"--command runs with the SM_* environment{bypass}"
    if kind == "own":
        return ("it has a `train` of its own, which runs as `docker run IMAGE train` "
                "(the cell is in /opt/ml/code for it)")
    if kind == "toolkit" and spec.hp_style == "v2":
        return "AWS's training toolkit runs `train` (--hp-style v2, as the V2 SDK has it)"
    if kind == "toolkit":
        return ("it has AWS's training toolkit, but --hp-style v3 runs the script with the "
                "SM_* environment itself, bypassing `train` as V3's ModelTrainer does "
                "(--hp-style v2 runs `train`)")
    return "no training toolkit in it, so the script runs with the SM_* environment"


def _region(spec: TrainingSpec) -> dict[str, str]:
    return {"AWS_REGION": spec.region, "AWS_DEFAULT_REGION": spec.region} if spec.region else {}


def _read_cache(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError:
        return {}


def _write_cache(path: Path | None, cache: dict[str, str]) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(cache, indent=2))
