"""What sagemaker mode sends: the CreateTrainingJob request, where the code and data go
in S3, and the ``--dry-run`` text, all built from a spec without calling AWS.

The backend sends exactly what the dry run prints: both come from these functions.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from ... import contract, distribution
from ...catalog import images
from ...spec import TrainingSpec
from ..toolkit import runs_image_train, sagemaker_hyperparameters

DEFAULT_VOLUME_GB = 30
DEFAULT_MAX_RUN = 86400
PLACEHOLDER_BUCKET = "sagemaker-{region}-{account}"
PLAIN_CODE_CHANNEL = "code"  # images run by the launcher get the code as a channel
PLAIN_CODE_DIR = f"/opt/ml/input/data/{PLAIN_CODE_CHANNEL}"
LAUNCHER_NAME = "sm_notebook_launcher.py"


def plain_code_s3_uri(bucket: str, name: str) -> str:
    return f"s3://{bucket}/{name}/input/{PLAIN_CODE_CHANNEL}"


def uses_launcher(spec: TrainingSpec) -> bool:
    """On SageMaker (where the kind is not detected: AWS's images have the toolkit)."""
    return not runs_image_train(spec, spec.image_kind or "toolkit")


def launch_settings(spec: TrainingSpec) -> dict[str, Any]:
    """What the launcher needs besides the ``input/config`` files (``contract.LAUNCH_FILE``
    in the code channel): under v3 the hyperparameters carry no ``sagemaker_*`` keys, as
    V3 sends none and they would reach ``SM_HPS``."""
    launch = spec.launch
    driver = launch.driver if launch else None
    return {"entry_point": spec.entry_script, "hp_style": spec.hp_style,
            "processes_per_host": spec.launched_processes, "command": spec.command,
            "driver": driver, "driver_config": launch.config if launch and driver else None}


def drivers_s3_uri(bucket: str, name: str) -> str:
    """Where a driver run's ``sm_drivers`` channel is uploaded."""
    return f"s3://{bucket}/{name}/input/{distribution.DRIVERS_CHANNEL}"


def code_in_channel(spec: TrainingSpec) -> bool:
    """The code comes as the ``code`` input channel: for sm_notebook's launcher, and when
    the containers may not reach S3 (network isolation), as the V2 SDK does then."""
    return uses_launcher(spec) or spec.network_isolation


def code_location(spec: TrainingSpec, bucket: str, name: str) -> str:
    """Where the job's ``sourcedir.tar.gz`` is: in S3 for the toolkit to fetch, or in the
    code channel."""
    if code_in_channel(spec):
        return f"{PLAIN_CODE_DIR}/sourcedir.tar.gz"
    return code_s3_uri(bucket, name)


def code_s3_uri(bucket: str, name: str) -> str:
    return f"s3://{bucket}/{name}/source/sourcedir.tar.gz"


def channel_s3_uri(spec_source: str, bucket: str, name: str, channel: str) -> str:
    """Where a channel's data lives in S3 (local paths are uploaded under the job)."""
    return spec_source if spec_source.startswith("s3://") else \
        f"s3://{bucket}/{name}/input/{channel}"


def create_training_job_request(spec: TrainingSpec, name: str, *, bucket: str, region: str,
                                role: str | None) -> dict[str, Any]:
    """The CreateTrainingJob request for a spec (V2 script-mode layout)."""
    algorithm: dict[str, Any] = {"TrainingImage": spec.image or "<--image required>",
                                 "TrainingInputMode": "File"}
    if spec.metrics:
        algorithm["MetricDefinitions"] = [{"Name": m.name, "Regex": m.regex}
                                          for m in spec.metrics]
        algorithm["EnableSageMakerMetricsTimeSeries"] = True
    resource: dict[str, Any] = {"InstanceType": spec.effective_instance_type,
                                "InstanceCount": spec.instance_count,
                                "VolumeSizeInGB": spec.volume_gb or DEFAULT_VOLUME_GB}
    if spec.keep_alive is not None:
        resource["KeepAlivePeriodInSeconds"] = spec.keep_alive
    stopping: dict[str, Any] = {"MaxRuntimeInSeconds": spec.max_run or DEFAULT_MAX_RUN}
    if spec.max_wait is not None:
        stopping["MaxWaitTimeInSeconds"] = spec.max_wait
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": algorithm,
        "RoleArn": role or "<--role required>",
        "HyperParameters": sagemaker_hyperparameters(spec, name, code_location(spec, bucket,
                                                                               name), region),
        "OutputDataConfig": {"S3OutputPath": spec.output or f"s3://{bucket}/"},
        "ResourceConfig": resource,
        "StoppingCondition": stopping,
    }
    channels = [_channel(c.name, channel_s3_uri(c.source, bucket, name, c.name),
                         c.content_type, accept_eula=spec.accept_eula) for c in spec.channels]
    if uses_launcher(spec):  # sm_notebook's launcher, from the code channel
        algorithm["ContainerEntrypoint"] = ["python3", f"{PLAIN_CODE_DIR}/{LAUNCHER_NAME}"]
        algorithm["ContainerArguments"] = ["--sagemaker"]
    if code_in_channel(spec):
        channels.append(_channel(PLAIN_CODE_CHANNEL, plain_code_s3_uri(bucket, name), None))
    if distribution.is_driver(spec.distribution):  # V3's channel of the drivers
        channels.append(_channel(distribution.DRIVERS_CHANNEL, drivers_s3_uri(bucket, name),
                                 None))
    if spec.subnets:
        request["VpcConfig"] = {"Subnets": list(spec.subnets),
                                "SecurityGroupIds": list(spec.security_groups)}
    if spec.network_isolation:
        request["EnableNetworkIsolation"] = True
    if channels:
        request["InputDataConfig"] = channels
    if spec.spot:
        request["EnableManagedSpotTraining"] = True
    if spec.checkpoint_s3:
        request["CheckpointConfig"] = {"S3Uri": spec.checkpoint_s3,
                                       "LocalPath": str(contract.Layout().checkpoints_dir)}
    if spec.environment:
        request["Environment"] = dict(spec.environment)
    if spec.tags:
        request["Tags"] = [{"Key": k, "Value": v} for k, v in spec.tags.items()]
    return request


