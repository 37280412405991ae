"""Distributed drivers in sagemaker mode, against moto's server: the ``sm_drivers`` and
``code`` channels are uploaded as V3 uploads them, the entrypoint runs the driver through
sm_notebook's launcher, and the job's container, run as the service would run it, runs V3's
own example driver unmodified."""

from __future__ import annotations

import json
import shutil

import boto3
from IPython.utils.capture import capture_output

from tests.backends import test_sagemaker_jobs as sagemaker_jobs
from tests.backends.test_drivers import V3_EXAMPLE
from tests.backends.test_sagemaker_jobs import BUCKET, IMAGE, ROLE, _run_as_the_service_would
from tests.fakes.sagemaker_service import status

service = sagemaker_jobs.service  # the fixture: moto's server with the simulated jobs

COMPLETED = [status("Completed", "Completed", "Training job completed")]


def keys_under(prefix: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"].removeprefix(prefix) for item in listed.get("Contents", []))


def channels_of(request: dict) -> dict[str, str]:
    return {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
            for c in request["InputDataConfig"]}


def test_a_driver_job_uploads_its_drivers_and_code_as_v3_does_and_runs_the_v3_example(
        ip, service, run_dir, tmp_path):
    shutil.copytree(V3_EXAMPLE, run_dir / "example")
    service.play("custom-driver", COMPLETED)
    line = (f"job --mode sagemaker --image {IMAGE} --role {ROLE} --job-name custom-driver "
            "--source-dir example/scripts --entry-script entry_script.py "
            "--distributed example/custom_drivers/driver.py "
            "--distribution-config '{\"process_count_per_node\": 2}' --hp epochs=2")
    with capture_output() as out:
        ip.run_line_magic("sm_train", f"{line} --region us-east-1 --dry-run")
    assert "job" not in ip.user_ns  # a dry run makes nothing
    assert "upload  s3://sagemaker-us-east-1-<account>/custom-driver/input/sm_drivers/  " \
        "(example/custom_drivers/driver.py, distributed.json)" in out.stdout
    planned = json.loads(out.stdout.split("CreateTrainingJob ", 1)[1].replace(
        "sagemaker-us-east-1-<account>", BUCKET))
    ip.run_line_magic("sm_train", f"{line} --wait")
    request = boto3.client("sagemaker").describe_training_job(TrainingJobName="custom-driver")
    for part in ("InputDataConfig", "HyperParameters", "ResourceConfig"):
        assert planned[part] == request[part]  # the printed request is the one sent
    assert planned["AlgorithmSpecification"]["ContainerEntrypoint"] == request[
        "AlgorithmSpecification"]["ContainerEntrypoint"]

    assert channels_of(request) == {
        "code": f"s3://{BUCKET}/custom-driver/input/code",
        "sm_drivers": f"s3://{BUCKET}/custom-driver/input/sm_drivers"}
    assert keys_under("custom-driver/input/sm_drivers/") == [
        "distributed.json", "distributed_drivers/driver.py"]
    assert "entry_script.py" in keys_under("custom-driver/input/code/")
    assert request["AlgorithmSpecification"]["ContainerEntrypoint"] == [
        "python3", "/opt/ml/input/data/code/sm_notebook_launcher.py"]
    assert request["HyperParameters"] == {"epochs": "2"}

    root = tmp_path / "opt-ml"  # as SageMaker would run it, in the plain test image
    output = _run_as_the_service_would(request, root, "smnb-test/sklearn:1")
    assert "Running custom driver script" in output, output
    assert "Finished running custom driver script" in output
    assert json.loads((root / "model" / "results.json").read_text()) == {
        "status": "success", "epochs_completed": 2}


def test_an_mpi_job_ships_the_mpi_driver_and_a_key_of_its_own(ip, service):
    service.play("mpi-job", COMPLETED)
    ip.run_cell_magic("sm_train", f"job --mode sagemaker --image {IMAGE} --role {ROLE} "
                      "--job-name mpi-job --instance-count 2 --distributed mpi --wait",
                      "print('rank')\n")
    assert keys_under("mpi-job/input/sm_drivers/") == [
        "distributed.json", "distributed_drivers/mpi_driver.py",
        "distributed_drivers/mpi_exec.py", "mpi.key"]
    s3 = boto3.client("s3")
    config = s3.get_object(Bucket=BUCKET, Key="mpi-job/input/sm_drivers/distributed.json")
    assert json.loads(config["Body"].read()) == {"process_count_per_node": None,
                                                 "mpi_additional_options": None}
    key = s3.get_object(Bucket=BUCKET, Key="mpi-job/input/sm_drivers/mpi.key")["Body"].read()
    assert len(key) == 64
    request = boto3.client("sagemaker").describe_training_job(TrainingJobName="mpi-job")
    assert key.decode() not in json.dumps(request, default=str)  # only in the channel
