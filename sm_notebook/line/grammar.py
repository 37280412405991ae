"""The ``%%sm_train`` options: flags, argparse keywords and one-line help."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..spec import DEFAULT_ENTRY_SCRIPT


@dataclass(frozen=True)
class Option:
    """One magic option: its flags, argparse keywords and one-line help."""

    flags: tuple[str, ...]
    help: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def dest(self) -> str:
        return self.flags[0].lstrip("-").replace("-", "_")


def _opt(flag: str, help: str, metavar: str | None = None, **kwargs: Any) -> Option:
    if metavar is not None:
        kwargs["metavar"] = metavar
    return Option((flag,), help, kwargs)


def _many(flag: str, help: str, metavar: str) -> Option:
    return Option((flag,), help, {"action": "append", "default": [], "metavar": metavar})


def _flag(flag: str, help: str) -> Option:
    return Option((flag,), help, {"action": "store_true"})


OPTIONS: list[Option] = [
    _opt("--mode", "where the job runs: local (a process here, the default), container "
         "(Docker) or sagemaker", "MODE"),
    _opt("--image", "training image: a URI or a name (container and sagemaker modes)", "IMAGE"),
    _opt("--image-kind", "toolkit (AWS's training toolkit: `train` runs under --hp-style v2, "
         "sm_notebook's launcher under v3), plain (Python only: the launcher runs the script) "
         "or own (a `train` of its own: docker run IMAGE train); detected in container mode",
         "KIND"),
    _opt("--instance-type", "ml.m5.xlarge, ... ; local_cpu or local_gpu imply --mode container",
         "TYPE"),
    _opt("--instance-count", "number of hosts (default 1)", "N"),
    _opt("--volume-gb", "storage volume per host in GB", "GB"),
    _many("--hp", "hyperparameter KEY=VALUE; VALUE is a JSON literal when it parses, else a "
          "string (repeatable)", "KEY=VALUE"),
    _opt("--hps", "hyperparameters from a .json/.yaml file or a $dict (--hp wins)", "SOURCE"),
    _opt("--hp-style", "how hyperparameters reach the script: v3 (the current SDK's "
         "ModelTrainer: strings as they are, the rest as JSON; the default) or v2 (the "
         "framework estimators and the training toolkit's `train`)", "STYLE"),
    _many("--input", "input channel NAME=PATH_OR_S3_URI, staged at /opt/ml/input/data/NAME "
          "(repeatable)", "NAME=URI"),
    _many("--content-type", "content type of a channel, NAME=TYPE (repeatable)", "NAME=TYPE"),
    _opt("--source-dir", "directory shipped with the cell (laid out beside the entry script)",
         "DIR"),
    _many("--dependencies", "file or directory copied beside the entry script (repeatable)",
          "PATH"),
    _opt("--requirements", "requirements file installed in the job's environment "
         "(checked, never installed, in local mode)", "PATH"),
    _opt("--entry-script", f"file name of the cell in the job (default {DEFAULT_ENTRY_SCRIPT}; "
         ".sh for a shell script), or the program of --source-dir to run", "NAME"),
    _opt("--command", "a shell command run in the code directory instead of the entry script, "
         "with the full SM_* environment (V3's SourceCode(command=...); no cell needed)", "CMD"),
    _opt("--distributed", "launcher for distributed training: torchrun", "KIND"),
    _opt("--processes-per-host", "processes per host for --distributed", "N"),
    _opt("--max-run", "stop the job after this long (seconds, or 90m, 2h, 1d)", "DURATION"),
    _flag("--spot", "use managed spot capacity (sagemaker mode)"),
    _opt("--max-wait", "maximum wait for spot capacity plus run time (seconds, or 2h)",
         "DURATION"),
    _opt("--checkpoint-s3", "S3 URI synced with /opt/ml/checkpoints (sagemaker mode)", "URI"),
    _opt("--keep-alive", "keep the instances warm this long after the job (warm pools)",
         "DURATION"),
    _opt("--role", "IAM role ARN the job runs as (sagemaker mode)", "ARN"),
    _opt("--subnets", "VPC subnets of the job, comma-separated (with --security-groups)",
         "IDS"),
    _opt("--security-groups", "VPC security groups of the job, comma-separated (with "
         "--subnets)", "IDS"),
    _flag("--network-isolation", "no network access from the training containers "
          "(sagemaker mode; the code comes as an input channel)"),
    _opt("--output", "where model.tar.gz and output.tar.gz go: a directory or an s3:// URI",
         "PATH"),
    _opt("--region", "AWS region", "REGION"),
    _opt("--job-name", "exact job name (unique)", "NAME"),
    _opt("--base-job-name", "prefix of a generated, timestamped job name", "NAME"),
    _many("--env", "environment variable KEY=VALUE for the script (repeatable)", "KEY=VALUE"),
    _many("--tag", "tag KEY=VALUE recorded with the job (repeatable)", "KEY=VALUE"),
    _many("--metric", "metric NAME=REGEX parsed from the log; the first group is the value "
          "(repeatable)", "NAME=REGEX"),
    _opt("--python", "Python interpreter for a local job (default: the kernel's)", "PATH"),
    _flag("--wait", "block until the job ends (interrupting stops a local job)"),
    _flag("--quiet", "show no progress, only the final status"),
    _flag("--form", "edit the job in an interactive form before launching"),
    _flag("--dry-run", "show the resolved spec and what would run, without running it"),
]

