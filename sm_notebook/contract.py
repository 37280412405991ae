"""The SageMaker training container contract, in one place every backend uses.

What the service gives an entry script: the ``/opt/ml`` tree, three JSON files under
``input/config``, and the ``SM_*`` environment of the training toolkit, plus the extra
variables of V3 ``ModelTrainer``'s drivers, so scripts written for either world run
unchanged.  A local job gets the same tree under its job directory, with every path
pointing there.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import Any

from . import distribution
from . import hyperparameters as hp

# Variables besides SM_* that the contract sets for every job; --env may not replace them.
CONTRACT_ENV = frozenset({"TRAINING_JOB_NAME", "MASTER_ADDR", "MASTER_PORT"})

CONTAINER_ROOT = PurePosixPath("/opt/ml")
GROUP_NAME = "homogeneousCluster"
MASTER_PORT = 7777
DEFAULT_LOG_LEVEL = 20


@dataclass(frozen=True)
class Layout:
    """The ``/opt/ml`` tree rooted at ``root`` (``/opt/ml`` in a container)."""

    root: PurePath = CONTAINER_ROOT

    @property
    def input_dir(self) -> PurePath:
        return self.root / "input"

    @property
    def config_dir(self) -> PurePath:
        return self.root / "input" / "config"

    @property
    def data_dir(self) -> PurePath:
        return self.root / "input" / "data"

    def channel_dir(self, name: str) -> PurePath:
        return self.data_dir / name

    @property
    def model_dir(self) -> PurePath:
        return self.root / "model"

    @property
    def output_dir(self) -> PurePath:
        return self.root / "output"

    @property
    def output_data_dir(self) -> PurePath:
        return self.root / "output" / "data"

    @property
    def intermediate_dir(self) -> PurePath:
        return self.root / "output" / "intermediate"

    @property
    def failure_file(self) -> PurePath:
        return self.root / "output" / "failure"

    @property
    def success_file(self) -> PurePath:
        return self.root / "output" / "success"

    @property
    def checkpoints_dir(self) -> PurePath:
        return self.root / "checkpoints"

    @property
    def code_dir(self) -> PurePath:
        return self.root / "code"

    def directories(self) -> list[PurePath]:
        """Every directory the service creates before the entry script starts."""
        return [self.config_dir, self.data_dir, self.model_dir, self.output_data_dir,
                self.intermediate_dir, self.checkpoints_dir, self.code_dir]


def host_names(count: int) -> list[str]:
    """``algo-1`` … ``algo-N``, as the service names a job's hosts."""
    return [f"algo-{i}" for i in range(1, count + 1)]


@dataclass(frozen=True)
class Cluster:
    """The hosts of a job (``algo-1`` … ``algo-N``) and their instance type."""

    instance_type: str
    count: int = 1
    network_interface: str = "eth0"

    @property
    def hosts(self) -> list[str]:
        return host_names(self.count)

    def resource_config(self, current_host: str) -> dict[str, Any]:
        """``resourceconfig.json`` exactly as the service writes it for a homogeneous cluster."""
        return {
            "current_host": current_host,
            "current_instance_type": self.instance_type,
            "current_group_name": GROUP_NAME,
            "hosts": self.hosts,
            "instance_groups": [{"instance_group_name": GROUP_NAME,
                                 "instance_type": self.instance_type, "hosts": self.hosts}],
            "network_interface_name": self.network_interface,
        }


def input_data_config(channels: Mapping[str, str | None]) -> dict[str, dict[str, str]]:
    """``inputdataconfig.json``: one entry per channel (name → content type or None)."""
    config = {}
    for name, content_type in channels.items():
        entry = {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
                 "RecordWrapperType": "None"}
        if content_type:
            entry = {"ContentType": content_type, **entry}
        config[name] = entry
    return config


