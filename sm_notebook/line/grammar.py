"""The ``%%sm_train`` options, each declared once.

A declaration says everything the package needs to know of an option: its flag, metavar
and help (argparse and ``%%sm_train?``), the ``TrainingSpec`` field it sets (or that it is
a launch option), the kind of value it takes (how its text is parsed and rendered back),
and the form widget it wants.  The parser (``line.parse``), the renderer
(``line.render``) and the form (``ui.form_model``, ``ui.form``) loop over ``OPTIONS``;
adding a simple option is one entry here plus its spec field.

The order is the order of the rendered line (and so of the form's line and of the help).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..distribution import CONFIG_EXPECTED
from ..distribution import EXPECTED as DISTRIBUTED_EXPECTED
from ..spec import DEFAULT_ENTRY_SCRIPT, DISTRIBUTIONS, JUMPSTART_EXPECTED
from . import values as v
from .values import Kind

MAIN, ADVANCED = "main", "advanced"  # the form's sections


@dataclass(frozen=True)
class FormField:
    """The form widget an option wants.

    ``widget``: toggle (the mode buttons), combo (text with suggestions), choice (a
    dropdown), count (a whole number), rows (a list of rows: hyperparameters, inputs),
    text, check (a checkbox) or lines (a KEY=VALUE pair a line)."""

    name: str  # the FormValues attribute (and the form widget) holding it
    widget: str
    section: str = ADVANCED
    label: str = ""
    placeholder: str = ""
    wide: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (label, value) of a choice
    mark: str = ""  # where its errors show, when not under ``name``

    @property
    def marked(self) -> str:
        return self.mark or self.name


@dataclass(frozen=True)
class Option:
    """One magic option, as the parser, the renderer, the help and the form know it."""

    flag: str
    help: str
    kind: Kind
    metavar: str | None = None
    field: str | None = None  # the TrainingSpec field it sets; None: a launch option
    launch: bool = False  # a LaunchOptions flag (--wait, --quiet, --form, --dry-run)
    always: bool = False  # rendered even at the spec's default (a %config default may differ)
    expected: str | None = None  # the accepted form in errors, when not the metavar
    form: FormField | None = None
    shown_in: str | None = None  # the form field showing its errors, when it has none

    @property
    def flags(self) -> tuple[str, ...]:
        return (self.flag,)

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def kwargs(self) -> dict[str, Any]:
        """argparse's keywords for it."""
        if self.kind.flag:
            return {"action": "store_true"}
        kwargs: dict[str, Any] = {"action": "append", "default": []} if self.kind.repeated \
            else {}
        if self.metavar is not None:
            kwargs["metavar"] = self.metavar
        return kwargs

    @property
    def form_mark(self) -> str | None:
        """The form field that shows this option's errors, if any."""
        return self.form.marked if self.form else self.shown_in


def _advanced(name: str, widget: str, label: str, placeholder: str = "", **kw: Any
              ) -> FormField:
    return FormField(name, widget, ADVANCED, label, placeholder, **kw)


VARIABLE_HELP = "name of the variable that receives the job handle"  # the one positional

_DISTRIBUTION_CHOICES = (("none", ""), *((d, d) for d in DISTRIBUTIONS))

