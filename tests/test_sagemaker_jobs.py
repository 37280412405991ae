"""SageMaker mode end to end against moto's AWS API server, over HTTP with plain boto3.

``sagemaker_service.py`` makes moto's training jobs move through the service's statuses
and write CloudWatch log events as the service does.
"""

from __future__ import annotations

import io
import tarfile
import time

import boto3
import pytest
from sagemaker_service import (
    Service,
    Throttling,
    logs,
    pause,
    status,
    training_jobs,
    until_stopping,
)

from sm_notebook.errors import JobFailedError, SmNotebookError

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.8.0-cpu-py312"
BUCKET = "sagemaker-us-east-1-123456789012"  # the default: region and moto's account


@pytest.fixture
def service(aws):
    played = Service(aws)
    yield played
    for thread in played.threads:
        thread.join(timeout=60)
    assert played.errors == []


def train(ip, name: str, line: str, cell: str = "print('hello')\n"):
    ip.run_cell_magic("sm_train", f"job --mode sagemaker --image {IMAGE} --role {ROLE} "
                                  f"--job-name {name} {line}", cell)
    return ip.user_ns["job"]


def test_a_job_is_uploaded_created_and_followed_to_completed_with_logs_of_two_hosts(
        ip, run_dir, service):
    (run_dir / "data").mkdir()
    (run_dir / "data" / "iris.csv").write_text("0,5.1,3.5\n")
    service.play("two-hosts", [
        status("InProgress", "Downloading", "Downloading input data"),
        status("InProgress", "Training", "Training in progress"),
        logs("algo-1", "epoch 1 loss=0.5", "epoch 2 loss=0.25"),
        logs("algo-2", "worker ready"),
        pause(0.3),
        status("InProgress", "Uploading", "Uploading generated training model"),
        status("Completed", "Completed", "Training job completed"),
    ])
    job = train(ip, "two-hosts", "--instance-count 2 --input train=data --hp epochs=2 --wait")

    assert job.status == "Completed"
    assert [t["Status"] for t in job.transitions] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed"]
    frame = job.logs()
    assert list(zip(frame.host, frame.message, strict=True)) == [
        ("algo-1", "epoch 1 loss=0.5"), ("algo-1", "epoch 2 loss=0.25"),
        ("algo-2", "worker ready")]
    assert list(job.metrics().value) == [0.5, 0.25]
    assert job.model_artifacts.endswith("/two-hosts/output/model.tar.gz")

    s3 = boto3.client("s3")
    code = s3.get_object(Bucket=BUCKET, Key="two-hosts/source/sourcedir.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(code)) as tar:
        assert tar.getnames() == ["train.py"]
    data = s3.get_object(Bucket=BUCKET, Key="two-hosts/input/train/iris.csv")["Body"].read()
    assert data == b"0,5.1,3.5\n"
    sent = boto3.client("sagemaker").describe_training_job(TrainingJobName="two-hosts")
    assert sent["HyperParameters"]["sagemaker_program"] == '"train.py"'
    assert sent["HyperParameters"]["sagemaker_submit_directory"] == \
        f'"s3://{BUCKET}/two-hosts/source/sourcedir.tar.gz"'
    assert sent["HyperParameters"]["epochs"] == "2"
    assert sent["ResourceConfig"]["InstanceCount"] == 2
    assert sent["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == \
        f"s3://{BUCKET}/two-hosts/input/train"


def test_a_failed_job_reports_the_service_failure_reason(ip, service):
    service.play("fails", [
        status("InProgress", "Training", "Training in progress"),
        logs("algo-1", "Traceback (most recent call last):", "ValueError: bad shard"),
        status("Failed", "Failed", "Training job failed",
               failure="AlgorithmError: ValueError: bad shard, exit code: 1"),
    ])
    with pytest.raises(JobFailedError, match="AlgorithmError: ValueError: bad shard"):
        train(ip, "fails", "--wait")
    assert "ValueError: bad shard" in list(ip.user_ns["job"].logs().message)


def test_stop_sends_stop_training_job_and_the_job_ends_stopped(ip, service):
    service.play("stopped", [
        status("InProgress", "Training", "Training in progress"),
        logs("algo-1", "step 1"),
        until_stopping(),
        status("Stopped", "Stopped", "Training job stopped"),
    ])
    job = train(ip, "stopped", "--quiet")
    job.stop()
    assert job.wait(timeout=60) == "Stopped"
    assert training_jobs()["stopped"].training_job_status == "Stopped"


@pytest.fixture
def throttled():
    throttling = Throttling(every=4)
    yield throttling
    throttling.restore()


def test_ten_thousand_lines_over_many_pages_with_throttling_arrive_once_each_in_order(
        ip, service, throttled, monkeypatch):
    from sm_notebook.backends import cloudwatch

    monkeypatch.setattr(cloudwatch, "PAGE_LIMIT", 500)
    per_host = 6_000
    steps = [status("InProgress", "Training", "Training in progress")]
    for start in range(0, per_host, 1_500):  # written while the job is followed
        steps += [logs(host, *(f"{host} line {i}" for i in range(start, start + 1_500)))
                  for host in ("algo-1", "algo-2")]
        steps.append(pause(0.4))
    steps.append(status("Completed", "Completed", "Training job completed"))
    service.play("many-lines", steps)

    job = train(ip, "many-lines", "--instance-count 2 --quiet")
    assert job.wait(timeout=120) == "Completed"

    frame = job.logs()
    for host in ("algo-1", "algo-2"):
        assert list(frame.message[frame.host == host]) == [
            f"{host} line {i}" for i in range(per_host)]
    assert job.line_count == 2 * per_host
    assert throttled.throttled >= 5  # the fault really happened, and was absorbed


def test_attach_after_the_handle_is_lost_replays_the_log_and_carries_on(ip, service):
    service.play("reattached", [
        status("InProgress", "Training", "Training in progress"),
        logs("algo-1", "before 1", "before 2"),
        pause(2.5),
        logs("algo-1", "after 1"),
        pause(0.5),
        status("Completed", "Completed", "Training job completed"),
    ])
    job = train(ip, "reattached", "--quiet")
    deadline = time.monotonic() + 30
    while job.line_count < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    magics = ip.magics_manager.registry["SmTrainMagics"]
    job.detach()  # as after a kernel restart: the old handle follows no more
    with pytest.raises(SmNotebookError, match="detached while InProgress"):
        job.wait(timeout=10)
    del ip.user_ns["job"]
    magics.jobs.clear()

    again = ip.run_line_magic("sm_attach", "reattached")

    assert again.wait(timeout=60) == "Completed"
    assert list(again.logs().message) == ["before 1", "before 2", "after 1"]
    assert [e.message for e in again.recent_lines()] == ["before 1", "before 2", "after 1"]
