"""``TrainingSpec``: the one validated, serialisable description of a training job.

The spec knows no line syntax (``line/`` parses and renders it) and compares no mode
names: what a mode takes and refuses is read from the modes table.  Validation is pure:
it reads the file system to check that paths exist but launches and creates nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from . import checks, distribution, labels, modes
from . import hyperparameters as hp
from .checks import JOB_NAME_RE, local_path, resolve_path
from .errors import SpecError

IMAGE_KINDS = ("toolkit", "plain", "own")  # AWS's toolkit | Python only | its own `train`
FRAME_PREFIX = "dataframe:"  # a channel source standing for a DataFrame (--input NAME=$df)

DISTRIBUTIONS = distribution.BUILT_IN  # or the path of a driver (distribution.py)
DEFAULT_ENTRY_SCRIPT = "train.py"

CHANNEL_RE = re.compile(r"^[A-Za-z0-9\.\-_]{1,64}$")
INSTANCE_TYPE_RE = re.compile(r"^ml\.[a-z0-9\-]+\.[a-z0-9\-]+$")
ROLE_RE = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")  # botocore's
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
S3_RE = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$")
S3_EXPECTED = ("s3://bucket/prefix, with a bucket name of 3-63 lowercase letters, digits, "
               "dots and hyphens (S3's bucket rules)")
CONTENT_TYPE_MAX = 256  # botocore: ContentType, pattern .*
METRIC_NAME_MAX = 255  # botocore: MetricName, pattern .+
MAX_RUN_WHY = "SageMaker stops a training job after at most 28 days (2,419,200 s)"
ENTRY_RE = re.compile(r"^\w[\w.\-]*$")
JUMPSTART_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,127}(@[A-Za-z0-9.*\-]{1,64})?$")
JUMPSTART_EXPECTED = "MODEL_ID or MODEL_ID@VERSION, such as xgboost-classification-model@2.1.0"
#: fields whose values may hold line breaks (a prompt, a JSON setting, a script)
MULTILINE_FIELDS = ("hyperparameters", "environment", "command")
#: the option that sets a field, where it is not the field's name (``--keep-alive``)
FIELD_OPTIONS = {"hyperparameters": "--hp", "channels": "--input", "environment": "--env",
                 "tags": "--tag", "metrics": "--metric", "distribution": "--distributed"}
TIMESTAMP_SUFFIX = len("-2026-11-24-09-19-45-123")


@dataclass
class Channel:
    """One input channel: a local path or an ``s3://`` URI, staged at ``input/data/<name>``."""

    name: str
    source: str
    content_type: str | None = None

    @property
    def is_s3(self) -> bool:
        return self.source.startswith("s3://")

    @property
    def is_frame(self) -> bool:
        """A DataFrame from the notebook, written as CSV into the job when it launches."""
        return self.source.startswith(FRAME_PREFIX)


@dataclass
class MetricDefinition:
    """A SageMaker ``MetricDefinitions`` entry: the first group of ``regex`` is the value."""

    name: str
    regex: str


