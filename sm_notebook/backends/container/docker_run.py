"""The containers of a container-mode job, planned: one per host, with its command,
``SM_*`` environment, ``/opt/ml`` mounts and resource limits, and the same plan rendered
as the ``docker run`` lines that ``--dry-run`` prints (secrets masked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ... import contract, sourcedir
from ...secrets import mask_env
from ...spec import TrainingSpec, resolve_path
from ..toolkit import runs_image_train
from .sizing import Sizing

LAUNCHER = Path(__file__).resolve().parents[2] / "runtime" / "launcher.py"
LAUNCHER_IN_CONTAINER = "/opt/sm_notebook/launcher.py"


def host_run(spec: TrainingSpec, name: str, host: str, sizing: Sizing) -> contract.ScriptRun:
    """The SageMaker contract of one host of the job (its ``SM_*`` environment, configs)."""
    cluster = contract.Cluster(spec.effective_instance_type, spec.instance_count)
    return contract.ScriptRun.launched(
        spec.launch, job_name=name, cluster=cluster, current_host=host,
        entry_point=spec.entry_script, hyperparameters=spec.hyperparameters,
        channels=spec.channel_names, num_cpus=sizing.cpus, num_gpus=sizing.gpus,
        region=spec.region, hp_style=spec.hp_style, shell_command=spec.command)


def container_plan(spec: TrainingSpec, name: str, host: str, root: Path, base: Path,
                   kind: str, sizing: Sizing) -> dict[str, Any]:
    """One host's container, as the supervisor creates it through the engine's API
    (image, command, environment, mounts, limits); ``docker_run_groups`` renders it."""
    run = host_run(spec, name, host, sizing)
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
    return {"name": f"{name}-{host}", "host": host, "image": spec.image, "command": command,
            "entrypoint": entrypoint, "environment": {**environment, **spec.environment},
            "mounts": mounts, "working_dir": str(run.code_dir), "gpus": sizing.gpu_request,
            "shm_size": "1g", "mem_limit": sizing.memory, "memswap_limit": sizing.memory,
            "nano_cpus": sizing.nano_cpus, "instance_type": spec.effective_instance_type}


def docker_run_groups(plan: dict[str, Any], network: str | None) -> list[list[str]]:
    """The ``docker run`` equivalent of one host's container plan (what the container
    backend creates through the engine's API) as groups of words, one option per group,
    with secret-looking values masked."""
    host = plan["host"]
    groups = [["docker", "run", "--rm", "--init"], ["--name", plan["name"]],
              ["--hostname", host]]
    if network:
        groups += [["--network", network], ["--network-alias", host]]
    if plan.get("ip"):
        groups.append(["--ip", plan["ip"]])
    groups += [["--add-host", f"{name}:{address}"]
               for name, address in (plan.get("extra_hosts") or {}).items()]
    groups += [["-v", f"{src}:{dst}:{mode}"] for src, dst, mode in plan["mounts"]]
    groups += [["-e", f"{key}={value}"] for key, value in mask_env(plan["environment"]).items()]
    if plan.get("mem_limit"):
        groups += [["--memory", str(plan["mem_limit"])],
                   ["--memory-swap", str(plan["mem_limit"])]]
    if plan.get("nano_cpus"):
        groups.append(["--cpus", f"{plan['nano_cpus'] / 1e9:g}"])
    if plan.get("gpus"):
        groups.append(["--gpus", "all" if plan["gpus"] == -1 else str(plan["gpus"])])
    if plan.get("shm_size"):
        groups.append(["--shm-size", plan["shm_size"]])
    groups.append(["-w", plan["working_dir"]])
    if plan.get("entrypoint") is not None:
        groups.append(["--entrypoint", plan["entrypoint"]])
    return [*groups, [plan["image"], *plan["command"]]]


def render_docker_run(groups: list[list[str]]) -> str:
    """One option per line, so a long ``docker run`` stays readable (and pasteable)."""
    return " \\\n    ".join(contract.render_command(words) for words in groups)


def _region(spec: TrainingSpec) -> dict[str, str]:
    return {"AWS_REGION": spec.region, "AWS_DEFAULT_REGION": spec.region} if spec.region else {}
