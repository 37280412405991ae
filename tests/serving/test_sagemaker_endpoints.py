"""SageMaker endpoints on moto's server, driven over HTTP by plain boto3: the repacked
model uploaded, CreateModel / CreateEndpointConfig / CreateEndpoint sent and followed,
InvokeEndpoint answered by the repacked script's own handlers (tests/fakes/hosting_service),
a failure's reason and log lines, a quota error rolled back, delete removing all three."""

from __future__ import annotations

import io
import json
import tarfile
import time

import boto3
import pytest
from moto.core.exceptions import JsonRESTError
from moto.sagemaker.responses import SageMakerResponse

from sm_notebook.serving import hosted
from sm_notebook.serving.record import EndpointError, PredictionError
from tests.fakes.hosting_service import Hosting
from tests.fakes.pricing_service import PriceListService, product
from tests.serving.scripts import weights_script

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
BUCKET = "sagemaker-us-east-1-123456789012"
SCRIPT = weights_script(3.0)


@pytest.fixture
def hosting(aws, monkeypatch):
    monkeypatch.setattr(hosted, "POLL", 0.1)
    served = Hosting()
    yield served
    served.restore()


@pytest.fixture
def price_list(aws, monkeypatch):
    served = PriceListService([product("us-east-1", "Host:ml.m5.xlarge", 0.269, "HOST"),
                               product("us-east-1", "Train:ml.m5.xlarge", 0.23, "TRAIN")])
    monkeypatch.setenv("AWS_ENDPOINT_URL_PRICING", served.endpoint)
    yield served
    served.close()


@pytest.fixture
def trained(ip):
    ip.run_cell_magic("sm_train", "job --job-name hosted --wait --quiet", SCRIPT)
    return ip.user_ns["job"]


def deploy(job, **more):
    return job.deploy(mode="sagemaker", instance_type="ml.m5.xlarge", image=IMAGE, role=ROLE,
                      **more)


