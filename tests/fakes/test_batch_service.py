"""The AWS Batch service-job simulator, over real HTTP with plain boto3: what the package's
Batch mode will rely on has to behave as the service does, or its tests prove nothing."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.fakes.batch_service import REASONS, BatchService
from tests.fakes.sagemaker_service import CreateFailure, Service, status, training_jobs

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.8.0-cpu-py312"
QUEUE_ARN = "arn:aws:batch:us-east-1:123456789012:job-queue/{}"


@pytest.fixture
def service(aws: str) -> Iterator[Service]:
    """Plays statuses for named training jobs in moto (as in test_sagemaker_jobs)."""
    played = Service(aws)
    yield played
    for thread in played.threads:
        thread.join(timeout=60)
    assert played.errors == []


@pytest.fixture
def batch(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[BatchService]:
    """The simulator, fast-stepping, as boto3 finds Batch's own endpoint."""
    served = BatchService(aws, step_seconds=0.05)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BATCH", served.endpoint)
    served.add_queue("training")
    yield served
    served.close()
    assert served.errors == []


@pytest.fixture
def client(batch: BatchService) -> Any:
    return boto3.client("batch")


def payload(name: str) -> str:
    """A CreateTrainingJob request, as SubmitServiceJob carries it."""
    return json.dumps({
        "TrainingJobName": name, "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/out/"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2,
                           "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600}})


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"  # moto's training jobs outlive a test


def submit(client: Any, name: str, **extra: Any) -> str:
    return client.submit_service_job(
        jobName=name, jobQueue="training", serviceJobType="SAGEMAKER_TRAINING",
        serviceRequestPayload=payload(name), **extra)["jobId"]


def wait_for(client: Any, job_id: str, *statuses: str, timeout: float = 5) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.describe_service_job(jobId=job_id)
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, (job["status"], job["statusReason"])
        time.sleep(0.01)


def test_a_job_walks_the_states_and_trains_in_moto(batch, client, service):
    name = unique("walk")
    queue = client.describe_job_queues(jobQueues=[QUEUE_ARN.format("training")])["jobQueues"]
    assert [(q["jobQueueName"], q["jobQueueType"], q["state"], q["status"]) for q in queue] \
        == [("training", "SAGEMAKER_TRAINING", "ENABLED", "VALID")]
    assert queue[0]["serviceEnvironmentOrder"][0]["order"] == 1
    batch.hold(name, "SUBMITTED")

    submitted = client.submit_service_job(
        jobName=name, jobQueue="training", serviceJobType="SAGEMAKER_TRAINING",
        serviceRequestPayload=payload(name), schedulingPriority=5, tags={"team": "ml"},
        timeoutConfig={"attemptDurationSeconds": 600})

    job_id = submitted["jobId"]
    assert submitted["jobArn"] == f"arn:aws:batch:us-east-1:123456789012:service-job/{job_id}"
    assert str(uuid.UUID(job_id)) == job_id and submitted["jobName"] == name
    seen = []
    for state, following in zip(["SUBMITTED", "PENDING", "RUNNABLE", "SCHEDULED",
                                 "STARTING", "RUNNING"],
                                ["PENDING", "RUNNABLE", "SCHEDULED", "STARTING",
                                 "RUNNING", None], strict=True):
        job = wait_for(client, job_id, state)
        seen.append((job["status"], job["statusReason"]))
        if following:
            batch.hold(name, following)  # moves it on, to be held at the next one
    assert seen == [(s, REASONS[s]) for s in ("SUBMITTED", "PENDING", "RUNNABLE",
                                              "SCHEDULED", "STARTING", "RUNNING")]
    arn = training_jobs()[name].arn
    assert job["attempts"] == [{"serviceResourceId": {"name": "TrainingJobArn", "value": arn},
                                "startedAt": job["startedAt"]}]
    assert job["latestAttempt"] == {"serviceResourceId": {"name": "TrainingJobArn",
                                                          "value": arn}}
    assert (job["jobQueue"], job["schedulingPriority"], job["tags"], job["timeoutConfig"]) == \
        (QUEUE_ARN.format("training"), 5, {"team": "ml"}, {"attemptDurationSeconds": 600})
    assert json.loads(job["serviceRequestPayload"])["TrainingJobName"] == name
    assert job["capacityUsage"] == [{"capacityUnit": "NUM_INSTANCES", "quantity": 2.0}]

    service.play(name, [status("InProgress", "Training", "Training in progress"),
                        status("Completed", "Completed", "Training job completed")])
    batch.release(name)
    done = wait_for(client, job_id, "SUCCEEDED", "FAILED")

    assert (done["status"], done["statusReason"], done["isTerminated"]) == \
        ("SUCCEEDED", REASONS["SUCCEEDED"], False)
    assert done["createdAt"] <= done["scheduledAt"] <= done["startedAt"] <= done["stoppedAt"]
    assert done["attempts"][0]["stoppedAt"] == done["stoppedAt"]
    assert [r["operation"] for r in batch.requests][:2] == ["DescribeJobQueues",
                                                            "SubmitServiceJob"]
    assert batch.requests[1]["serviceRequestPayload"] == payload(name)


def test_a_failed_training_job_fails_the_service_job(batch, client, service):
    name = unique("broken")
    service.play(name, [status("Failed", "Failed", "", failure="AlgorithmError: exit 1")])

    job = wait_for(client, submit(client, name), "SUCCEEDED", "FAILED")

    assert (job["status"], job["statusReason"], len(job["attempts"])) == \
        ("FAILED", "AlgorithmError: exit 1", 1)
    assert job["attempts"][0]["statusReason"] == "AlgorithmError: exit 1"


@pytest.mark.parametrize(("queue", "job_type", "message"), [
    ("missing", "SAGEMAKER_TRAINING", "does not exist"),
    (QUEUE_ARN.format("missing"), "SAGEMAKER_TRAINING", "does not exist"),
    ("containers", "SAGEMAKER_TRAINING", "jobQueueType ECS"),
    ("off", "SAGEMAKER_TRAINING", "DISABLED"),
    ("training", "ECS", "serviceJobType"),
])
def test_submissions_the_service_refuses(batch, client, queue, job_type, message):
    batch.add_queue("containers", job_queue_type="ECS")
    batch.add_queue("off", state="DISABLED")

    with pytest.raises(ClientError) as raised:
        client.submit_service_job(jobName="refused", jobQueue=queue, serviceJobType=job_type,
                                  serviceRequestPayload=payload("refused"))

    error = raised.value.response
    assert error["Error"]["Code"] == "ClientException"
    assert message in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "ClientException"
    assert client.list_service_jobs(jobQueue="training",
                                    filters=[{"name": "JOB_NAME", "values": ["refused"]}]
                                    )["jobSummaryList"] == []


def test_an_unknown_job_id_is_refused(client):
    with pytest.raises(client.exceptions.ClientException):
        client.describe_service_job(jobId=str(uuid.uuid4()))
    with pytest.raises(client.exceptions.ClientException):
        client.terminate_service_job(jobId=str(uuid.uuid4()), reason="gone")


def test_a_refused_training_job_fails_the_service_job(batch, client):
    refusing = CreateFailure("ResourceLimitExceeded", "The account-level service limit")
    try:
        job = wait_for(client, submit(client, unique("quota")), "SUCCEEDED", "FAILED")
    finally:
        refusing.restore()

    assert (job["status"], job["statusReason"], job["attempts"]) == \
        ("FAILED", "ResourceLimitExceeded: The account-level service limit", [])


def test_terminate_stops_the_training_job(batch, client):
    name = unique("stop")
    job_id = submit(client, name)
    wait_for(client, job_id, "RUNNING")  # and stays so: moto's job stays InProgress

    client.terminate_service_job(jobId=job_id, reason="Stopped from the notebook")

    job = client.describe_service_job(jobId=job_id)
    assert (job["status"], job["statusReason"], job["isTerminated"]) == \
        ("FAILED", "Stopped from the notebook", True)
    assert job["attempts"][0]["statusReason"] == "Stopped from the notebook"
    assert training_jobs()[name].training_job_status == "Stopping"


def test_terminate_before_starting_ends_at_once(batch, client):
    name = unique("early")
    batch.hold(name, "RUNNABLE")
    job_id = submit(client, name)
    wait_for(client, job_id, "RUNNABLE")

    client.terminate_service_job(jobId=job_id, reason="Not needed")
    batch.release(name)

    job = client.describe_service_job(jobId=job_id)
    assert (job["status"], job["statusReason"], job["isTerminated"], job["attempts"]) == \
        ("FAILED", "Not needed", True, [])
    assert "startedAt" not in job
    time.sleep(0.2)
    assert name not in training_jobs()
    assert client.describe_service_job(jobId=job_id)["status"] == "FAILED"


def test_list_filters_by_status_and_name(batch, client):
    waiting, running = unique("Wait"), unique("run")
    batch.hold(waiting, "RUNNABLE")
    waiting_id, running_id = submit(client, waiting), submit(client, running)
    wait_for(client, waiting_id, "RUNNABLE")
    wait_for(client, running_id, "RUNNING")

    def listed(**query: Any) -> list[str]:
        return [j["jobName"] for j in
                client.list_service_jobs(jobQueue="training", **query)["jobSummaryList"]]

    assert listed(jobStatus="RUNNABLE") == [waiting]
    assert listed() == [running]  # RUNNING only, when no status is asked
    assert listed(jobStatus="SUCCEEDED") == []
    both = [{"name": "JOB_NAME", "values": ["wait*", running]}]
    assert listed(filters=both, jobStatus="SUCCEEDED") == [running, waiting]  # newest first
    first = client.list_service_jobs(jobQueue=QUEUE_ARN.format("training"), filters=both,
                                     maxResults=1)
    second = client.list_service_jobs(jobQueue="training", filters=both, maxResults=1,
                                      nextToken=first["nextToken"])
    assert [j["jobName"] for j in first["jobSummaryList"] + second["jobSummaryList"]] == \
        [running, waiting] and "nextToken" not in second
    summary = first["jobSummaryList"][0]
    assert summary["jobId"] == running_id and summary["serviceJobType"] == "SAGEMAKER_TRAINING"
    assert summary["latestAttempt"]["serviceResourceId"]["value"] == \
        training_jobs()[running].arn
    for job_id in (waiting_id, running_id):
        client.terminate_service_job(jobId=job_id, reason="done looking")


RULES = {"attempts": 2, "evaluateOnExit": [
    {"action": "RETRY", "onStatusReason": "InternalServerError*"},
    {"action": "EXIT", "onStatusReason": "*"}]}


def test_a_retryable_first_failure_retries_once(batch, client, service):
    name = unique("retry")
    batch.fail_first_attempt(name, "InternalServerError: the instance was lost")
    service.play(f"{name}-a2", [status("Completed", "Completed", "Training job completed")])

    job = wait_for(client, submit(client, name, retryStrategy=RULES), "SUCCEEDED", "FAILED")

    assert job["status"] == "SUCCEEDED" and job["retryStrategy"] == RULES
    first, second = job["attempts"]
    assert first["statusReason"] == "InternalServerError: the instance was lost"
    assert first["startedAt"] <= first["stoppedAt"] <= second["startedAt"]
    assert [a["serviceResourceId"]["value"] for a in job["attempts"]] == \
        [training_jobs()[name].arn, training_jobs()[f"{name}-a2"].arn]
    assert job["latestAttempt"]["serviceResourceId"] == second["serviceResourceId"]
    assert training_jobs()[name].training_job_status == "Failed"


@pytest.mark.parametrize(("reason", "retryable", "strategy"), [
    ("ValidationException: bad hyperparameter", True, RULES),  # the EXIT rule matches
    ("InternalServerError: lost", False, RULES),  # a failure no strategy retries
    ("InternalServerError: lost", True, None),  # one attempt only
])
def test_a_first_failure_that_is_not_retried_fails_the_job(batch, client, reason, retryable,
                                                           strategy):
    name = unique("final")
    batch.fail_first_attempt(name, reason, retryable=retryable)
    extra = {"retryStrategy": strategy} if strategy else {}

    job = wait_for(client, submit(client, name, **extra), "SUCCEEDED", "FAILED")

    assert (job["status"], job["statusReason"], len(job["attempts"])) == \
        ("FAILED", reason, 1)
    assert f"{name}-a2" not in training_jobs()
