"""The hub-content fake answers plain boto3 over moto's HTTP server as SageMaker does, so
tests built on it exercise the real client path (shapes, errors, paging)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.core.utils import method_names_from_class
from moto.sagemaker.responses import SageMakerResponse

from tests.fakes.hub_service import (
    GPU_IMAGE,
    OPERATIONS,
    PUBLIC_HUB,
    SCHEMA_VERSION,
    HubService,
    training_document,
)

XGB = "xgboost-classification-model"
LGB = "lightgbm-classification-model"
CAT = "catboost-regression-model"
PUBLIC_ARN = "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model"


def _client() -> Any:
    """No retries: an error answer must come back at once, not after botocore's backoff."""
    return boto3.client("sagemaker", region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1}))


@pytest.fixture
def hub(aws: str) -> Iterator[HubService]:
    """Three models in the public hub, XGBoost in two versions (1.10.0 sorts after 1.9.0
    only semantically), and one in a private hub."""
    service = HubService(aws)
    service.add_model(XGB, training_document(), version="1.9.0",
                      keywords=("@task:classification",), display_name="XGBoost Classification",
                      description="Old XGBoost")
    service.add_model(XGB, training_document(TrainingVolumeSize=50), version="1.10.0",
                      keywords=("@task:classification", "@framework:xgboost"),
                      display_name="XGBoost Classification", description="XGBoost")
    service.add_model(LGB, training_document(TrainingEcrUri="lgb:1"), version="2.0.0")
    service.add_model(CAT, training_document(), version="1.0.0")
    service.add_model("team-model", {"TrainingSupported": False}, hub="team-hub")
    yield service
    service.close()


