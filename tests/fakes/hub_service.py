"""SageMaker's JumpStart hub-content API as the tests need it, on moto's AWS API server.

moto 5.2.5 has no hub APIs at all (``DescribeHubContent`` answers "not implemented").  A
``HubService`` patches moto's ``SageMakerResponse`` so the same HTTP server answers
``DescribeHubContent``, ``ListHubContents`` and ``ListHubContentVersions`` for plain boto3
``sagemaker`` clients, from models the test adds, shaped as botocore's model has them:
the document a JSON *string*, the latest version by semantic order, ``NextToken`` paging,
and ``ResourceNotFound`` (HTTP 400) for an unknown hub, model or version.
``training_document`` builds a ``HubContentDocument`` as JumpStart writes one (the field
names of sagemaker-core's ``jumpstart/models.py``) for a small XGBoost-like model.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.sagemaker.responses import SageMakerResponse

PUBLIC_HUB = "SageMakerPublicHub"
SCHEMA_VERSION = "2.3.0"
MODEL = "Model"
DEFAULT_MAX_RESULTS = 100
OPERATIONS = {"describe_hub_content": "DescribeHubContent",
              "list_hub_contents": "ListHubContents",
              "list_hub_content_versions": "ListHubContentVersions"}
_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_VERSION = re.compile(r"\d{1,4}\.\d{1,4}\.\d{1,4}")

CPU_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/xgboost-training:1.7-1-cpu"
GPU_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/xgboost-training:1.7-1-gpu"
CACHE = "s3://jumpstart-cache-prod-us-east-1"


def _version_key(version: str) -> tuple[int, ...]:
    """Semantic order: 1.10.0 comes after 1.9.0, which string order gets wrong."""
    return tuple(int(part) for part in version.split("."))


def _hub_name(name_or_arn: str) -> str:
    """HubName may be the hub's ARN (``arn:...:hub/NAME``), as the service accepts."""
    return name_or_arn.rsplit("hub/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def _utc(value: datetime) -> datetime:
    """moto parses request timestamps to naive UTC; ours are aware."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _not_found(message: str) -> JsonRESTError:
    return JsonRESTError("ResourceNotFound", message)


@dataclass
class HubContent:
    """One version of one model in one hub, as added by the test."""

    hub: str
    name: str
    version: str
    document: str
    display_name: str
    description: str
    keywords: list[str]
    creation_time: datetime
    content_type: str = MODEL
    schema_version: str = SCHEMA_VERSION
    status: str = "Available"

    def hub_arn(self, region: str, account: str) -> str:
        owner = "aws" if self.hub == PUBLIC_HUB else account
        return f"arn:aws:sagemaker:{region}:{owner}:hub/{self.hub}"

    def arn(self, region: str, account: str) -> str:
        owner = "aws" if self.hub == PUBLIC_HUB else account
        return (f"arn:aws:sagemaker:{region}:{owner}:hub-content/{self.hub}/"
                f"{self.content_type}/{self.name}/{self.version}")

    def info(self, region: str, account: str) -> dict[str, Any]:
        """botocore's ``HubContentInfo``: what the List* calls give for each entry."""
        return {"HubContentName": self.name, "HubContentArn": self.arn(region, account),
                "HubContentVersion": self.version, "HubContentType": self.content_type,
                "DocumentSchemaVersion": self.schema_version,
                "HubContentDisplayName": self.display_name,
                "HubContentDescription": self.description,
                "HubContentSearchKeywords": list(self.keywords),
                "HubContentStatus": self.status, "CreationTime": self.creation_time}

    def describe(self, region: str, account: str) -> dict[str, Any]:
        """botocore's ``DescribeHubContentResponse``."""
        return {**self.info(region, account), "HubName": self.hub,
                "HubArn": self.hub_arn(region, account), "HubContentDocument": self.document,
                "LastModifiedTime": self.creation_time}


class HubService:
    """Answers the hub-content calls on moto's server while open; ``close()`` restores
    moto's own handlers (none, in moto 5.2.5) so later tests see moto as it was."""

    def __init__(self, aws_endpoint: str | None = None):
        self.endpoint = aws_endpoint
        self.contents: dict[tuple[str, str, str], dict[str, HubContent]] = {}
        self.hubs: set[str] = set()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._clock = datetime.now(UTC)
        self._originals = {name: SageMakerResponse.__dict__.get(name) for name in OPERATIONS}
        for name, operation in OPERATIONS.items():
            setattr(SageMakerResponse, name, self._handler(operation, getattr(self, f"_{name}")))
        self._open = True

    def __enter__(self) -> HubService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        for name, original in self._originals.items():
            if original is None:
                delattr(SageMakerResponse, name)
            else:
                setattr(SageMakerResponse, name, original)

    def client(self) -> Any:
        """A plain boto3 SageMaker client for the server (the environment's if no endpoint)."""
        if self.endpoint is None:
            return boto3.client("sagemaker", region_name="us-east-1")
        return boto3.client("sagemaker", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def add_model(self, model_id: str, document: dict[str, Any], version: str = "1.0.0",
                  hub: str = PUBLIC_HUB, keywords: tuple[str, ...] | list[str] = (),
                  display_name: str | None = None, description: str = "") -> HubContent:
        """Adds (or replaces) one version of a Model; the hub is known from then on."""
        if not _NAME.fullmatch(model_id) or not _NAME.fullmatch(hub):
            raise ValueError(f"not a hub content or hub name the service accepts: "
                             f"{model_id!r}, {hub!r}")
        if not _VERSION.fullmatch(version):
            raise ValueError(f"not a hub content version (d.d.d): {version!r}")
        with self._lock:
            self._clock = max(datetime.now(UTC), self._clock + timedelta(milliseconds=1))
            content = HubContent(hub=hub, name=model_id, version=version,
                                 document=json.dumps(document),
                                 display_name=model_id if display_name is None else display_name,
                                 description=description, keywords=list(keywords),
                                 creation_time=self._clock)
            self.hubs.add(hub)
            self.contents.setdefault((hub, MODEL, model_id), {})[version] = content
        return content

    def _handler(self, operation: str, answer: Any) -> Any:
        service = self

        def handle(response: SageMakerResponse) -> ActionResult:
            params = dict(response.params)
            with service._lock:
                service.requests.append({"operation": operation, "params": params})
                return ActionResult(answer(params, response.region, response.current_account))

        handle.__name__ = operation
        return handle

    def _versions(self, params: dict[str, Any]) -> dict[str, HubContent]:
        hub, kind, name = _hub_name(params["HubName"]), params["HubContentType"], \
            params["HubContentName"]
        self._known_hub(hub)
        versions = self.contents.get((hub, kind, name))
        if not versions:
            raise _not_found(f"Hub content {name} of type {kind} not found in hub {hub}")
        return versions

    def _known_hub(self, hub: str) -> None:
        if hub not in self.hubs:
            raise _not_found(f"Hub {hub} does not exist")

    def _describe_hub_content(self, params: dict[str, Any], region: str,
                              account: str) -> dict[str, Any]:
        versions = self._versions(params)
        version = params.get("HubContentVersion")
        if version is None:
            version = max(versions, key=_version_key)
        elif version not in versions:
            raise _not_found(f"Hub content {params['HubContentName']} of type "
                             f"{params['HubContentType']} and version {version} not found "
                             f"in hub {_hub_name(params['HubName'])}")
        return versions[version].describe(region, account)

    def _list_hub_contents(self, params: dict[str, Any], region: str,
                           account: str) -> dict[str, Any]:
        hub, kind = _hub_name(params["HubName"]), params["HubContentType"]
        self._known_hub(hub)
        latest = [versions[max(versions, key=_version_key)]
                  for (h, k, _), versions in self.contents.items() if (h, k) == (hub, kind)]
        contains = (params.get("NameContains") or "").lower()
        latest = [c for c in latest if contains in c.name.lower()]
        return self._page(latest, params, region, account)

    def _list_hub_content_versions(self, params: dict[str, Any], region: str,
                                   account: str) -> dict[str, Any]:
        hub, kind = _hub_name(params["HubName"]), params["HubContentType"]
        self._known_hub(hub)
        versions = list(self.contents.get((hub, kind, params["HubContentName"]), {}).values())
        if params.get("MinVersion"):
            least = _version_key(params["MinVersion"])
            versions = [c for c in versions if _version_key(c.version) >= least]
        return self._page(versions, params, region, account)

    def _page(self, items: list[HubContent], params: dict[str, Any], region: str,
              account: str) -> dict[str, Any]:
        """Filters, sorts and pages as the List* calls do (by name, then version, unless
        ``SortBy`` says otherwise); the token is the next entry's offset."""
        if params.get("MaxSchemaVersion"):
            most = _version_key(params["MaxSchemaVersion"])
            items = [c for c in items if _version_key(c.schema_version) <= most]
        if params.get("CreationTimeBefore"):
            items = [c for c in items if c.creation_time < _utc(params["CreationTimeBefore"])]
        if params.get("CreationTimeAfter"):
            items = [c for c in items if c.creation_time > _utc(params["CreationTimeAfter"])]
        sort_by = params.get("SortBy") or "HubContentName"
        keys = {"HubContentName": lambda c: (c.name, _version_key(c.version)),
                "CreationTime": lambda c: (c.creation_time, c.name),
                "HubContentStatus": lambda c: (c.status, c.name, _version_key(c.version))}
        items.sort(key=keys[sort_by], reverse=params.get("SortOrder") == "Descending")
        start = 0
        if params.get("NextToken"):
            try:
                start = int(base64.urlsafe_b64decode(params["NextToken"]).decode())
            except ValueError as exc:
                raise JsonRESTError("ValidationException", "Invalid NextToken") from exc
        end = start + int(params.get("MaxResults") or DEFAULT_MAX_RESULTS)
        answer: dict[str, Any] = {"HubContentSummaries": [
            c.info(region, account) for c in items[start:end]]}
        if end < len(items):
            answer["NextToken"] = base64.urlsafe_b64encode(str(end).encode()).decode()
        return answer


def training_document(**overrides: Any) -> dict[str, Any]:
    """A ``HubContentDocument`` as JumpStart's public hub has one for a small XGBoost
    classification model; ``overrides`` replace top-level keys."""
    container = [
        {"Name": "sagemaker_submit_directory", "Type": "text",
         "Default": "/opt/ml/input/data/code/sourcedir.tar.gz", "Scope": "container"},
        {"Name": "sagemaker_program", "Type": "text", "Default": "transfer_learning.py",
         "Scope": "container"},
        {"Name": "sagemaker_container_log_level", "Type": "text", "Default": "20",
         "Scope": "container"}]
    document: dict[str, Any] = {
        "ModelTypes": ["OPEN_WEIGHTS"],
        "Url": "https://xgboost.readthedocs.io/en/release_1.7.0/",
        "MinSdkVersion": "2.189.0",
        "Task": "classification", "Framework": "xgboost", "DataType": "tabular",
        "ResourceNameBase": "xgboost-classification-model",
        "Capabilities": ["TRAINING", "VALIDATION"],
        "TrainingSupported": True, "IncrementalTrainingSupported": False,
        "FineTuningSupported": False, "ValidationSupported": True, "GatedBucket": False,
        "TrainingEcrUri": CPU_IMAGE,
        "TrainingScriptUri": f"{CACHE}/source-directory-tarballs/xgboost/transfer_learning/"
                             "classification/v1.1.0/sourcedir.tar.gz",
        "TrainingArtifactUri": f"{CACHE}/xgboost-training/"
                               "train-xgboost-classification-model.tar.gz",
        "TrainingDependencies": [],
        "Hyperparameters": [
            {"Name": "num_boost_round", "Type": "int", "Default": 5000, "Min": 1,
             "Max": 700000, "Scope": "algorithm"},
            {"Name": "early_stopping_rounds", "Type": "int", "Default": 30, "Min": 1,
             "Max": 5000, "Scope": "algorithm"},
            {"Name": "learning_rate", "Type": "float", "Default": 0.3, "Min": 1e-20, "Max": 1,
             "Scope": "algorithm"},
            {"Name": "gamma", "Type": "float", "Default": 0, "Min": 0, "Scope": "algorithm"},
            {"Name": "max_depth", "Type": "int", "Default": 6, "Min": 1, "Scope": "algorithm"},
            {"Name": "subsample", "Type": "float", "Default": 1, "Min": 1e-20, "Max": 1,
             "Scope": "algorithm"},
            {"Name": "tree_method", "Type": "text", "Default": "auto",
             "Options": ["auto", "exact", "approx", "hist", "gpu_hist"], "Scope": "algorithm"},
            {"Name": "use_dask_gpu_training", "Type": "text", "Default": "False",
             "Options": ["True", "False"], "Scope": "algorithm"},
            *container],
        "DefaultTrainingInstanceType": "ml.m5.xlarge",
        "SupportedTrainingInstanceTypes": ["ml.m5.large", "ml.m5.xlarge", "ml.c5.2xlarge",
                                           "ml.p3.2xlarge"],
        "TrainingInstanceTypeVariants": {
            "Aliases": {"cpu_ecr_uri_1": CPU_IMAGE, "gpu_ecr_uri_1": GPU_IMAGE},
            "Variants": {
                "p3": {"Properties": {"ImageUri": GPU_IMAGE, "Hyperparameters": [
                    {"name": "tree_method", "type": "text", "default": "gpu_hist",
                     "options": ["auto", "exact", "approx", "hist", "gpu_hist"],
                     "scope": "algorithm"}]}},
                "m5": {"Properties": {"ImageUri": CPU_IMAGE}},
                "c5": {"Properties": {"ImageUri": CPU_IMAGE}}}},
        "DefaultTrainingDatasetUri": f"{CACHE}/training-datasets/tabular_binary/",
        "TrainingMetrics": [{"Name": "xgboost:validation-auc",
                             "Regex": "validation-auc:([0-9\\.]+)"}],
        "MaxRuntimeInSeconds": 360000,
        "TrainingEnableNetworkIsolation": False,
        "TrainingVolumeSize": 30,
        "EncryptInterContainerTraffic": False,
        "DisableOutputCompression": False,
        "HostingEcrUri": "763104351884.dkr.ecr.us-east-1.amazonaws.com/"
                         "xgboost-inference:1.7-1-cpu",
        "HostingArtifactUri": f"{CACHE}/xgboost-infer/infer-xgboost-classification-model.tar.gz",
        "HostingScriptUri": f"{CACHE}/source-directory-tarballs/xgboost/inference/"
                            "classification/v1.1.0/sourcedir.tar.gz",
        "HostingUseScriptUri": True,
        "InferenceDependencies": [],
        "InferenceEnvironmentVariables": [
            {"Name": "SAGEMAKER_PROGRAM", "Type": "text", "Default": "inference.py",
             "Scope": "container", "RequiredForModelClass": True},
            {"Name": "SAGEMAKER_SUBMIT_DIRECTORY", "Type": "text",
             "Default": "/opt/ml/model/code", "Scope": "container",
             "RequiredForModelClass": False}],
        "DefaultInferenceInstanceType": "ml.m5.large",
        "SupportedInferenceInstanceTypes": ["ml.m5.large", "ml.m5.xlarge", "ml.c5.xlarge"],
        "InferenceEnableNetworkIsolation": False,
    }
    return {**document, **overrides}
