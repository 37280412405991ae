"""``%sm_deploy`` (a trained job's model served, as ``job.deploy()`` does) and
``%sm_endpoints`` (every endpoint as a DataFrame, SageMaker's with their hourly price),
with the training family's settings and followed jobs."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class

from ..checks import check_job_name
from ..errors import SmNotebookError, SpecError

if TYPE_CHECKING:
    from ..serving.deploy import DeployOptions
    from .train import SmTrainMagics

#: option → (DeployOptions field, kind, the accepted form)
OPTIONS: dict[str, tuple[str, str, str]] = {
    "--mode": ("mode", "str", "local, container or sagemaker"),
    "--instance-type": ("instance_type", "str", "an instance type such as ml.m5.large"),
    "--instance-count": ("instance_count", "count", "a whole number ≥ 1"),
    "--image": ("image", "str", "an image name or ECR URI, or an alias such as sklearn:1.2-1"),
    "--entry-script": ("entry_script", "str", "a file of the job's code, or a path to a .py"),
    "--framework": ("framework", "str", "sklearn, xgboost or pytorch"),
    "--env": ("env", "pair", "NAME=VALUE (repeatable)"),
    "--name": ("name", "str", "an endpoint name: letters, digits and hyphens"),
    "--port": ("port", "count", "a port number, 1 to 65535"),
    "--serverless-memory": ("serverless", "count", "MB: 1024 to 6144, in steps of 1024"),
    "--serverless-concurrency": ("serverless", "count", "a whole number ≥ 1"),
    "--role": ("role", "str", "an IAM role ARN"),
    "--bucket": ("bucket", "str", "an S3 bucket name"),
    "--region": ("region", "str", "an AWS region such as us-east-1"),
    "--timeout": ("timeout", "seconds", "seconds, a number > 0"),
    "--no-wait": ("wait", "flag", ""),
    "--dry-run": ("dry_run", "flag", ""),
}
USAGE = ("%sm_deploy JOB [--mode local|container|sagemaker] [--instance-type T] "
         "[--instance-count N] [--image I] [--entry-script S] [--framework F] "
         "[--env NAME=VALUE] [--name N] [--port P] [--serverless-memory MB "
         "--serverless-concurrency N] [--role ARN] [--bucket B] [--region R] [--timeout S] "
         "[--no-wait] [--dry-run]")


def parse_deploy(line: str) -> tuple[str, DeployOptions]:
    """The job's name and the options, or one UsageError naming the option."""
    from ..serving.deploy import DeployOptions

    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"%sm_deploy: {exc} (quote values with spaces)") from None
    if not words or words[0].startswith("-"):
        raise UsageError(f"%sm_deploy: give the job's name first (see %sm_jobs): {USAGE}")
    name, options, serverless = words.pop(0), DeployOptions(), {}
    try:
        check_job_name("%sm_deploy", name)
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    while words:
        flag = words.pop(0)
        flag, _, inline = flag.partition("=") if flag.startswith("--") else (flag, "", "")
        if flag not in OPTIONS:
            raise UsageError(f"%sm_deploy: unknown option {flag!r}; {USAGE}")
        field, kind, accepted = OPTIONS[flag]
        if kind == "flag":
            setattr(options, field, field == "dry_run")
            continue
        if not inline and not words:
            raise UsageError(f"%sm_deploy {flag}: give a value: {accepted}")
        value = inline or words.pop(0)
        parsed = _value(flag, kind, accepted, value)
        if field == "serverless":
            serverless["memory" if flag.endswith("memory") else "concurrency"] = parsed
        elif field == "env":
            options.env[parsed[0]] = parsed[1]
        else:
            setattr(options, field, parsed)
    if serverless:
        if len(serverless) < 2:
            raise UsageError("%sm_deploy --serverless-memory and --serverless-concurrency go "
                             "together: --serverless-memory 2048 --serverless-concurrency 5")
        options.serverless = serverless
    return name, options


def _value(flag: str, kind: str, accepted: str, value: str) -> Any:
    try:
        if kind == "count":
            number = int(value)
            if number < 1:
                raise ValueError
            return number
        if kind == "seconds":
            seconds = float(value)
            if not seconds > 0:
                raise ValueError
            return seconds
        if kind == "pair":
            key, sep, val = value.partition("=")
            if not sep or not key:
                raise ValueError
            return key, val
    except ValueError:
        raise UsageError(f"%sm_deploy {flag}: expected {accepted}, got {value!r}") from None
    return value


@magics_class
class SmServeMagics(Magics):
    """Serve trained jobs and list endpoints."""

    def __init__(self, shell: Any, train: SmTrainMagics):
        super().__init__(shell)
        self.train = train

    @line_magic
    def sm_deploy(self, line: str) -> Any:
        """Serve a trained job's model: ``predictor = %sm_deploy JOB [options]``, the same
        as ``job.deploy(...)``: ``--mode``, ``--instance-type``, ``--image``,
        ``--entry-script``, ``--env NAME=VALUE``, ``--dry-run`` ... (``%sm_deploy?``)."""
        from ..serving.deploy import deploy

        name, options = parse_deploy(line)
        job = self.train.jobs.get(name)
        try:
            if job is None:
                job = self.train.launcher().attach(name)
            result = deploy(job, options)
        except SmNotebookError as exc:
            raise UsageError(f"%sm_deploy{with_flag(str(exc))}") from None
        if isinstance(result, str):  # a dry run
            print(result)
            return None
        return result

    @line_magic
    def sm_endpoints(self, line: str = "") -> Any:
        """Every endpoint made from this jobs directory, newest first, as a DataFrame:
        mode, status (asked now), job, URL, script, instance type and hourly price."""
        if line.strip():
            raise UsageError("%sm_endpoints takes no options")
        from ..serving.listing import endpoints_frame

        return endpoints_frame(self.train.registry.root)


def with_flag(message: str) -> str:
    """``port 0: ...`` → `` --port 0: ...``: an option named in the magic's own words."""
    for flag, (field, _, _) in OPTIONS.items():
        if message.startswith((f"{field} ", f"{field}:")) and field != "serverless":
            return f" {flag}{message[len(field):]}"
    return f": {message}"


__all__ = ["SmServeMagics", "parse_deploy", "with_flag"]