def _channel(name: str, uri: str, content_type: str | None, accept_eula: bool = False
             ) -> dict[str, Any]:
    """An S3 input channel; ``accept_eula``: a gated JumpStart model's license accepted, so
    the service lets the job read its artifacts (V3's ``ModelAccessConfig``)."""
    source: dict[str, Any] = {"S3DataType": "S3Prefix", "S3Uri": uri,
                              "S3DataDistributionType": "FullyReplicated"}
    if accept_eula:
        source["ModelAccessConfig"] = {"AcceptEula": True}
    channel: dict[str, Any] = {"ChannelName": name, "DataSource": {"S3DataSource": source}}
    if content_type:
        channel["ContentType"] = content_type
    return channel


def validate_request(request: dict[str, Any], operation: str = "CreateTrainingJob",
                     service: str = "sagemaker") -> None:
    """Check a request against botocore's model of the service (no network)."""
    import botocore.session
    from botocore.validate import validate_parameters

    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(operation).input_shape
    validate_parameters(request, shape)


def describe_plan(spec: TrainingSpec, name: str, base: Path) -> str:
    """Text for ``--dry-run`` in sagemaker mode."""
    region = spec.region or "<region>"
    bucket = PLACEHOLDER_BUCKET.format(region=region, account="<account>")
    if spec.image and spec.region and images.is_alias(spec.image):
        spec = dataclasses.replace(spec, image=images.resolve(spec.image, spec.region,
                                                              spec.effective_instance_type))
    request = create_training_job_request(spec, name, bucket=bucket, region=region,
                                          role=spec.role)
    code = (f"{plain_code_s3_uri(bucket, name)}/sourcedir.tar.gz" if code_in_channel(spec)
            else code_s3_uri(bucket, name))
    if distribution.is_driver(spec.distribution):  # the files themselves, as V3 has them
        code = f"{plain_code_s3_uri(bucket, name)}/"
    uploads = [f"upload  {code}  (the cell"
               + (f" + {spec.source_dir}" if spec.source_dir else "") + ")"]
    if distribution.is_driver(spec.distribution):
        uploads.append(f"upload  {drivers_s3_uri(bucket, name)}/  ({spec.distribution}, "
                       f"{distribution.CONFIG_FILE})")
    uploads += [f"upload  {channel_s3_uri(c.source, bucket, name, c.name)}  ({c.source})"
                for c in spec.channels if not c.is_s3]
    if spec.queue is None:
        return "\n".join([*uploads, "CreateTrainingJob " + json.dumps(request, indent=2)])
    from .queue import submit_request  # its payload shown as JSON: sent as a string

    submit = submit_request(request, spec, name)
    shown = {**submit, "serviceRequestPayload": json.loads(submit["serviceRequestPayload"])}
    return "\n".join([*uploads, "SubmitServiceJob " + json.dumps(shown, indent=2)])
