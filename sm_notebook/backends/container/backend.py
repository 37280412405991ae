"""Container mode: the cell runs in Docker containers with SageMaker's ``/opt/ml`` contract.

Each host (``algo-1`` … ``algo-N``) gets its own ``/opt/ml`` tree in the job's directory,
bind-mounted at ``/opt/ml``, with the channels mounted read-only under
``/opt/ml/input/data``.  Images with AWS's training toolkit run ``train`` and find the code
through ``sagemaker_program`` / ``sagemaker_submit_directory``, as the V2 SDK delivers it;
plain images run the script with the full ``SM_*`` environment, through sm_notebook's
launcher (mounted read-only) when a ``requirements.txt`` must be installed first
(``docker_run.py`` plans each container, ``image.py`` knows the image, ``sizing.py`` what
each container gets).  A detached supervisor (``runtime/container_supervisor.py``) drives
the engine; a :class:`~..supervised.SupervisedFolder` starts and follows it, as in local
mode, handing the job to a warm spare supervisor when one is ready.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from ... import contract, sourcedir
from ...errors import SmNotebookError, SpecError
from ...jobdir import JobDir, JobState, write_json
from ...runtime.container_supervisor import LABEL, assign_addresses, free_subnet, used_subnets
from ...runtime.launcher import gpu_count
from ...spec import TrainingSpec, no_code_error, resolve_path
from ..base import JobRef, Progress, no_progress
from ..s3_inputs import (
    as_planned,
    download_channels,
    fetch_source,
    planned_downloads,
    planned_source,
)
from ..supervised import FollowsSupervisedFolder, SupervisedFolder
from ..toolkit import runs_image_train, sagemaker_hyperparameters
from .docker_run import container_plan, docker_run_groups, host_run, render_docker_run
from .engine import client_for, clients, engine_address, spares, unreachable
from .image import ImageKinds, how_it_runs, with_resolved_image
from .sizing import Sizing

SUPERVISOR_MODULE = "sm_notebook.runtime.container_supervisor"


class ContainerBackend(FollowsSupervisedFolder):
    """Runs jobs in local Docker containers; see the module docstring."""

    mode = "container"

    def __init__(self, stop_grace: float = 30.0, kinds_cache: Path | None = None):
        self.stop_grace = stop_grace
        self.kinds_cache = kinds_cache
        self.on_progress: Progress = no_progress
        self.images = ImageKinds(lambda: self.client, kinds_cache)
        self.follower = SupervisedFolder(["-m", SUPERVISOR_MODULE],
                                         kill_orphans=self.remove_leftovers,
                                         take_spare=self.take_spare)
        self._host_gpus: int | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> ContainerBackend:
        return cls(stop_grace=settings.stop_grace, kinds_cache=settings.kinds_cache)

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
        self.images.ensure(spec.image, self.on_progress)
        kind = self.images.kind(spec)
        if not spec.has_code and kind != "own":
            raise no_code_error()
        how = how_it_runs(spec, kind) + (f" (as --image-kind {kind} says; detection "
                                         "is skipped)" if spec.image_kind else "")
        sizing = self.sizing(spec).note
        resolved = [f"--image {alias} is {spec.image}"] if alias != spec.image else []
        return [*resolved, f"image {spec.image}: {how}", *([sizing] if sizing else [])]

    def warm_up(self) -> None:
        """Start a spare supervisor now, so it has loaded its Docker client by the time
        the job is handed to it (see ``runtime/container_supervisor.py``)."""
        spares.prime(engine_address())

    def take_spare(self, directory: Path) -> Any:
        """The spare supervisor, handed this job (None when there is none ready)."""
        return spares.take(engine_address(), directory)

    # ---- launching --------------------------------------------------------------------------
    def sizing(self, spec: TrainingSpec) -> Sizing:
        if self._host_gpus is None:  # asked once per launch, not once per host
            self._host_gpus = gpu_count()
        return Sizing.of(spec.effective_instance_type, os.cpu_count() or 1, self._host_gpus)

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
        spec = download_channels(with_resolved_image(spec), directory, self.on_progress)
        spec = fetch_source(spec, directory, self.on_progress)
        kind = self.images.kind(spec)
        if spec.job_name:  # generated names are unique to the millisecond
            self.check_names_free(name, contract.host_names(spec.instance_count))
        folder, sizing = JobDir(directory), self.sizing(spec)
        roots, plans, notes = {}, {}, []
        key = sourcedir.new_key()  # an MPI run's hosts share one
        for host in contract.host_names(spec.instance_count):
            root = host_root(directory, host)
            notes = self.lay_out_host(spec, name, host, root, base, kind, key)
            roots[host] = str(root)
            plans[host] = container_plan(spec, name, host, root, base, kind, sizing)
        output_dir = spec.output and str(resolve_path(base, spec.output.removeprefix("file://")))
        network, subnet = self.address(name, plans)
        write_json(folder.run_file, {
            "job_name": name, "entry_point": spec.entry_script, "image_kind": kind,
            "layout_roots": roots, "containers": plans, "network": network, "subnet": subnet,
            "artifacts_dir": str(folder.artifacts), "max_run": spec.max_run,
            "stop_grace": self.stop_grace, "copy_artifacts_to": output_dir,
            "chown": self.file_owner(),
        })
        return self.follower.start(directory, "Starting the containers", notes)

    def lay_out_host(self, spec: TrainingSpec, name: str, host: str, root: Path, base: Path,
                     kind: str | None, key: str | None = None) -> list[str]:
        """One host's ``/opt/ml`` tree: its folders, the code, the config files (and the
        hyperparameters as V2 stores them when the image's ``train`` reads them)."""
        run = dataclasses.replace(host_run(spec, name, host, self.sizing(spec)),
                                  layout=contract.Layout(root))
        layout = run.layout
        for d in layout.directories():
            Path(d).mkdir(parents=True, exist_ok=True)
        for ch in spec.channels:
            Path(layout.channel_dir(ch.name)).mkdir(parents=True, exist_ok=True)
        notes = sourcedir.lay_out_run(spec, base, run, key)
        contract.write_config_files(run, Path(layout.config_dir))
        if runs_image_train(spec, kind):  # the code reaches `train` as V2 delivers it
            stored = sagemaker_hyperparameters(spec, name, "/opt/ml/code", spec.region)
            (Path(layout.config_dir) / "hyperparameters.json").write_text(
                json.dumps(stored, indent=2))
        return notes

    def address(self, name: str, plans: dict[str, dict[str, Any]]) -> tuple[str | None,
                                                                           str | None]:
        """The job's network and subnet, each host's fixed address in the plans (one host
        needs none): the subnet is one the engine's networks leave free, chosen from the
        job's name, so a dry run shows what its job then gets."""
        if len(plans) < 2:
            return None, None
        try:
            taken = used_subnets(self.client.api)
        except Exception:  # no engine (a dry run): this machine's routes alone
            taken = used_subnets(None)
        subnet = free_subnet(name, len(plans), taken)
        assign_addresses(plans, subnet)
        return f"{name}-net", subnet

    def remove_leftovers(self, ref: JobRef, state: JobState) -> None:
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
        try:
            kind, how = self.images.kind(spec, pull=False), "detected"
        except SmNotebookError as exc:  # no engine: still show the plan
            kind, how = "toolkit", f"assumed: {exc}; --image-kind plain for other images"
        if kind is None:
            kind, how = "toolkit", ("assumed: the image is not on this machine; --image-kind "
                                    "plain for images without the toolkit")
        if spec.image_kind:
            how = "from --image-kind"
        planned, sizing = as_planned(spec, directory), self.sizing(spec)
        plans = {host: container_plan(planned, name, host, host_root(directory, host), base,
                                      kind, sizing)
                 for host in contract.host_names(spec.instance_count)}
        network, subnet = self.address(name, plans)
        lines = [f"container job {name}: {spec.instance_count} host(s)"
                 + (f" on a private network {network} ({subnet})" if network else "")
                 + f"; image kind {kind} ({how})",
                 f"  job directory  {directory}"]
        if sizing.note:
            lines.append(f"  resources      {sizing.note}")
        lines += planned_downloads(spec, directory) + planned_source(spec, directory)
        lines += [render_docker_run(docker_run_groups(plan, network)) for plan in plans.values()]
        return "\n".join(lines)


def host_root(directory: Path, host: str) -> Path:
    """Where a host's ``/opt/ml`` tree lives in the job folder."""
    return directory / "hosts" / host / "opt" / "ml"
