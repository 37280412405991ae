"""``job.deploy()`` and ``%sm_deploy``: which endpoint a job's model gets, every option
checked before anything starts, then the mode's own start (``local.py``,
``container.py``, ``hosted.py``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .. import modes
from ..labels import ENV_KEY_RE
from ..secrets import is_secret_name, is_secret_value, mask_env
from . import layout
from .endpoints import start_on_this_machine
from .local import check_free, now
from .predictor import Predictor
from .record import ENDPOINTS, EndpointError, EndpointRecord

NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # SageMaker's endpoint names
FRAMEWORKS = ("sklearn", "xgboost", "pytorch")


class TrainedJob(Protocol):
    """What deploying reads of a job (``job.Job``, which calls this)."""

    name: str
    mode: str
    status: str
    directory: Path
    spec: Any

    @property
    def done(self) -> bool: ...

    def model_tarball(self) -> Path: ...


@dataclass
class DeployOptions:
    """``job.deploy()``'s keywords, as ``%sm_deploy``'s options give them too."""

    mode: str | None = None
    instance_type: str | None = None
    instance_count: int = 1
    image: str | None = None
    entry_script: str | None = None
    framework: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    wait: bool = True
    name: str | None = None
    port: int | None = None
    serverless: dict[str, int] | None = None  # {"memory": MB, "concurrency": N}
    role: str | None = None
    bucket: str | None = None
    region: str | None = None
    dry_run: bool = False
    timeout: float | None = None


def check(options: DeployOptions, job: TrainedJob) -> str:
    """The mode, once every option is one it can serve with (one line otherwise)."""
    mode = options.mode or job.mode
    if mode not in modes.NAMES:
        raise EndpointError(f"mode {mode!r}: one of {', '.join(modes.NAMES)}")
    if options.name is not None and not NAME_RE.match(options.name):
        raise EndpointError(f"name {options.name!r}: letters, digits and hyphens, at most "
                            "63, starting with a letter or digit")
    if options.framework is not None and options.framework not in FRAMEWORKS:
        raise EndpointError(f"framework {options.framework!r}: one of {', '.join(FRAMEWORKS)}"
                            " (or none: detected from what model_fn returns)")
    if not isinstance(options.instance_count, int) or options.instance_count < 1:
        raise EndpointError(f"instance_count {options.instance_count!r}: a whole number ≥ 1")
    if options.port is not None and not (0 < options.port < 65536):
        raise EndpointError(f"port {options.port!r}: 1 to 65535")
    if options.port is not None and mode == "sagemaker":
        raise EndpointError("port: only local and container endpoints have one")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in options.env.items()):
        raise EndpointError("env: a dict of str to str")
    for key, value in options.env.items():
        if not ENV_KEY_RE.match(key):
            raise EndpointError(f"env {key!r}: a name of letters, digits and _ not starting "
                                "with a digit")
        if is_secret_name(key) or is_secret_value(value):
            raise EndpointError(f"env {key}: looks like a credential; an endpoint's "
                                "environment is stored (and sent to CreateModel) in clear: "
                                "read it in the handlers from a secret store with the "
                                "endpoint's role")
    if mode == "sagemaker" and not (options.instance_type or options.serverless):
        raise EndpointError("instance_type: a SageMaker endpoint needs one, e.g. "
                            "instance_type='ml.m5.large', or serverless memory and "
                            "concurrency")
    if not options.dry_run:
        if not job.done:
            raise EndpointError(f"job {job.name} is still {job.status}: deploy it once it "
                                "has completed (job.wait())")
        if job.status != "Completed":
            raise EndpointError(f"job {job.name} is {job.status}: there is no trained model "
                                "to serve")
    return mode


class StatusEcho:
    """Prints an endpoint's status each time it changes, while a deploy waits on
    SageMaker (minutes), so a blocked cell says what it waits for."""

    def __init__(self, name: str):
        self.name, self.last = name, None

    def __call__(self, status: str) -> None:
        if status != self.last:
            print(f"endpoint {self.name}: {status}", flush=True)
            self.last = status


def deploy(job: TrainedJob, options: DeployOptions,
           on_status: Callable[[str], None] | None = None) -> Predictor | str:
    """Serve ``job``'s model with its script's handlers: the predictor once it answers
    (the plan's text for a dry run)."""
    mode = check(options, job)
    code = layout.job_code(job.directory, job.mode)
    script, source = layout.entry_source(options.entry_script or job.spec.entry_script, code)
    root = job.directory.parent / ENDPOINTS
    name = options.name or job.name
    record = EndpointRecord(
        name, mode, job.name, str(job.directory), script, options.framework, now(),
        status="Creating", job_mode=job.mode, source=str(source) if source else None,
        environment=dict(options.env), port=options.port or 0,
        instance_type=options.instance_type, instance_count=options.instance_count,
        serverless=options.serverless)
    if mode == "container":
        record.image = container_image(job, options)
    if mode == "sagemaker":
        return deploy_hosted(job, record, root / name, code, options,
                             on_status or StatusEcho(name))
    if options.dry_run:
        return local_plan(record)
    folder = root / name
    check_free(folder)
    start_on_this_machine(record, folder, job.model_tarball(), code, options.timeout)
    return Predictor(folder)


def container_image(job: TrainedJob, options: DeployOptions) -> str:
    """``image=``, else the job's own image (an alias: its serving sibling in AWS's
    registry, as SageMaker would serve it)."""
    image = options.image or (job.spec.image if job.mode != "local" else None)
    if not image:
        raise EndpointError(f"image: serving local job {job.name} in a container needs an "
                            "image, e.g. image='smnb-test/sklearn:1' (any image with "
                            "python3, or one with a `serve`)")
    return serving_image(image, options.region or job.spec.region,
                         options.instance_type or job.spec.effective_instance_type)


def serving_image(image: str, region: str | None, instance_type: str | None) -> str:
    from ..catalog import images

    if not images.is_alias(image):
        return images.inference_image(image)
    if not region:
        from ..backends.aws import configured_region

        region = configured_region()
    if not region:
        raise EndpointError(f"image {image} stands for AWS's image in a region, and no "
                            "region is set: region='us-east-1', or the image's full URI")
    try:
        uri = images.resolve(image, region, instance_type or "ml.m5.large")
    except Exception as exc:
        raise EndpointError(f"image {image}: {exc}") from None
    return images.inference_image(uri)


def local_plan(record: EndpointRecord) -> str:
    where = (f"in a container of {record.image} (`serve`, or sm_notebook's model server "
             "when it has none)" if record.mode == "container" else
             "by sm_notebook's model server with this kernel's Python")
    env = " ".join(f"{k}={v}" for k, v in mask_env(record.environment).items())
    return (f"{record.mode} endpoint {record.name}: job {record.job}'s model, served {where},"
            f" handlers from {record.script}" + (f"; environment {env}" if env else "")
            + f"; on 127.0.0.1:{record.port or '<a free port>'}")


def deploy_hosted(job: TrainedJob, record: EndpointRecord, folder: Path, code: Path,
                  options: DeployOptions, on_status: Callable[[str], None]) -> Predictor | str:
    from ..backends.sagemaker.backend import SageMakerBackend
    from . import hosted

    backend = SageMakerBackend(bucket=options.bucket, role=options.role or job.spec.role)
    record.region = options.region or job.spec.region or backend.aws.session(
        None).region_name
    if not record.region:
        raise EndpointError("region: no AWS region is configured; region='us-east-1', "
                            "or AWS_DEFAULT_REGION")
    image = options.image or job.spec.image
    if not image:
        raise EndpointError(f"image: job {job.name} names no image to serve from; give "
                            "image= (an ECR URI or an alias such as sklearn:1.2-1)")
    record.image = serving_image(image, record.region, options.instance_type)
    record.model_name = record.config_name = record.name  # V2's names: one per namespace
    if options.dry_run:
        record.model_data = f"s3://<bucket>/{record.name}/model.tar.gz"
        return hosted.plan_text(record, backend.role or "<role>")
    check_free(folder)
    role, bucket = hosted_account(backend, record.region)
    hosted.start_hosted(record, folder, job.model_tarball(), code, backend.aws, role, bucket,
                        options.wait, options.timeout or hosted.START_TIMEOUT, on_status)
    return Predictor(folder)


def hosted_account(backend: Any, region: str) -> tuple[str, str]:
    """The execution role and the bucket the model goes to (created as the SDK does)."""
    from ..errors import SmNotebookError

    try:
        identity = backend.identify(region)
        role = backend.role or backend.execution_role(identity["Arn"], region)
        bucket = backend.bucket_name(region)
        backend.ensure_bucket(backend.aws.client("s3", region), bucket, region)
    except SmNotebookError as exc:
        message = str(exc).removeprefix("--mode sagemaker: ")
        raise EndpointError(f"mode 'sagemaker': {message}") from None
    return role, bucket