def test_a_local_job_is_repacked_uploaded_created_served_and_deleted(trained, hosting,
                                                                       price_list):
    predictor = deploy(trained, instance_count=2, env={"MODEL_SERVER_WORKERS": "2"})
    assert predictor.status == "InService" and predictor.mode == "sagemaker"
    sm, s3 = boto3.client("sagemaker"), boto3.client("s3")
    body = s3.get_object(Bucket=BUCKET, Key="hosted/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert sorted(tar.getnames()) == ["code", "code/train.py", "weights.json"]  # V2's
    model = sm.describe_model(ModelName="hosted")["PrimaryContainer"]
    assert (model["Image"], model["ModelDataUrl"]) == (IMAGE, f"s3://{BUCKET}/hosted/model.tar.gz")
    assert model["Environment"] == {
        "SAGEMAKER_PROGRAM": "train.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
        "SAGEMAKER_CONTAINER_LOG_LEVEL": "20", "SAGEMAKER_REGION": "us-east-1",
        "MODEL_SERVER_WORKERS": "2"}
    (variant,) = sm.describe_endpoint_config(EndpointConfigName="hosted")["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m5.xlarge", 2)

    assert predictor.predict([1, 2]) == [3.0, 6.0]  # the repacked script's own handlers
    assert hosting.requests[-1]["content_type"] == "application/json"
    assert predictor.hourly_price == pytest.approx(2 * 0.269)  # both instances, per hour
    with pytest.raises(PredictionError, match=r"^HTTP 424: ModelError: Received client error "
                                              r"\(415\) from primary .*content type "
                                              r"text/plain"):  # moto takes UTF-8 bodies only
        predictor.predict("hello", content_type="text/plain")
    predictor.delete()
    assert predictor.status == "Deleted"
    assert [m["ModelName"] for m in sm.list_models()["Models"]] == []
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []
    assert sm.list_endpoints()["Endpoints"] == []


def test_a_failed_endpoint_says_why_with_its_cloudwatch_lines(trained, hosting):
    hosting.fail_next("The primary container for production variant AllTraffic did not pass "
                      "the ping health check.", ["Traceback (most recent call last):",
                                                 "RuntimeError: corrupt weights"])
    with pytest.raises(EndpointError, match=r"^endpoint hosted failed: The primary container "
                       r".* ping health check\. \(its log: Traceback .* \| RuntimeError: "
                       r"corrupt weights\); predictor.delete\(\) removes it$"):
        deploy(trained)
    record = json.loads((trained.directory.parent / ".endpoints" / "hosted" / "endpoint.json")
                        .read_text())
    assert (record["status"], record["failure_reason"]) == ("Failed", "The primary container "
                                                            "for production variant AllTraffic "
                                                            "did not pass the ping health "
                                                            "check.")


def test_a_quota_error_is_one_line_and_what_was_created_is_removed(trained, hosting,
                                                                    monkeypatch):
    def refuse(response):
        raise JsonRESTError("ResourceLimitExceeded", "The account-level service limit "
                            "'ml.m5.xlarge for endpoint usage' is 0 Instances")

    monkeypatch.setattr(SageMakerResponse, "create_endpoint", refuse)
    with pytest.raises(EndpointError, match=r"^CreateEndpoint hosted: ResourceLimitExceeded: "
                                            r"The account-level service limit"):
        deploy(trained)
    sm = boto3.client("sagemaker")
    assert sm.list_models()["Models"] == [] and sm.list_endpoint_configs()[
        "EndpointConfigs"] == []


def test_dry_run_prints_the_three_requests_checked_and_creates_nothing(trained, hosting):
    plan = deploy(trained, dry_run=True)
    assert plan.startswith("upload  s3://<bucket>/hosted/model.tar.gz")
    requests = {}
    for part in plan.split("\nCreate")[1:]:
        name, _, body = part.partition(" ")
        requests["Create" + name] = json.loads(body)
    assert list(requests) == ["CreateModel", "CreateEndpointConfig", "CreateEndpoint"]
    assert requests["CreateModel"]["ExecutionRoleArn"] == ROLE
    serverless = trained.deploy(mode="sagemaker", image="pytorch:2.8", role=ROLE, dry_run=True,
                                serverless={"memory": 2048, "concurrency": 5})
    assert "/pytorch-inference:2.8.0-cpu-py312" in serverless  # the alias's serving sibling
    assert '"ServerlessConfig": {\n        "MemorySizeInMB": 2048' in serverless
    assert boto3.client("sagemaker").list_models()["Models"] == []
    with pytest.raises(EndpointError, match=r"^CreateEndpointConfig would be refused: .*"
                                            r"MemorySizeInMB"):
        trained.deploy(mode="sagemaker", image=IMAGE, role=ROLE, dry_run=True,
                       serverless={"memory": 2, "concurrency": 5})


def test_a_sagemaker_job_is_served_locally_from_its_model_in_s3(ip, aws, monkeypatch):
    """V2 cannot make a local endpoint from a hosted training job (SDK issue #929)."""
    from tests.backends import test_sagemaker_jobs as sagemaker
    from tests.fakes.sagemaker_service import Service, status

    monkeypatch.setattr("sm_notebook.backends.sagemaker.follow.DRAIN_AFTER", 0.3)
    service = Service(aws)
    saves = sagemaker._saves_model({"weights.json": b'{"w": 4.0}'})
    service.play("hosted-job", [status("InProgress", "Training", "Training in progress"),
                                saves, status("Completed", "Completed", "Completed")])
    job = sagemaker.train(ip, "hosted-job", "--wait --quiet", SCRIPT)
    for thread in service.threads:
        thread.join(timeout=60)
    assert job.status == "Completed"
    predictor = job.deploy(mode="local")  # the model from S3, the code the job was sent
    try:
        assert predictor.predict([1, 2]) == [4.0, 8.0]
        assert predictor.record.job_mode == "sagemaker"
    finally:
        predictor.delete()


def test_without_waiting_the_endpoint_is_creating_then_in_service_and_listed(ip, trained,
                                                                             hosting,
                                                                             price_list,
                                                                             monkeypatch):
    monkeypatch.setattr("tests.fakes.hosting_service.CREATING_FOR", 3.0)
    predictor = deploy(trained, wait=False)
    try:
        assert predictor.status == "Creating"  # returned at once: the widget follows it
        frame = ip.run_line_magic("sm_endpoints", "").set_index("endpoint")
        assert frame.loc["hosted", "mode"] == "sagemaker"
        assert frame.loc["hosted", "hourly_price"] == pytest.approx(0.269)  # never forgotten
        deadline = time.monotonic() + 10
        while predictor.status == "Creating" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert predictor.status == "InService" and predictor.predict([2]) == [6.0]
    finally:
        predictor.delete()
    assert ip.run_line_magic("sm_endpoints", "").set_index("endpoint").loc[
        "hosted", "status"] == "Deleted"