OPTIONS: list[Option] = [
    Option("--mode", "where the job runs: local (a process here, the default), container "
           "(Docker) or sagemaker", v.TEXT, "MODE", "mode", always=True,
           form=FormField("mode", "toggle", MAIN, "mode")),
    Option("--hp-style", "how hyperparameters reach the script: v3 (the current SDK's "
           "ModelTrainer: strings as they are, the rest as JSON; the default) or v2 (the "
           "framework estimators and the training toolkit's `train`)", v.TEXT, "STYLE",
           "hp_style", always=True),
    Option("--entry-script", f"file name of the cell in the job (default "
           f"{DEFAULT_ENTRY_SCRIPT}; .sh for a shell script), or the program of --source-dir "
           "to run", v.TEXT, "NAME", "entry_script"),
    Option("--source-dir", "directory shipped with the cell (laid out beside the entry "
           "script)", v.TEXT, "DIR", "source_dir"),
    Option("--requirements", "requirements file installed in the job's environment "
           "(checked, never installed, in local mode)", v.TEXT, "PATH", "requirements"),
    Option("--image", "training image: a URI or a name (container and sagemaker modes)",
           v.TEXT, "IMAGE", "image", form=FormField("image", "combo", MAIN, "image")),
    Option("--image-kind", "toolkit (AWS's training toolkit: `train` runs under --hp-style "
           "v2, sm_notebook's launcher under v3), plain (Python only: the launcher runs the "
           "script) or own (a `train` of its own: docker run IMAGE train); detected in "
           "container mode", v.TEXT, "KIND", "image_kind", shown_in="extra"),
    Option("--instance-type", "ml.m5.xlarge, ... ; local_cpu or local_gpu imply --mode "
           "container", v.TEXT, "TYPE", "instance_type",
           form=FormField("instance_type", "choice", MAIN, "instance")),
    Option("--instance-count", "number of hosts (default 1)", v.INT, "N", "instance_count",
           form=FormField("instance_count", "count", MAIN, "count")),
    Option("--volume-gb", "storage volume per host in GB", v.INT, "GB", "volume_gb"),
    Option("--dependencies", "file or directory copied beside the entry script "
           "(repeatable)", v.TEXT_LIST, "PATH", "dependencies"),
    Option("--hp", "hyperparameter KEY=VALUE; VALUE is a JSON literal when it parses, else "
           "a string (repeatable)", v.HYPERPARAMETERS, "KEY=VALUE", "hyperparameters",
           form=FormField("hyperparameters", "rows", MAIN, "hyperparameters", mark="hps")),
    Option("--hps", "hyperparameters from a .json/.yaml file or a $dict (--hp wins)",
           v.READ_WITH_HP, "SOURCE", "hyperparameters", shown_in="hps"),
    Option("--input", "input channel NAME=PATH_OR_S3_URI, staged at /opt/ml/input/data/NAME "
           "(repeatable)", v.CHANNELS, "NAME=URI", "channels", expected="NAME=PATH_OR_S3_URI",
           form=FormField("inputs", "rows", MAIN, "input channels")),
    Option("--content-type", "content type of a channel, NAME=TYPE (repeatable)",
           v.CONTENT_TYPES, "NAME=TYPE", "channels", shown_in="inputs"),
    Option("--max-run", "stop the job after this long (seconds, or 90m, 2h, 1d)", v.DURATION,
           "DURATION", "max_run", form=_advanced("max_run", "text", "max run", "2h")),
    Option("--max-wait", "maximum wait for spot capacity plus run time (seconds, or 2h)",
           v.DURATION, "DURATION", "max_wait",
           form=_advanced("max_wait", "text", "max wait", "3h")),
    Option("--checkpoint-s3", "S3 URI synced with /opt/ml/checkpoints (sagemaker mode)",
           v.TEXT, "URI", "checkpoint_s3",
           form=_advanced("checkpoint_s3", "text", "checkpoints", "s3://bucket/checkpoints/")),
    Option("--keep-alive", "keep the instances warm this long after the job (warm pools)",
           v.DURATION, "DURATION", "keep_alive",
           form=_advanced("keep_alive", "text", "keep alive", "10m (warm pool)")),
    Option("--role", "IAM role ARN the job runs as (sagemaker mode)", v.TEXT, "ARN", "role",
           form=_advanced("role", "text", "role", "arn:aws:iam::ACCOUNT:role/NAME",
                          wide=True)),
    Option("--output", "where model.tar.gz and output.tar.gz go: a directory or an s3:// "
           "URI", v.TEXT, "PATH", "output",
           form=_advanced("output", "text", "output", "a directory or s3://bucket/prefix")),
    Option("--distributed", "launcher for distributed training: torchrun, mpi (mpirun "
           "across the hosts), or a driver of your own, PATH.py, run on every host instead "
           "of the entry script (V3's DistributedConfig; its folder is shipped)", v.TEXT,
           "KIND", "distribution", expected=DISTRIBUTED_EXPECTED,
           form=_advanced("distribution", "combo", "distributed",
                          "torchrun, mpi or ./drivers/driver.py",
                          choices=_DISTRIBUTION_CHOICES)),
    Option("--distribution-config", "the launch's config as a JSON object or a $dict "
           "(SM_DISTRIBUTED_CONFIG, distributed.json), e.g. "
           "'{\"process_count_per_node\": 2}'", v.JSON_OBJECT, "JSON", "distribution_config",
           expected=CONFIG_EXPECTED),
    Option("--processes-per-host", "processes per host for --distributed (its config's "
           "process_count_per_node)", v.INT, "N", "processes_per_host"),
    Option("--region", "AWS region", v.TEXT, "REGION", "region"),
    Option("--job-name", "exact job name (unique)", v.TEXT, "NAME", "job_name"),
    Option("--base-job-name", "prefix of a generated, timestamped job name", v.TEXT, "NAME",
           "base_job_name"),
    Option("--python", "Python interpreter for a local job (default: the kernel's)", v.TEXT,
           "PATH", "python"),
    Option("--command", "a shell command run in the code directory instead of the entry "
           "script, with the full SM_* environment (V3's SourceCode(command=...); no cell "
           "needed)", v.TEXT, "CMD", "command"),
    Option("--jumpstart", "a JumpStart model to train: its image, training script (the "
           "cell, when given, replaces it), default hyperparameters, instance type, metrics, "
           "model and dataset channels, each overridden by your options (container and "
           "sagemaker modes; %sm_jumpstart lists them)", v.TEXT, "MODEL_ID[@VERSION]",
           "jumpstart", expected=JUMPSTART_EXPECTED,
           form=_advanced("jumpstart", "combo", "JumpStart model", "a model id", wide=True)),
    Option("--hub", "the private hub --jumpstart models come from (default: SageMaker's "
           "public hub)", v.TEXT, "NAME", "hub"),
    Option("--accept-eula", "accept the end-user license of a gated --jumpstart model",
           v.FLAG, field="accept_eula"),
    Option("--queue", "an AWS Batch training queue the job waits in before it runs "
           "(sagemaker mode; SubmitServiceJob)", v.TEXT, "NAME", "queue",
           form=_advanced("queue", "text", "Batch queue", "a SageMaker training queue")),
    Option("--priority", "the job's scheduling priority in --queue (0-9999, higher first)",
           v.INT, "N", "priority"),
    Option("--share", "the job's share identifier in a fair-share --queue", v.TEXT, "ID",
           "share"),
    Option("--queue-timeout", "how long an attempt may take in --queue, waiting included "
           "(seconds, or 90m, 2h; default 1d)", v.DURATION, "DURATION", "queue_timeout"),
    Option("--spot", "use managed spot capacity (sagemaker mode)", v.FLAG, field="spot",
           form=_advanced("spot", "check", "managed spot")),
    Option("--subnets", "VPC subnets of the job, comma-separated (with --security-groups)",
           v.ID_LIST, "IDS", "subnets"),
    Option("--security-groups", "VPC security groups of the job, comma-separated (with "
           "--subnets)", v.ID_LIST, "IDS", "security_groups"),
    Option("--network-isolation", "no network access from the training containers "
           "(sagemaker mode; the code comes as an input channel)", v.FLAG,
           field="network_isolation"),
    Option("--env", "environment variable KEY=VALUE for the script (repeatable)",
           v.TEXT_PAIRS, "KEY=VALUE", "environment",
           form=_advanced("environment", "lines", "environment", "KEY=VALUE, a line each")),
    Option("--tag", "tag KEY=VALUE recorded with the job (repeatable)", v.TEXT_PAIRS,
           "KEY=VALUE", "tags"),
    Option("--metric", "metric NAME=REGEX parsed from the log; the first group is the value "
           "(repeatable)", v.METRICS, "NAME=REGEX", "metrics",
           form=_advanced("metrics", "lines", "metrics", "NAME=REGEX, a line each")),
    Option("--wait", "block until the job ends (interrupting stops a local job)", v.FLAG,
           launch=True),
    Option("--quiet", "show no progress, only the final status", v.FLAG, launch=True),
    Option("--form", "edit the job in an interactive form before launching", v.FLAG,
           launch=True),
    Option("--dry-run", "show the resolved spec and what would run, without running it",
           v.FLAG, launch=True),
]

BY_FLAG: dict[str, Option] = {opt.flag: opt for opt in OPTIONS}
SPEC_OPTIONS = [opt for opt in OPTIONS if opt.field is not None]
FORM_OPTIONS = [opt for opt in OPTIONS if opt.form is not None]