@dataclass
class ScriptRun:
    """Everything that decides what one host's entry script sees."""

    job_name: str
    cluster: Cluster
    current_host: str
    entry_point: str
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    channels: dict[str, str | None] = field(default_factory=dict)
    layout: Layout = field(default_factory=Layout)
    module_dir: str | None = None  # where the code came from; default: the layout's code dir
    num_cpus: int = 1
    num_gpus: int = 0
    region: str | None = None
    processes_per_host: int | None = None  # set when launched with torchrun
    framework_module: str | None = None
    log_level: int = DEFAULT_LOG_LEVEL
    hp_style: str = hp.DEFAULT_STYLE  # which SDK's hyperparameter forms the script gets
    shell_command: str | None = None  # --command: run instead of the entry script
    driver: str | None = None  # a distributed driver's file: run instead of the entry script
    driver_config: dict[str, Any] | None = None  # its SM_DISTRIBUTED_CONFIG

    @classmethod
    def launched(cls, launch: distribution.Launch | None, **fields: Any) -> ScriptRun:
        """A host's run under a spec's distributed launch (torchrun, or a driver)."""
        if launch is None:
            return cls(**fields)
        if launch.driver is None:
            return cls(**fields, processes_per_host=launch.processes_per_host)
        return cls(**fields, driver=launch.driver, driver_config=launch.config)

    @property
    def code_dir(self) -> PurePath:
        """Where the code is: ``/opt/ml/code``, or the ``code`` channel under a driver, as
        V3 lays it out."""
        if self.driver is None:
            return self.layout.code_dir
        return self.layout.channel_dir(distribution.CODE_CHANNEL)

    @property
    def drivers_dir(self) -> PurePath:
        """``SM_DISTRIBUTED_DRIVER_DIR``: the driver's folder in the ``sm_drivers`` channel."""
        return self.layout.channel_dir(distribution.DRIVERS_CHANNEL) / \
            distribution.DRIVERS_FOLDER

    @property
    def all_channels(self) -> dict[str, str | None]:
        """The input channels, with a driver run's ``code`` and ``sm_drivers`` (V3 sends
        them as channels, so the script sees them as such)."""
        if self.driver is None:
            return self.channels
        return {**self.channels, distribution.CODE_CHANNEL: None,
                distribution.DRIVERS_CHANNEL: None}

    @property
    def host_rank(self) -> int:
        return self.cluster.hosts.index(self.current_host)

    @property
    def master_host(self) -> str:
        return self.cluster.hosts[0]

    @property
    def framework_params(self) -> dict[str, Any]:
        if self.processes_per_host is None:
            return {}
        return {"sagemaker_torch_distributed_enabled": True,
                "sagemaker_mpi_num_of_processes_per_host": self.processes_per_host}

    def config_files(self) -> dict[str, Any]:
        """The three JSON documents of ``input/config``, by file name."""
        return {
            "hyperparameters.json": hp.encode(self.hyperparameters, self.hp_style),
            "inputdataconfig.json": input_data_config(self.all_channels),
            "resourceconfig.json": self.cluster.resource_config(self.current_host),
        }

    def training_env(self) -> dict[str, Any]:
        """``SM_TRAINING_ENV``: the toolkit's ``Environment`` properties."""
        lay, hosts = self.layout, self.cluster.hosts
        group = {"instance_group_name": GROUP_NAME, "instance_type": self.cluster.instance_type,
                 "hosts": hosts}
        files = self.config_files()
        return {
            "additional_framework_parameters": self.framework_params,
            "channel_input_dirs": {c: str(lay.channel_dir(c))
                                   for c in sorted(self.all_channels)},
            "current_host": self.current_host,
            "current_instance_group": GROUP_NAME,
            "current_instance_group_hosts": hosts,
            "current_instance_type": self.cluster.instance_type,
            "distribution_hosts": hosts if self.processes_per_host else [],
            "distribution_instance_groups": [GROUP_NAME] if self.processes_per_host else [],
            "framework_module": self.framework_module,
            "hosts": hosts,
            "hyperparameters": hp.seen(self.hyperparameters, self.hp_style),
            "input_config_dir": str(lay.config_dir),
            "input_data_config": files["inputdataconfig.json"],
            "input_dir": str(lay.input_dir),
            "instance_groups": [GROUP_NAME],
            "instance_groups_dict": {GROUP_NAME: group},
            "is_hetero": False,
            "is_master": self.current_host == self.master_host,
            "is_modelparallel_enabled": None,
            "is_smddpmprun_installed": False,
            "is_smddprun_installed": False,
            "job_name": self.job_name,
            "log_level": self.log_level,
            "master_hostname": self.master_host,
            "model_dir": str(lay.model_dir),
            "module_dir": self.module_dir or str(self.code_dir),
            "module_name": _module_name(self.entry_point),
            "network_interface_name": self.cluster.network_interface,
            "num_cpus": self.num_cpus,
            "num_gpus": self.num_gpus,
            "num_neurons": 0,
            "output_data_dir": str(lay.output_data_dir),
            "output_dir": str(lay.output_dir),
            "output_intermediate_dir": str(lay.intermediate_dir),
            "resource_config": files["resourceconfig.json"],
            "topology": None,
            "user_entry_point": self.entry_point,
            **(self._v3_training_env() if self.hp_style == "v3" else {}),
        }

    def _v3_training_env(self) -> dict[str, Any]:
        """The keys V3's driver adds to ``SM_TRAINING_ENV`` (the toolkit's stay, so scripts
        written for either find theirs)."""
        return {"master_addr": self.master_host, "master_port": MASTER_PORT,
                "input_data_dir": str(self.layout.data_dir)}

    def environment(self) -> dict[str, str]:
        """The union of the toolkit's ``SM_*`` variables and V3's driver variables."""
        lay, hosts, te = self.layout, self.cluster.hosts, self.training_env()
        val = hp.env_value
        env = {
            "TRAINING_JOB_NAME": self.job_name,
            "SM_TRAINING_ENV": hp.json_env(te, self.hp_style),
            "SM_HOSTS": val(hosts),
            "SM_CURRENT_HOST": self.current_host,
            "SM_CURRENT_INSTANCE_TYPE": self.cluster.instance_type,
            "SM_CURRENT_INSTANCE_GROUP": GROUP_NAME,
            "SM_CURRENT_INSTANCE_GROUP_HOSTS": val(hosts),
            "SM_INSTANCE_GROUPS": val([GROUP_NAME]),
            "SM_INSTANCE_GROUPS_DICT": val(te["instance_groups_dict"]),
            "SM_DISTRIBUTION_INSTANCE_GROUPS": val(te["distribution_instance_groups"]),
            "SM_IS_HETERO": "false",
            "SM_NETWORK_INTERFACE_NAME": self.cluster.network_interface,
            "SM_USER_ARGS": val(self.user_args),
            "SM_USER_ENTRY_POINT": self.entry_point,
            "SM_MODULE_NAME": _module_name(self.entry_point),
            "SM_MODULE_DIR": te["module_dir"],
            "SM_FRAMEWORK_MODULE": self.framework_module or "",
            "SM_FRAMEWORK_PARAMS": val(self.framework_params),
            "SM_CHANNELS": val(sorted(self.all_channels)),
            "SM_INPUT_DIR": str(lay.input_dir),
            "SM_INPUT_CONFIG_DIR": str(lay.config_dir),
            "SM_INPUT_DATA_DIR": str(lay.data_dir),
            "SM_INPUT_DATA_CONFIG": val(te["input_data_config"]),
            "SM_RESOURCE_CONFIG": val(te["resource_config"]),
            "SM_MODEL_DIR": str(lay.model_dir),
            "SM_OUTPUT_DIR": str(lay.output_dir),
            "SM_OUTPUT_DATA_DIR": str(lay.output_data_dir),
            "SM_OUTPUT_INTERMEDIATE_DIR": str(lay.intermediate_dir),
            "SM_OUTPUT_FAILURE": str(lay.failure_file),
            "SM_NUM_CPUS": str(self.num_cpus),
            "SM_NUM_GPUS": str(self.num_gpus),
            "SM_NUM_NEURONS": "0",
            "SM_LOG_LEVEL": str(self.log_level),
            # V3 ModelTrainer driver variables
            "SM_SOURCE_DIR": str(self.code_dir),
            "SM_ENTRY_SCRIPT": self.entry_point,
            "SM_MASTER_ADDR": self.master_host,
            "SM_MASTER_PORT": str(MASTER_PORT),
            "SM_HOST_COUNT": str(len(hosts)),
            "SM_CURRENT_HOST_RANK": str(self.host_rank),
        }
        for name in self.all_channels:
            env[f"SM_CHANNEL_{name.upper()}"] = str(lay.channel_dir(name))
        env.update(hp.to_env(self.hyperparameters, self.hp_style))
        if self.processes_per_host is not None:
            env["SM_DISTRIBUTED_CONFIG"] = json.dumps(
                {"process_count_per_node": self.processes_per_host, "smp": None})
            env.update({"MASTER_ADDR": self.master_host, "MASTER_PORT": str(MASTER_PORT)})
        if self.driver is not None:  # V3's driver variables
            env["SM_DISTRIBUTED_DRIVER_DIR"] = str(self.drivers_dir)
            env["SM_DISTRIBUTED_CONFIG"] = json.dumps(self.driver_config or {})
        if self.region:
            env.update({"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region})
        return env

    @property
    def user_args(self) -> list[str]:
        """The hyperparameters as the style's SDK passes them on the command line."""
        return hp.to_cli_args(self.hyperparameters, self.hp_style)

    def command(self, python: str = "python3") -> list[str]:
        """The argv that runs the entry script (never a shell line built from values):

        - ``--command``: the user's shell command, in bash where the image has it (as V3's
          ``SourceCode(command=...)``), with no arguments appended;
        - a distributed driver: Python runs it, with no arguments (as V3's ``sm_train.sh``);
        - ``.py``: Python, or torchrun for a distributed launch;
        - ``.sh``: bash (sh where there is none), with the arguments as its parameters;
        - anything else: run as a program (the caller makes it executable, as the
          toolkit does), through ``sh`` so a missing shebang fails as it does there.
        """
        args = self.user_args
        if self.shell_command is not None:
            return [*_BASH_OR_SH, "-c", self.shell_command]
        if self.driver is not None:
            return [python, str(self.drivers_dir / self.driver)]
        if self.processes_per_host is not None:
            launcher = [python, "-m", "torch.distributed.run",
                        f"--nnodes={len(self.cluster.hosts)}",
                        f"--nproc_per_node={self.processes_per_host}"]
            if len(self.cluster.hosts) > 1:
                launcher += [f"--master_addr={self.master_host}", f"--master_port={MASTER_PORT}",
                             f"--node_rank={self.host_rank}"]
            return [*launcher, self.entry_point, *args]
        return entry_command(self.entry_point, args, python)


# `sh -c SCRIPT NAME ARGS...`: runs bash when the image has it, else sh; the user's command
# or script is a positional parameter, never spliced into the script.
_BASH_OR_SH = ["/bin/sh", "-c", 'if command -v bash >/dev/null 2>&1; then exec bash "$@"; '
               'else exec sh "$@"; fi', "sh"]


def entry_command(entry_point: str, args: list[str], python: str = "python3") -> list[str]:
    """How an entry program runs, by its kind (see ``ScriptRun.command``)."""
    if entry_point.endswith(".py"):
        return [python, entry_point, *args]
    if entry_point.endswith(".sh"):
        return [*_BASH_OR_SH, entry_point, *args]
    return ["/bin/sh", "-c", 'exec "./$0" "$@"', entry_point, *args]


def needs_exec_bit(entry_point: str) -> bool:
    """Entry programs that run as programs: made executable first, as the toolkit does."""
    return not entry_point.endswith((".py", ".sh"))


# beside the launcher: what backends/sagemaker/request.py launch_settings() says
LAUNCH_FILE = "sm_notebook_launch.json"


def run_from_config(config_dir: Path, job_name: str, num_cpus: int, num_gpus: int = 0,
                    region: str | None = None,
                    launch: Mapping[str, Any] | None = None) -> ScriptRun:
    """The ``ScriptRun`` of a host, read back from the ``input/config`` files the service
    wrote (for images run through sm_notebook's launcher, where the toolkit would do
    this), with ``launch`` from sagemaker mode's ``launch_settings``, or else the V2
    SDK's ``sagemaker_*`` hyperparameters."""
    def load(name: str) -> dict[str, Any]:
        path = config_dir / name
        return json.loads(path.read_text()) if path.is_file() else {}

    stored = load("hyperparameters.json")
    resource = load("resourceconfig.json")
    hyperparameters = {key: hp.decode_value(value) for key, value in stored.items()
                       if not key.startswith("sagemaker_")}
    if launch is None:
        torchrun = str(stored.get("sagemaker_torch_distributed_enabled", "")).lower() == "true"
        processes = stored.get("sagemaker_mpi_num_of_processes_per_host")
        launch = {"entry_point": hp.decode_value(stored.get("sagemaker_program", '"train.py"')),
                  "hp_style": "v2", "processes_per_host": int(processes or 1) if torchrun
                  else None, "command": None}
    hosts = resource.get("hosts") or ["algo-1"]
    cluster = Cluster(resource.get("current_instance_type", "unknown"), len(hosts),
                      resource.get("network_interface_name", "eth0"))
    channels = {name: entry_config.get("ContentType")
                for name, entry_config in load("inputdataconfig.json").items()}
    return ScriptRun(job_name=job_name, cluster=cluster,
                     current_host=resource.get("current_host", "algo-1"),
                     entry_point=str(launch["entry_point"]), hyperparameters=hyperparameters,
                     channels=channels, num_cpus=num_cpus, num_gpus=num_gpus, region=region,
                     processes_per_host=launch.get("processes_per_host"),
                     hp_style=launch.get("hp_style") or "v2",
                     shell_command=launch.get("command"), driver=launch.get("driver"),
                     driver_config=launch.get("driver_config"))


def _module_name(entry_point: str) -> str:
    return entry_point[:-3] if entry_point.endswith(".py") else entry_point


def write_config_files(run: ScriptRun, config_dir: Path) -> None:
    """Write the three ``input/config`` JSON files for one host."""
    config_dir.mkdir(parents=True, exist_ok=True)
    for name, document in run.config_files().items():
        (config_dir / name).write_text(json.dumps(document, indent=2))


def render_command(argv: Sequence[str]) -> str:
    """A copy-pasteable shell form of an argv (for display only; never executed)."""
    return shlex.join(argv)