def _error(call: Any, **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response


def test_describe_answers_the_latest_version_by_semantic_order(hub: HubService) -> None:
    answer = _client().describe_hub_content(HubName=PUBLIC_HUB, HubContentType="Model",
                                            HubContentName=XGB)
    assert answer["HubContentVersion"] == "1.10.0"
    assert answer["HubContentArn"] == f"{PUBLIC_ARN}/{XGB}/1.10.0"
    assert answer["HubArn"] == "arn:aws:sagemaker:us-east-1:aws:hub/SageMakerPublicHub"
    assert {k: answer[k] for k in ("HubContentName", "HubContentType", "DocumentSchemaVersion",
                                   "HubName", "HubContentDisplayName", "HubContentDescription",
                                   "HubContentSearchKeywords", "HubContentStatus")} == {
        "HubContentName": XGB, "HubContentType": "Model",
        "DocumentSchemaVersion": SCHEMA_VERSION, "HubName": PUBLIC_HUB,
        "HubContentDisplayName": "XGBoost Classification", "HubContentDescription": "XGBoost",
        "HubContentSearchKeywords": ["@task:classification", "@framework:xgboost"],
        "HubContentStatus": "Available"}
    assert isinstance(answer["CreationTime"], datetime)
    assert isinstance(answer["HubContentDocument"], str)
    assert json.loads(answer["HubContentDocument"]) == training_document(TrainingVolumeSize=50)
    assert hub.requests[-1] == {"operation": "DescribeHubContent", "params": {
        "HubName": PUBLIC_HUB, "HubContentType": "Model", "HubContentName": XGB}}


def test_describe_answers_a_given_version_and_accepts_the_hub_arn(hub: HubService) -> None:
    answer = _client().describe_hub_content(
        HubName="arn:aws:sagemaker:us-east-1:aws:hub/SageMakerPublicHub",
        HubContentType="Model", HubContentName=XGB, HubContentVersion="1.9.0")
    assert answer["HubContentVersion"] == "1.9.0"
    assert answer["HubContentDescription"] == "Old XGBoost"
    assert json.loads(answer["HubContentDocument"])["TrainingVolumeSize"] == 30


def test_a_private_hub_is_the_account_s(hub: HubService) -> None:
    answer = _client().describe_hub_content(HubName="team-hub", HubContentType="Model",
                                            HubContentName="team-model")
    assert answer["HubContentArn"] == ("arn:aws:sagemaker:us-east-1:123456789012:hub-content/"
                                       "team-hub/Model/team-model/1.0.0")
    assert answer["HubArn"] == "arn:aws:sagemaker:us-east-1:123456789012:hub/team-hub"
    assert answer["HubContentDisplayName"] == "team-model"
    assert json.loads(answer["HubContentDocument"]) == {"TrainingSupported": False}


@pytest.mark.parametrize(("params", "message"), [
    ({"HubContentName": "no-such-model"},
     "Hub content no-such-model of type Model not found in hub SageMakerPublicHub"),
    ({"HubContentName": XGB, "HubContentVersion": "9.9.9"}, "version 9.9.9 not found"),
    ({"HubContentName": XGB, "HubName": "no-such-hub"}, "Hub no-such-hub does not exist"),
    ({"HubContentName": XGB, "HubContentType": "Notebook"}, "of type Notebook not found"),
])
def test_unknown_content_is_resource_not_found(hub: HubService, params: dict[str, str],
                                               message: str) -> None:
    response = _error(_client().describe_hub_content,
                      **{"HubName": PUBLIC_HUB, "HubContentType": "Model", **params})
    assert response["Error"]["Code"] == "ResourceNotFound"
    assert message in response["Error"]["Message"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_list_pages_the_latest_version_of_each_model(hub: HubService) -> None:
    client, pages, token = _client(), [], None
    while True:
        page = client.list_hub_contents(HubName=PUBLIC_HUB, HubContentType="Model",
                                        MaxResults=2, **({"NextToken": token} if token else {}))
        pages.append([(s["HubContentName"], s["HubContentVersion"])
                      for s in page["HubContentSummaries"]])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [[(CAT, "1.0.0"), (LGB, "2.0.0")], [(XGB, "1.10.0")]]
    summary = page["HubContentSummaries"][0]
    shape = client.meta.service_model.shape_for("HubContentInfo")
    assert set(summary) <= set(shape.members) and set(shape.required_members) <= set(summary)
    assert summary["HubContentArn"] == f"{PUBLIC_ARN}/{XGB}/1.10.0"
    assert summary["HubContentDescription"] == "XGBoost"
    assert "HubContentDocument" not in summary
    assert [r["operation"] for r in hub.requests] == ["ListHubContents"] * 2
    response = _error(client.list_hub_contents, HubName=PUBLIC_HUB, HubContentType="Model",
                      NextToken="not a token")
    assert response["Error"]["Code"] == "ValidationException"


def test_list_filters_and_sorts(hub: HubService) -> None:
    client = _client()

    def names(**params: Any) -> list[str]:
        page = client.list_hub_contents(**{"HubName": PUBLIC_HUB, "HubContentType": "Model",
                                           **params})
        return [s["HubContentName"] for s in page["HubContentSummaries"]]

    assert names(NameContains="classification") == [LGB, XGB]
    assert names(NameContains="XGBoost") == [XGB]
    assert names(SortBy="CreationTime", SortOrder="Descending") == [CAT, LGB, XGB]
    assert names(CreationTimeAfter=datetime.now(UTC) + timedelta(hours=1)) == []
    assert names(HubContentType="Notebook") == []
    response = _error(client.list_hub_contents, HubName="no-such-hub", HubContentType="Model")
    assert response["Error"]["Code"] == "ResourceNotFound"


def test_list_versions(hub: HubService) -> None:
    client = _client()
    page = client.list_hub_content_versions(HubName=PUBLIC_HUB, HubContentType="Model",
                                            HubContentName=XGB)
    assert [s["HubContentVersion"] for s in page["HubContentSummaries"]] == ["1.9.0", "1.10.0"]
    page = client.list_hub_content_versions(HubName=PUBLIC_HUB, HubContentType="Model",
                                            HubContentName=XGB, MinVersion="1.10.0")
    assert [s["HubContentVersion"] for s in page["HubContentSummaries"]] == ["1.10.0"]


def test_close_restores_moto(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def ours(response: Any) -> Any:
        raise AssertionError("not ours to answer")

    monkeypatch.setattr(SageMakerResponse, "list_hub_contents", ours, raising=False)
    with HubService() as service:
        service.add_model(XGB, training_document())
        _client().describe_hub_content(HubName=PUBLIC_HUB, HubContentType="Model",
                                       HubContentName=XGB)
    assert SageMakerResponse.list_hub_contents is ours
    assert "describe_hub_content" not in method_names_from_class(SageMakerResponse)
    assert "list_hub_content_versions" not in method_names_from_class(SageMakerResponse)
    response = _error(_client().describe_hub_content, HubName=PUBLIC_HUB,
                      HubContentType="Model", HubContentName=XGB)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 500  # moto: not implemented
    service.close()  # a second close changes nothing
    assert SageMakerResponse.list_hub_contents is ours


def test_operations_are_botocore_s() -> None:
    names = boto3.client("sagemaker", region_name="us-east-1").meta.service_model.operation_names
    assert set(OPERATIONS.values()) <= set(names)


def test_training_document_is_jumpstart_shaped() -> None:
    document = training_document()
    for key in ("ModelTypes", "Url", "TrainingSupported", "IncrementalTrainingSupported"):
        assert key in document  # required by sagemaker-core's HubContentDocument
    assert document["TrainingSupported"] is True
    assert document["DefaultTrainingInstanceType"] == "ml.m5.xlarge"
    assert document["SupportedTrainingInstanceTypes"] == [
        "ml.m5.large", "ml.m5.xlarge", "ml.c5.2xlarge", "ml.p3.2xlarge"]
    hyper = {h["Name"]: h for h in document["Hyperparameters"]}
    assert hyper["num_boost_round"] == {"Name": "num_boost_round", "Type": "int",
                                        "Default": 5000, "Min": 1, "Max": 700000,
                                        "Scope": "algorithm"}
    assert hyper["learning_rate"]["Default"] == 0.3
    assert hyper["early_stopping_rounds"]["Default"] == 30
    assert {n for n, h in hyper.items() if h["Scope"] == "container"} == {
        "sagemaker_submit_directory", "sagemaker_program", "sagemaker_container_log_level"}
    assert all(h["Type"] in ("int", "float", "text", "bool") for h in hyper.values())
    p3 = document["TrainingInstanceTypeVariants"]["Variants"]["p3"]["Properties"]
    assert p3["ImageUri"] == GPU_IMAGE
    assert p3["Hyperparameters"][0]["name"] == "tree_method"
    assert p3["Hyperparameters"][0]["default"] == "gpu_hist"
    assert document["TrainingMetrics"] == [{"Name": "xgboost:validation-auc",
                                            "Regex": "validation-auc:([0-9\\.]+)"}]
    assert document["HostingEcrUri"] and document["HostingArtifactUri"]
    changed = training_document(TrainingEcrUri="other:1", GatedBucket=True)
    assert (changed["TrainingEcrUri"], changed["GatedBucket"]) == ("other:1", True)
    changed["Hyperparameters"].clear()
    assert training_document()["Hyperparameters"]  # each call builds a fresh document
    json.dumps(document)  # a HubContentDocument travels as JSON
