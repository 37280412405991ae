"""SageMaker endpoints: the job's model repacked with its code under ``code/`` (V2's
layout) and uploaded, then ``CreateModel``, ``CreateEndpointConfig`` and
``CreateEndpoint``, followed to InService, or to Failed with its ``FailureReason`` and the
endpoint's CloudWatch lines.  A request that fails (quota, access, a bad image) removes
what was already created, so nothing is left half-made; ``delete`` removes all three.
Every request is checked against botocore's model first, and ``--dry-run`` prints them.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..backends.aws import reason
from ..backends.sagemaker.clients import AwsClients
from ..backends.sagemaker.follow import PRICES_FILE
from ..backends.sagemaker.prices import PriceLookup
from ..backends.sagemaker.request import validate_request
from ..catalog.pricing import PriceCache
from . import layout
from .local import now
from .record import EndpointError, EndpointRecord, PredictionError

POLL = 15.0  # seconds between DescribeEndpoint calls (SageMaker takes minutes)
START_TIMEOUT = 1800.0
LOG_GROUP = "/aws/sagemaker/Endpoints/{name}"
PRICE_WAIT = 3.0  # seconds the price list may take before the endpoint is shown without


def requests(record: EndpointRecord, role: str) -> dict[str, dict[str, Any]]:
    """The three requests, in order, each valid for botocore's model of the API."""
    environment = {"SAGEMAKER_PROGRAM": record.script,
                   "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                   "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
                   **({"SAGEMAKER_REGION": record.region} if record.region else {}),
                   **record.environment}
    variant: dict[str, Any] = {"VariantName": "AllTraffic", "ModelName": record.model_name}
    if record.serverless:
        variant["ServerlessConfig"] = {"MemorySizeInMB": record.serverless["memory"],
                                       "MaxConcurrency": record.serverless["concurrency"]}
    else:
        variant.update(InstanceType=record.instance_type,
                       InitialInstanceCount=record.instance_count)
    made = {
        "CreateModel": {"ModelName": record.model_name, "ExecutionRoleArn": role,
                        "PrimaryContainer": {"Image": record.image,
                                             "ModelDataUrl": record.model_data,
                                             "Environment": environment}},
        "CreateEndpointConfig": {"EndpointConfigName": record.config_name,
                                 "ProductionVariants": [variant]},
        "CreateEndpoint": {"EndpointName": record.name,
                           "EndpointConfigName": record.config_name},
    }
    for operation, request in made.items():
        try:
            validate_request(request, operation)
        except Exception as exc:  # botocore's ParamValidationError: one line per field
            raise EndpointError(f"{operation} would be refused: "
                                f"{' '.join(str(exc).split())}") from None
    return made


def plan_text(record: EndpointRecord, role: str) -> str:
    """``--dry-run``: the upload and the three requests, as they would be sent."""
    lines = [f"upload  {record.model_data}  (the job's model.tar.gz repacked with its code "
             "under code/)"]
    for operation, request in requests(record, role).items():
        lines.append(f"{operation} {json.dumps(request, indent=2)}")
    return "\n".join(lines)


class Hosting:
    """One region's SageMaker, S3, runtime and logs clients."""

    def __init__(self, aws: AwsClients, region: str):
        self.aws, self.region = aws, region

    def client(self, service: str) -> Any:
        return self.aws.client(service, self.region)

    def call(self, operation: str, what: str, **request: Any) -> dict[str, Any]:
        import botocore.exceptions

        method = getattr(self.client("sagemaker"), _snake(operation))
        try:
            return method(**request)
        except botocore.exceptions.NoCredentialsError:
            raise EndpointError(f"{operation} {what}: no AWS credentials found; configure "
                                "them (aws configure, AWS_PROFILE, or an instance role)"
                                ) from None
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            raise EndpointError(f"{operation} {what}: {reason(exc)}") from None


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def start_hosted(record: EndpointRecord, folder: Path, model_tarball: Path, code: Path,
                 aws: AwsClients, role: str, bucket: str, wait: bool = True,
                 timeout: float = START_TIMEOUT,
                 on_status: Callable[[str], None] = lambda status: None) -> EndpointRecord:
    """Repack and upload the model, create the three resources, follow the endpoint."""
    assert record.region is not None
    hosting = Hosting(aws, record.region)
    record.model_data = f"s3://{bucket}/{record.name}/model.tar.gz"
    made = requests(record, role)  # checked before anything is uploaded or created
    model = layout.lay_out(model_tarball, code, folder, record.script,
                           Path(record.source) if record.source else None)
    tarball = layout.repack(model, folder / "model.tar.gz")
    layout.clear(folder)
    _upload(hosting, tarball, bucket, f"{record.name}/model.tar.gz")
    record.status, record.created = "Creating", now()
    created: list[str] = []
    try:
        for operation, request in made.items():
            hosting.call(operation, _resource(operation, request), **request)
            created.append(operation)
            record.write(folder)
    except EndpointError:
        _delete(hosting, record, created)
        record.status = "Failed"
        record.write(folder)
        raise
    record.hourly_price = _price(aws, record, folder)
    record.write(folder)
    if wait:
        try:
            follow(record, folder, aws, timeout, on_status)
        except KeyboardInterrupt:
            raise EndpointError(f"interrupted; endpoint {record.name} keeps being created "
                                f"(and billed once InService): predictor = %sm_attach "
                                f"--endpoint {record.name}, then predictor.delete()") from None
    return record


