"""``--queue``: a job waits in an AWS Batch training queue, then runs as a training job.

Batch's service-job API is served by a simulator over HTTP (moto has none of it), which
moves the job through the queue and then creates its training job in moto, so from there
the path is the direct job's own: plain boto3 throughout."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.backends import test_sagemaker_jobs as sagemaker_jobs
from tests.backends.test_sagemaker_jobs import IMAGE, ROLE
from tests.fakes.batch_service import BatchService
from tests.fakes.sagemaker_service import logs, status

service = sagemaker_jobs.service  # the fixture: moto's server with the simulated jobs
QUEUE = "ml-training"


@pytest.fixture
def batch(aws, monkeypatch):
    served = BatchService(aws, step_seconds=0.1)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BATCH", served.endpoint)
    served.add_queue(QUEUE)
    served.add_queue("ecs-queue", job_queue_type="ECS")
    yield served
    served.close()
    assert served.errors == []


def line(name: str, extra: str = "") -> str:
    return (f"job --mode sagemaker --image {IMAGE} --role {ROLE} --region us-east-1 "
            f"--job-name {name} --queue {QUEUE} {extra}")


QUEUED_AFTER = {"SUBMITTED": "PENDING", "PENDING": "RUNNABLE", "RUNNABLE": "SCHEDULED",
                "SCHEDULED": "STARTING"}


def wait_for(job, secondary: str) -> None:
    deadline = time.monotonic() + 30
    while job.secondary_status != secondary:
        assert time.monotonic() < deadline, (job.secondary_status, secondary)
        time.sleep(0.05)


def submitted(batch: BatchService) -> list[dict]:
    return [r for r in batch.requests if r["operation"] == "SubmitServiceJob"]


def test_a_queued_job_waits_in_the_queue_then_runs_and_is_followed_as_a_training_job(
        ip, service, batch):
    cell = "print('training')\n"
    options = "--priority 7 --share team-a --queue-timeout 2h --tag team=ml --hp lr=0.1"
    with capture_output() as out:
        ip.run_cell_magic("sm_train", line("queued", f"{options} --dry-run"), cell)
    planned = json.loads(out.stdout.split("SubmitServiceJob ", 1)[1].replace(
        "sagemaker-us-east-1-<account>", sagemaker_jobs.BUCKET))
    assert submitted(batch) == []  # a dry run submits nothing

    service.play("queued", [status("InProgress", "Training", "Training in progress"),
                            logs("algo-1", "training"),
                            status("Completed", "Completed", "Training job completed")])
    batch.hold("queued", "SUBMITTED")
    ip.run_cell_magic("sm_train", line("queued", f"{options} --quiet"), cell)
    job = ip.user_ns["job"]
    for held in ("SUBMITTED", "PENDING", "RUNNABLE", "SCHEDULED"):
        wait_for(job, held.title())  # the handle and the dashboard see each queue state
        batch.hold("queued", QUEUED_AFTER[held])
    batch.release("queued")
    job.wait(timeout=60)
    assert job.status == "Completed", job.failure_reason

    [request] = submitted(batch)
    payload = json.loads(request.pop("serviceRequestPayload"))
    assert payload == planned.pop("serviceRequestPayload")  # the printed one is the one sent
    request.pop("operation")
    request.pop("clientToken")  # botocore's idempotency token, made per call
    assert request == planned
    assert (request["jobQueue"], request["serviceJobType"], request["schedulingPriority"],
            request["shareIdentifier"], request["timeoutConfig"]) == (
        QUEUE, "SAGEMAKER_TRAINING", 7, "team-a", {"attemptDurationSeconds": 7200})
    assert "Tags" not in payload and request["tags"] == {"team": "ml"}  # moved, as V3 does
    assert request["retryStrategy"]["evaluateOnExit"][-1] == {"action": "EXIT",
                                                              "onStatusReason": "*"}
    assert payload["TrainingJobName"] == "queued" and payload["HyperParameters"] == {
        "lr": "0.1"}
    statuses = [t["Status"] for t in job.transitions]
    assert statuses[:5] == ["Submitted", "Pending", "Runnable", "Scheduled", "Starting"]
    assert statuses[-2:] == ["Training", "Completed"]  # then the training job's own
    runnable = next(t for t in job.transitions if t["Status"] == "Runnable")
    assert runnable["StatusMessage"] == "Waiting for capacity in the service environment"
    assert list(job.logs().message) == ["training"]


def test_stopping_a_queued_job_terminates_it_before_any_training_job_exists(
        ip, service, batch):
    batch.hold("held", "RUNNABLE")
    ip.run_cell_magic("sm_train", line("held", "--quiet"), "print(1)\n")
    job = ip.user_ns["job"]
    wait_for(job, "Runnable")
    job.stop()
    job.wait(timeout=30)
    assert job.status == "Stopped"
    assert [r["operation"] for r in batch.requests].count("TerminateServiceJob") == 1
    assert boto3.client("sagemaker").list_training_jobs(
        NameContains="held")["TrainingJobSummaries"] == []


def test_sm_jobs_lists_a_queues_jobs_and_attach_follows_a_queued_job_again(
        ip, service, batch):
    batch.hold("again", "SCHEDULED")
    ip.run_cell_magic("sm_train", line("again", "--quiet"), "print(1)\n")
    ip.user_ns["job"].detach()
    magics = ip.magics_manager.registry["SmTrainMagics"]
    magics.jobs.clear()  # as after a kernel restart

    frame = ip.run_line_magic("sm_jobs", f"--queue {QUEUE}")
    row = frame.set_index("name").loc["again"]
    assert (row.status, row.queue) == ("InProgress", QUEUE)
    service.play("again", [status("Completed", "Completed", "Training job completed")])
    job = ip.run_line_magic("sm_attach", "again")
    wait_for(job, "Scheduled")  # followed from where it waits
    batch.release("again")
    job.wait(timeout=60)
    assert job.status == "Completed"
    statuses = [t["Status"] for t in job.transitions]
    assert statuses[0] == "Submitted" and "Scheduled" in statuses  # where it was held
    assert statuses[-1] == "Completed"


@pytest.mark.parametrize(("extra", "message"), [
    ("--queue nowhere",
     "--queue: no job queue nowhere in us-east-1 (expected the name or ARN of a SageMaker "
     "training job queue (aws batch describe-job-queues lists them))"),
    ("--queue ecs-queue",
     "--queue: ecs-queue is a ECS queue, not a SageMaker training queue (expected the name "
     "or ARN of a SageMaker training job queue (aws batch describe-job-queues lists them))"),
    ("--mode local --queue ml-training",
     "--queue: not available in local mode (expected --mode sagemaker (an AWS Batch "
     "training queue runs SageMaker training jobs))"),
    ("--priority 3", "--priority: only applies to a job in a Batch queue (expected --queue "
     "NAME --priority ...)"),
], ids=["unknown", "not-training", "local", "priority-alone"])
def test_a_queue_that_cannot_take_the_job_is_one_line_and_nothing_is_submitted(
        ip, batch, jobs_dir, extra, message):
    mode = "" if "--mode" in extra else "--mode sagemaker "
    with pytest.raises(UsageError) as caught:
        ip.run_cell_magic("sm_train", f"job {mode}--image {IMAGE} --role {ROLE} {extra}",
                          "print(1)\n")
    assert str(caught.value) == message
    assert submitted(batch) == []
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []


INTERNAL = ("Received status from SageMaker:InternalServerError: We encountered an internal "
            "error. Please try again.")


def test_a_retryable_failure_runs_again_and_the_handle_follows_the_new_attempt(
        ip, service, batch):
    batch.fail_first_attempt("retried", INTERNAL)
    service.play("retried-a2", [status("InProgress", "Training", "Training in progress"),
                                logs("algo-1", "second attempt"),
                                status("Completed", "Completed", "Training job completed")])
    ip.run_cell_magic("sm_train", line("retried", "--wait"), "print(1)\n")
    job = ip.user_ns["job"]
    assert job.status == "Completed" and job.failure_reason is None
    assert list(job.logs().message) == ["second attempt"]
    statuses = [t["Status"] for t in job.transitions]
    assert statuses[0] == "Submitted" and statuses[-1] == "Completed"
    assert statuses.count("Submitted") == 1  # one timeline: the attempt that failed stays


def test_a_failure_batch_does_not_retry_fails_the_job_with_its_reason(ip, service, batch):
    batch.fail_first_attempt("not-retried", "AlgorithmError: ValueError: bad data")
    with pytest.raises(Exception, match="ValueError: bad data"):
        ip.run_cell_magic("sm_train", line("not-retried", "--wait"), "print(1)\n")
    assert ip.user_ns["job"].status == "Failed"
    assert [r["operation"] for r in batch.requests].count("SubmitServiceJob") == 1