@dataclass
class TrainingSpec:
    """A script-mode training job, independent of where it runs."""

    cell: str = ""
    mode: str = "local"
    entry_script: str = DEFAULT_ENTRY_SCRIPT
    source_dir: str | None = None
    dependencies: list[str] = field(default_factory=list)
    requirements: str | None = None
    image: str | None = None
    image_kind: str | None = None  # one of IMAGE_KINDS; None: detect (container mode)
    instance_type: str | None = None
    instance_count: int = 1
    volume_gb: int | None = None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    channels: list[Channel] = field(default_factory=list)
    distribution: str | None = None  # torchrun, mpi or a driver's .py file
    distribution_config: dict[str, Any] | None = None
    processes_per_host: int | None = None
    max_run: int | None = None
    spot: bool = False
    max_wait: int | None = None
    checkpoint_s3: str | None = None
    keep_alive: int | None = None
    subnets: list[str] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    network_isolation: bool = False
    role: str | None = None
    output: str | None = None
    region: str | None = None
    job_name: str | None = None
    base_job_name: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[MetricDefinition] = field(default_factory=list)
    python: str | None = None
    hp_style: str = hp.DEFAULT_STYLE  # whose hyperparameter forms the script gets: v3 | v2
    command: str | None = None  # a shell command run instead of the entry script (V3)
    jumpstart: str | None = None  # MODEL_ID[@VERSION]: the model gives what is not set
    hub: str | None = None  # a private hub of --jumpstart models (default: the public one)
    accept_eula: bool = False  # the gated --jumpstart model's license is accepted
    queue: str | None = None  # an AWS Batch training queue the job waits in (sagemaker)
    priority: int | None = None  # its scheduling priority in the queue
    share: str | None = None  # its share identifier (fair-share queues)
    queue_timeout: int | None = None  # seconds an attempt may take, queue to end

    # ---- serialisation -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingSpec:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError("spec", f"unknown field(s) {', '.join(unknown)}")
        values = dict(data)
        values["channels"] = [Channel(**c) for c in data.get("channels", [])]
        values["metrics"] = [MetricDefinition(**m) for m in data.get("metrics", [])]
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> TrainingSpec:
        return cls.from_dict(json.loads(text))

    def to_yaml(self, include_cell: bool = True, compact: bool = False) -> str:
        """YAML of the spec; ``compact`` leaves out unset fields (for reading, not storing)."""
        import yaml

        data = self.to_dict()
        if not include_cell:
            data.pop("cell")
        if compact:
            data = {k: v for k, v in data.items() if v not in (None, [], {}, False)}
        return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)

    @classmethod
    def from_yaml(cls, text: str) -> TrainingSpec:
        import yaml

        return cls.from_dict(yaml.safe_load(text))

    # ---- derived -------------------------------------------------------------------
    @property
    def channel_names(self) -> dict[str, str | None]:
        return {c.name: c.content_type for c in self.channels}

    @property
    def has_script(self) -> bool:
        """False when the cell holds only blank lines and comments (IPython refuses an empty
        cell body, so a comment says "the entry script comes from --source-dir")."""
        return any(line.strip() and not line.lstrip().startswith("#")
                   for line in self.cell.splitlines())

    @property
    def launch(self) -> distribution.Launch | None:
        """The distributed launch (None: the entry script runs by itself)."""
        return distribution.launch_of(self.distribution, self.distribution_config,
                                      self.processes_per_host)

    @property
    def launched_processes(self) -> int | None:
        """Processes per host under torchrun (1 unless given); None: no torchrun launch."""
        launch = self.launch
        return launch.processes_per_host if launch and launch.driver is None else None

    @property
    def has_code(self) -> bool:
        """Something of ours to run: a cell, a --source-dir or a --command (an image with
        a ``train`` of its own needs none, as V2's generic Estimator sends none)."""
        return (self.has_script or self.source_dir is not None or self.command is not None
                or self.jumpstart is not None)

    @property
    def source_in_s3(self) -> bool:
        """``--source-dir`` is a ``sourcedir.tar.gz`` in S3 (as V3's ``SourceCode`` takes,
        and a JumpStart model's training script is): fetched when the job is made."""
        return self.source_dir is not None and self.source_dir.startswith("s3://")

    @property
    def effective_instance_type(self) -> str:
        """What the job runs on: ``--instance-type``, else the mode's default (V3
        ``ModelTrainer``'s ``local_cpu`` for containers, ``ml.m5.xlarge`` on SageMaker)."""
        return self.instance_type or modes.get(self.mode).default_instance_type

    # ---- validation ----------------------------------------------------------------
    def validate(self, base_dir: Path | None = None) -> list[str]:
        """Raise :class:`SpecError` on the first problem; return notes about ignored options.

        ``base_dir`` resolves relative paths (the notebook's working directory).
        """
        base = base_dir or Path.cwd()
        self._validate_text()  # first: any later message may show a value
        checks.check_choice("--mode", self.mode, modes.NAMES)
        mode = modes.get(self.mode)
        if self.image_kind is not None:
            checks.check_choice("--image-kind", self.image_kind, IMAGE_KINDS)
        self._validate_compute(mode)
        if self.image is not None and mode.takes_image:
            from .catalog.reference import check_image  # the catalog loads on first use

            check_image(self.image)
        if self.output is not None and not self.output.startswith("s3://"):
            checks.check_writable_dir("--output", local_path("--output", base, self.output))
        self._validate_code(base, mode)
        checks.check_choice("--hp-style", self.hp_style, hp.STYLES)
        hp.validate(self.hyperparameters, style=self.hp_style, secrets=mode.secrets_from)
        self._validate_channels(base)
        self._validate_stopping()
        self._validate_aws(mode)
        self._validate_names(mode)
        labels.check_environment(self.environment, mode.secrets_from)
        labels.check_tags(self.tags, mode.secrets_from)
        checks.check_metrics(self.metrics, METRIC_NAME_MAX)
        return self._mode_notes(mode)

    def _validate_text(self) -> None:
        """No control character anywhere (the cell aside): values are printed in the
        equivalent line, the dry run and the errors."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "cell"}
        channels = values.pop("channels")
        values["metrics"] = {m.name: m.regex for m in values["metrics"]}
        named = [(FIELD_OPTIONS.get(name, f"--{name.replace('_', '-')}"), name, value)
                 for name, value in values.items()]
        named += [("--input", "channels", {c.name: c.source for c in channels}),
                  ("--content-type", "channels", {c.name: c.content_type for c in channels})]
        for option, name, value in named:
            allowed = checks.MULTILINE if name in MULTILINE_FIELDS else ""
            for where, text in checks.texts(value, ""):
                checks.check_printable(option, repr(where) if where else "the value", text,
                                       allowed)

    def _validate_compute(self, mode: modes.Mode) -> None:
        it = self.instance_type
        local_types = modes.LOCAL_INSTANCE_TYPES
        if it is not None and it not in local_types and not INSTANCE_TYPE_RE.match(it):
            raise SpecError("--instance-type", f"invalid instance type {it!r}",
                            "ml.<family>.<size> such as ml.m5.xlarge, or local_cpu / local_gpu")
        implied = modes.implied_by(it)
        if implied is not None and implied is not mode:
            raise SpecError("--instance-type", f"{it} runs in {implied.runs_in}, not in "
                            f"{self.mode} mode", f"--mode {implied.name} (or leave --mode out)")
        if not mode.on_this_machine and it in local_types:  # local_* name this machine
            raise SpecError("--instance-type", f"{it} is not a SageMaker instance type",
                            "ml.<family>.<size> such as ml.m5.xlarge")
        checks.check_positive("--instance-count", self.instance_count)
        if self.instance_count > 1 and not mode.multi_host:
            several = " or ".join(f"--mode {m}" for m in _modes_where("multi_host"))
            raise SpecError("--instance-count", f"a {self.mode} process job runs on one host",
                            f"{several} for several hosts")
        if mode.hosts_share_machine:  # before anything is planned per host
            from .catalog import instances  # the catalog loads on first use

            it = self.effective_instance_type
            known = instances.lookup(it)
            elsewhere = [m for m in _modes_where("multi_host")
                         if not modes.get(m).hosts_share_machine]
            checks.check_hosts_fit("--instance-count", self.instance_count,
                                   known.memory_bytes if known else None, it,
                                   checks.machine_memory(),
                                   " or ".join(f"--mode {m}" for m in elsewhere))
        if self.volume_gb is not None:
            checks.check_positive("--volume-gb", self.volume_gb, maximum=16384,
                            why="SageMaker's largest training volume is 16,384 GB")
        if self.processes_per_host is not None:
            checks.check_positive("--processes-per-host", self.processes_per_host, maximum=1024)
            if self.distribution is None:
                raise SpecError("--processes-per-host", "only applies to a distributed launch",
                                "--distributed torchrun|mpi|DRIVER.py --processes-per-host N")
        if self.python is not None and not mode.takes_python:
            where = _modes_where("takes_python")
            raise SpecError("--python", f"only applies in {' or '.join(where)} mode, not "
                            f"{self.mode}", " or ".join(f"--mode {m}" for m in where))

    def _validate_code(self, base: Path, mode: modes.Mode) -> None:
        distribution.check(self.distribution, self.distribution_config,
                           self.processes_per_host, base)
        if not ENTRY_RE.match(self.entry_script) or len(
                self.entry_script.encode()) > checks.NAME_MAX:
            raise SpecError("--entry-script", f"invalid file name {self.entry_script!r}",
                            "a file name such as train.py, without directories, of at most "
                            f"{checks.NAME_MAX} bytes")
        if self.has_script and not self.entry_script.endswith((".py", ".sh")):
            raise SpecError("--entry-script", f"{self.entry_script}: the cell runs as a Python "
                            "script (.py) or a shell script (.sh)", "a name such as train.py "
                            "or train.sh; other programs come from --source-dir, run by a "
                            "line without a cell")
        if self.command is not None:
            if not self.command.strip() or "\x00" in self.command:
                raise SpecError("--command", "an empty command" if not self.command.strip()
                                else "the command holds a NUL character",
                                "a shell command such as --command 'python train.py --epochs 3'")
            if self.distribution is not None:
                raise SpecError("--command", "runs instead of the entry script, so it cannot "
                                "be launched with --distributed", "one of --command or "
                                "--distributed")
        checks.check_jumpstart(self.jumpstart, self.hub, self.accept_eula, JUMPSTART_RE,
                               JUMPSTART_EXPECTED)
        checks.check_queue(self.queue, self.priority, self.share, self.queue_timeout)
        if self.source_in_s3:
            if not (S3_RE.match(str(self.source_dir)) and str(self.source_dir).endswith(
                    ".tar.gz")):
                raise SpecError("--source-dir", f"invalid S3 source {self.source_dir!r}",
                                "a directory, or s3://bucket/key/sourcedir.tar.gz")
        elif self.source_dir is not None:
            src = local_path("--source-dir", base, self.source_dir)
            if not src.is_dir():
                raise SpecError("--source-dir", f"{self.source_dir} is not a directory",
                                "an existing directory")
            if not self.has_script and self.command is None and not (
                    src / self.entry_script).is_file():
                raise SpecError("--entry-script", f"{self.entry_script} is not in "
                                f"{self.source_dir} and the cell holds no code",
                                "a cell holding the script, or a file of --source-dir")
        elif not self.has_code and (mode.always_needs_code or self.image_kind in (
                "toolkit", "plain")):  # an image of its own `train` needs none
            raise no_code_error()
        for dep in self.dependencies:
            checks.check_file_or_dir("--dependencies", dep, local_path(
                "--dependencies", base, dep), "an existing file or directory")
        if self.requirements is not None and self.requirements_path(base) is None:
            raise SpecError("--requirements", f"{self.requirements} does not exist",
                            "a requirements.txt file (relative to the notebook or --source-dir)")

    def requirements_path(self, base: Path) -> Path | None:
        """The requirements file, found beside the notebook or in ``--source-dir``."""
        if self.requirements is None:
            return None
        candidates = [local_path("--requirements", base, self.requirements)]
        if self.source_dir and not self.source_in_s3:
            candidates.append(local_path("--requirements", base, str(resolve_path(
                base, self.source_dir) / self.requirements)))
        return next((c for c in candidates if c.is_file()), None)

    def _validate_channels(self, base: Path) -> None:
        if len(self.channels) > 20:
            raise SpecError("--input", f"{len(self.channels)} channels, the limit is 20")
        seen: set[str] = set()
        for ch in self.channels:
            if not CHANNEL_RE.match(ch.name):
                raise SpecError("--input", f"invalid channel name {ch.name!r}",
                                "NAME=PATH with a name of letters, digits and .-_")
            if ch.name in seen:
                raise SpecError("--input", f"channel {ch.name!r} given twice")
            if distribution.is_driver(self.distribution) and ch.name in (
                    distribution.CODE_CHANNEL, distribution.DRIVERS_CHANNEL):
                raise SpecError("--input", f"channel {ch.name!r} holds the code or the "
                                "drivers of a driver run (as V3 lays it out)",
                                "another channel name")
            seen.add(ch.name)
            if ch.is_s3:
                if not S3_RE.match(ch.source):
                    raise SpecError("--input", f"{ch.name}: invalid S3 URI {ch.source!r}",
                                    S3_EXPECTED)
            elif not ch.is_frame:
                checks.check_file_or_dir("--input", f"{ch.name}: {ch.source}", local_path(
                    "--input", base, ch.source, ch.name), "NAME=PATH with an existing file or "
                    "directory, or an s3:// URI")
            if ch.content_type is not None:  # any text: SageMaker takes libsvm, text/csv...
                checks.check_service_text("--content-type", f"{ch.name}: content type",
                                    ch.content_type, CONTENT_TYPE_MAX)

    def _validate_stopping(self) -> None:
        if self.max_run is not None:
            checks.check_positive("--max-run", self.max_run, maximum=28 * 86400, why=MAX_RUN_WHY)
        if self.max_wait is not None:
            checks.check_positive("--max-wait", self.max_wait, maximum=28 * 86400, why=MAX_RUN_WHY)
            if not self.spot:
                raise SpecError("--max-wait", "only applies to spot training", "--spot --max-wait")
            if self.max_run is not None and self.max_wait < self.max_run:
                raise SpecError("--max-wait", f"{self.max_wait} is less than --max-run "
                                f"{self.max_run}", "a value at least --max-run")
        if self.keep_alive is not None:
            checks.check_positive("--keep-alive", self.keep_alive, minimum=0, maximum=21600)

    def _validate_aws(self, mode: modes.Mode) -> None:
        if self.checkpoint_s3 is not None and not S3_RE.match(self.checkpoint_s3):
            raise SpecError("--checkpoint-s3", f"invalid S3 URI {self.checkpoint_s3!r}",
                            S3_EXPECTED)
        if self.role is not None and not (ROLE_RE.match(self.role) and 20 <= len(self.role)
                                          <= 2048):
            raise SpecError("--role", f"invalid role {self.role!r}",
                            "an IAM role ARN such as arn:aws:iam::123456789012:role/Name")
        if self.region is not None and not REGION_RE.match(self.region):
            raise SpecError("--region", f"invalid region {self.region!r}",
                            "a region name such as us-east-1")
        if self.output is not None and self.output.startswith("s3://"):
            if not S3_RE.match(self.output):
                raise SpecError("--output", f"invalid S3 URI {self.output!r}", S3_EXPECTED)
            if not mode.s3_output:
                raise SpecError("--output", "S3 output needs --mode sagemaker",
                                f"a local directory in {self.mode} mode")
        for option, instead in mode.unavailable.items():
            if self.value_of(option):
                raise SpecError(option, f"not available in {self.mode} mode", instead)
        checks.check_vpc(self.subnets, self.security_groups)

    def value_of(self, option: str) -> Any:
        """The field an option sets (``--keep-alive`` → ``keep_alive``), for the checks
        that the modes table states per option."""
        return getattr(self, option.removeprefix("--").replace("-", "_"))

    def _validate_names(self, mode: modes.Mode) -> None:
        if self.job_name is not None:
            if self.base_job_name is not None:
                raise SpecError("--job-name", "give --job-name or --base-job-name, not both")
            checks.check_job_name("--job-name", self.job_name)
        base = self.base_job_name
        if base is None or _base_characters_ok(base):
            return  # a long base is cut, as the SDKs cut it (base_name_note says so)
        limit = 63 - TIMESTAMP_SUFFIX
        # a job here gets a valid name made of it; SageMaker refuses it
        if not mode.on_this_machine or not valid_base_name(base):
            raise SpecError("--base-job-name", f"invalid base name {base!r}: SageMaker job "
                            "names allow only letters, digits and hyphens, starting with a "
                            "letter or digit", f"up to {limit} letters, digits and hyphens, "
                            f"such as {valid_base_name(base) or 'my-job'}")

    def base_name_note(self) -> str | None:
        """The one line saying that a base name was cut to leave room for the timestamp,
        or (local and container modes) made valid where SageMaker would refuse it."""
        base = self.base_job_name
        if base is None or (_base_characters_ok(base) and len(base) <= 63 - TIMESTAMP_SUFFIX):
            return None
        name = f"{valid_base_name(base)}-<timestamp>"
        if _base_characters_ok(base):
            return (f"--base-job-name is cut to {len(valid_base_name(base))} characters to "
                    f"leave room for the timestamp, as the SDKs do: {name}")
        return (f"--base-job-name {base!r} is not a valid SageMaker job name; this job is "
                f"named {name} (sagemaker mode would refuse it)")

    def _mode_notes(self, mode: modes.Mode) -> list[str]:
        """Options that are accepted but have no effect in this mode (said, never silent)."""
        notes = [f"{option} is not used in {self.mode} mode ({mode.ignored_because})"
                 for option in mode.ignored if self.value_of(option) is not None]
        if mode.describes_instance_only and self.instance_type is not None:
            notes.append(f"--instance-type {self.instance_type} is only described to the script "
                         f"in {self.mode} mode (resourceconfig.json, SM_CURRENT_INSTANCE_TYPE)")
        if not mode.sends_tags and self.tags:
            notes.append("--tag is recorded with the job; tags reach AWS only in sagemaker mode")
        base_note = self.base_name_note()
        if base_note:
            notes.append(base_note)
        return notes


def _modes_where(ability: str) -> list[str]:
    """The names of the modes that have ``ability`` (a ``Mode`` flag), in table order."""
    return [m.name for m in modes.MODES.values() if getattr(m, ability)]


def no_code_error() -> SpecError:
    """The one error for a job with nothing to run (the spec, or the backend once it knows
    the image has no ``train`` of its own)."""
    return SpecError("cell", "no code to run: the cell is empty",
                     "the training script as the cell body, --command 'CMD', --source-dir "
                     "DIR with --entry-script NAME, --jumpstart MODEL_ID, or an image with a "
                     "`train` of its own")


def _base_characters_ok(base: str) -> bool:
    """``base-<timestamp>`` would be a valid SageMaker job name, length aside (a trailing
    hyphen is fine: ``my-job--2026-…`` matches the service's pattern)."""
    return re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*-*", base) is not None


def valid_base_name(text: str) -> str:
    """``text`` as a base of a SageMaker job name: each run of other characters (``_``,
    spaces, dots) becomes one hyphen, cut to leave room for the timestamp."""
    name = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-")
    return name[:63 - TIMESTAMP_SUFFIX].rstrip("-")


__all__ = ["JOB_NAME_RE", "Channel", "MetricDefinition", "TrainingSpec", "resolve_path"]