def _resource(operation: str, request: dict[str, Any]) -> str:
    key = {"CreateModel": "ModelName", "CreateEndpointConfig": "EndpointConfigName",
           "CreateEndpoint": "EndpointName"}[operation]
    return request[key]


def _upload(hosting: Hosting, tarball: Path, bucket: str, key: str) -> None:
    import botocore.exceptions

    try:
        hosting.client("s3").upload_file(str(tarball), bucket, key)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError,
            OSError) as exc:
        raise EndpointError(f"uploading the model to s3://{bucket}/{key}: "
                            f"{reason(exc)}") from None


def _price(aws: AwsClients, record: EndpointRecord, folder: Path) -> float | None:
    if record.serverless or not record.instance_type:
        return None  # serverless bills per request and GB-second, not per hour
    lookup = PriceLookup(aws.session(record.region), record.region, record.instance_type,
                         PriceCache(folder.parent.parent / PRICES_FILE), usage="Host")
    lookup.wait(PRICE_WAIT)
    return lookup.result * record.instance_count if lookup.result is not None else None


def describe(record: EndpointRecord, aws: AwsClients) -> dict[str, Any]:
    assert record.region is not None
    return Hosting(aws, record.region).call("DescribeEndpoint", record.name,
                                            EndpointName=record.name)


def follow(record: EndpointRecord, folder: Path, aws: AwsClients, timeout: float,
           on_status: Callable[[str], None]) -> None:
    """Until InService; Failed raises with the reason and the endpoint's log lines."""
    deadline = time.monotonic() + timeout
    while True:
        described = describe(record, aws)
        status = described["EndpointStatus"]
        on_status(status)
        if status == "InService":
            record.status = "InService"
            record.write(folder)
            return
        if status == "Failed":
            record.status = "Failed"
            record.failure_reason = described.get("FailureReason") or "no reason given"
            record.write(folder)
            lines = " | ".join(log_lines(record, aws, 5)) or "no log lines"
            raise EndpointError(f"endpoint {record.name} failed: {record.failure_reason} "
                                f"(its log: {lines}); predictor.delete() removes it")
        if time.monotonic() > deadline:
            raise EndpointError(f"endpoint {record.name} is still {status} after "
                                f"{timeout:g} s; it keeps being created (%sm_endpoints)")
        time.sleep(POLL)


def state(record: EndpointRecord, aws: AwsClients) -> str:
    if record.status == "Deleted":
        return "Deleted"
    try:
        return describe(record, aws)["EndpointStatus"]
    except EndpointError as exc:
        if "Could not find" in str(exc) or "ValidationException" in str(exc):
            return "Deleted"
        return f"{record.status} (unreachable: {exc})"


def invoke(record: EndpointRecord, aws: AwsClients, body: bytes, content_type: str,
           accept: str | None) -> tuple[bytes, str | None]:
    import botocore.exceptions

    assert record.region is not None
    runtime = aws.client("sagemaker-runtime", record.region)
    try:
        reply = runtime.invoke_endpoint(EndpointName=record.name, Body=body,
                                        ContentType=content_type,
                                        **({"Accept": accept} if accept else {}))
    except botocore.exceptions.ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 500
        raise PredictionError(int(status), reason(exc)) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise PredictionError(503, f"endpoint {record.name} did not answer: {exc}") from None
    return reply["Body"].read(), reply.get("ContentType")


def log_lines(record: EndpointRecord, aws: AwsClients, tail: int | None) -> list[str]:
    """The endpoint's CloudWatch lines (every instance's stream), oldest first."""
    assert record.region is not None
    logs = aws.client("logs", record.region)
    lines: list[tuple[int, str]] = []
    with contextlib.suppress(Exception):  # no group yet, or no logs:FilterLogEvents
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=LOG_GROUP.format(name=record.name))
        for page in pages:
            lines += [(e["timestamp"], e["message"].rstrip()) for e in page.get("events", [])]
    ordered = [message for _, message in sorted(lines)]
    return ordered[-tail:] if tail else ordered


def stop_hosted(record: EndpointRecord, aws: AwsClients) -> None:
    """DeleteEndpoint, DeleteEndpointConfig, DeleteModel (each once it exists)."""
    assert record.region is not None
    _delete(Hosting(aws, record.region), record,
            ["CreateModel", "CreateEndpointConfig", "CreateEndpoint"])


def _delete(hosting: Hosting, record: EndpointRecord, created: list[str]) -> None:
    """Undo ``created`` in reverse; a resource already gone is fine."""
    undo = {"CreateEndpoint": ("DeleteEndpoint", {"EndpointName": record.name}),
            "CreateEndpointConfig": ("DeleteEndpointConfig",
                                     {"EndpointConfigName": record.config_name}),
            "CreateModel": ("DeleteModel", {"ModelName": record.model_name})}
    for operation in reversed(created):
        name, request = undo[operation]
        try:
            hosting.call(name, next(iter(request.values())), **request)
        except EndpointError as exc:
            if "Could not find" not in str(exc) and "does not exist" not in str(exc):
                raise
