"""``--jumpstart`` and ``%sm_jumpstart`` against moto's server with the hub-content
simulator beside it (plain boto3 over HTTP): the model's document resolves into the job
that is sent (sagemaker mode) or run (container mode, its image pulled from a registry
and its S3 objects read), field by field, and bad input is one line with nothing sent."""

from __future__ import annotations

import contextlib
import io
import json
import tarfile

import boto3
import docker
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from tests.backends import test_sagemaker_jobs as sagemaker_jobs
from tests.backends.test_sagemaker_jobs import BUCKET, ROLE
from tests.fakes.hub_service import CACHE, CPU_IMAGE, HubService, training_document
from tests.fakes.sagemaker_service import status

service = sagemaker_jobs.service  # the fixture: moto's server with the simulated jobs
MODEL = "xgboost-classification-model"
SCRIPT_KEY = "source-directory-tarballs/xgboost/transfer_learning/classification/v1.1.0/" \
             "sourcedir.tar.gz"
COMPLETED = [status("Completed", "Completed", "Training job completed")]
#: the model's own training script, as its tarball holds it: it reads what JumpStart gives
TRANSFER_LEARNING = r"""
import json, os, sys
print("model script args", sys.argv[1:3], "hps", sorted(json.loads(os.environ["SM_HPS"]))[:3])
print("model channel", sorted(os.listdir(os.environ["SM_CHANNEL_MODEL"])))
print("dataset", sorted(os.listdir(os.environ["SM_CHANNEL_TRAINING"])))
open(os.path.join(os.environ["SM_MODEL_DIR"], "booster.json"), "w").write("{}")
"""


def tarball(files: dict[str, str]) -> bytes:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    return data.getvalue()


@pytest.fixture
def hub(aws):
    """The public hub with three models, and the first one's objects in S3."""
    with HubService() as served:
        keywords = ("@task:classification", "@framework:xgboost")
        served.add_model(MODEL, training_document(), "2.0.0", keywords=keywords)
        served.add_model(MODEL, training_document(), "2.1.0", keywords=keywords,
                         display_name="XGBoost Classification")
        served.add_model("huggingface-llm-falcon-7b", training_document(
            TrainingSupported=False), keywords=("@task:text-generation",
                                                "@framework:huggingface"))
        served.add_model("meta-textgeneration-llama-3-8b", training_document(
            GatedBucket=True), keywords=("@task:text-generation", "@framework:meta"))
        s3 = boto3.client("s3")
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=CACHE.removeprefix("s3://"))
        bucket = CACHE.removeprefix("s3://")
        s3.put_object(Bucket=bucket, Key=SCRIPT_KEY, Body=tarball(
            {"transfer_learning.py": TRANSFER_LEARNING, "requirements.txt": ""}))
        s3.put_object(Bucket=bucket, Key="xgboost-training/train-xgboost-classification-"
                      "model.tar.gz", Body=tarball({"base.json": "{}"}))
        s3.put_object(Bucket=bucket, Key="training-datasets/tabular_binary/data.csv",
                      Body=b"1,0.5\n0,0.1\n")
        yield served


def sagemaker_line(name: str, extra: str = "") -> str:
    return (f"job --mode sagemaker --role {ROLE} --region us-east-1 --job-name {name} "
            f"--jumpstart {MODEL} {extra}")


def sent(name: str) -> dict:
    return boto3.client("sagemaker").describe_training_job(TrainingJobName=name)


def code_files(name: str) -> dict[str, bytes]:
    body = boto3.client("s3").get_object(Bucket=BUCKET,
                                         Key=f"{name}/input/code/sourcedir.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(body["Body"].read())) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_a_jumpstart_job_is_the_models_document_resolved_and_the_dry_run_is_what_is_sent(
        ip, service, hub):
    with capture_output() as out:
        ip.run_line_magic("sm_train", sagemaker_line("js-job", "--hp max_depth=3 --dry-run"))
    assert "job" not in ip.user_ns  # a dry run makes nothing
    notes = [line for line in out.stdout.splitlines() if line.startswith("# note: JumpStart")]
    assert notes[:2] == [
        f"# note: JumpStart {MODEL}@2.1.0 (SageMakerPublicHub): instance type ml.m5.xlarge "
        "(the model's default)",
        f"# note: JumpStart {MODEL}@2.1.0 (SageMakerPublicHub): image {CPU_IMAGE}"]
    planned = json.loads(out.stdout.split("CreateTrainingJob ", 1)[1].replace(
        "sagemaker-us-east-1-<account>", BUCKET))

    service.play("js-job", COMPLETED)
    ip.run_line_magic("sm_train", sagemaker_line("js-job", "--hp max_depth=3 --wait"))
    request = sent("js-job")
    for part in ("AlgorithmSpecification", "HyperParameters", "InputDataConfig",
                 "ResourceConfig", "StoppingCondition"):
        assert planned[part] == request[part], part
    algorithm = request["AlgorithmSpecification"]
    assert algorithm["TrainingImage"] == CPU_IMAGE
    assert algorithm["MetricDefinitions"] == [{"Name": "xgboost:validation-auc",
                                               "Regex": "validation-auc:([0-9\\.]+)"}]
    assert request["HyperParameters"] == {
        "num_boost_round": "5000", "early_stopping_rounds": "30", "learning_rate": "0.3",
        "gamma": "0", "max_depth": "3", "subsample": "1", "tree_method": "auto",
        "use_dask_gpu_training": "False"}
    channels = {c["ChannelName"]: (c["DataSource"]["S3DataSource"]["S3Uri"],
                                   c.get("ContentType")) for c in request["InputDataConfig"]}
    assert channels["model"] == (f"{CACHE}/xgboost-training/train-xgboost-classification-"
                                 "model.tar.gz", "application/x-sagemaker-model")
    assert channels["training"] == (f"{CACHE}/training-datasets/tabular_binary/", None)
    assert request["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert request["StoppingCondition"]["MaxRuntimeInSeconds"] == 360000
    tags = boto3.client("sagemaker").list_tags(ResourceArn=request["TrainingJobArn"])["Tags"]
    assert {"Key": "sagemaker-sdk:jumpstart-model-id", "Value": MODEL} in tags
    assert b"model script args" in code_files("js-job")["transfer_learning.py"]


def test_the_cell_replaces_the_models_training_script(ip, service, hub):
    service.play("js-cell", COMPLETED)
    ip.run_cell_magic("sm_train", sagemaker_line("js-cell", "--wait"), "print('my own')\n")
    files = code_files("js-cell")
    assert files["transfer_learning.py"].decode().endswith("print('my own')\n")


def test_a_gated_model_sends_the_accepted_license_with_its_channels(ip, hub):
    with capture_output() as out:
        ip.run_line_magic("sm_train", f"job --mode sagemaker --role {ROLE} --job-name js-gated "
                          "--jumpstart meta-textgeneration-llama-3-8b --accept-eula --dry-run")
    request = json.loads(out.stdout.split("CreateTrainingJob ", 1)[1])
    access = {c["ChannelName"]: c["DataSource"]["S3DataSource"].get("ModelAccessConfig")
              for c in request["InputDataConfig"]}
    assert access == {"model": {"AcceptEula": True}, "training": {"AcceptEula": True},
                      "code": None}


@pytest.mark.parametrize(("line", "message"), [
    ("--jumpstart xgboost-clasification-model",
     "--jumpstart: no model xgboost-clasification-model in hub SageMakerPublicHub; did you "
     f"mean {MODEL}? (expected a model id from %sm_jumpstart)"),
    (f"--jumpstart {MODEL}@9.9.9",
     f"--jumpstart: {MODEL} has no version 9.9.9 in hub SageMakerPublicHub (expected "
     f"{MODEL} for its latest version, or {MODEL}@VERSION of one it has)"),
    ("--jumpstart huggingface-llm-falcon-7b",
     "--jumpstart: huggingface-llm-falcon-7b@1.0.0 does not support training (it can only "
     "be deployed) (expected a model with training support: %sm_jumpstart lists each "
     "model's training instances)"),
    ("--jumpstart meta-textgeneration-llama-3-8b",
     "--accept-eula: meta-textgeneration-llama-3-8b@1.0.0 is a gated model: its end-user "
     "license must be accepted to train it (expected --accept-eula, once you have read and "
     "accepted the model's license)"),
    (f"--jumpstart {MODEL} --instance-type ml.g5.48xlarge",
     f"--instance-type: {MODEL}@2.1.0 does not train on ml.g5.48xlarge (expected one of "
     "ml.m5.large, ml.m5.xlarge, ml.c5.2xlarge, ml.p3.2xlarge)"),
    (f"--mode local --jumpstart {MODEL}",
     "--jumpstart: not available in local mode (expected --mode sagemaker, or --mode "
     "container (a JumpStart model trains in its own image, which a local process has not))"),
], ids=["unknown", "no-such-version", "no-training", "gated", "unsupported-instance", "local"])
def test_a_model_that_cannot_train_so_is_one_line_and_nothing_is_sent(ip, hub, jobs_dir, line,
                                                                     message):
    mode = "" if "--mode" in line else "--mode sagemaker "
    with pytest.raises(UsageError) as caught:
        ip.run_line_magic("sm_train", f"job {mode}--role {ROLE} {line}")
    assert str(caught.value) == message
    assert not jobs_dir.exists() or list(jobs_dir.iterdir()) == []
    assert boto3.client("sagemaker").list_training_jobs(
        NameContains="xgboost-clas")["TrainingJobSummaries"] == []


def test_sm_jumpstart_lists_and_searches_the_hubs_models(ip, hub):
    frame = ip.run_line_magic("sm_jumpstart", "")
    assert list(frame.model_id) == ["huggingface-llm-falcon-7b",
                                    "meta-textgeneration-llama-3-8b", MODEL]
    row = frame.set_index("model_id").loc[MODEL]
    assert (row.version, row["name"], row.task, row.framework, row.training,
            row.default_instance) == ("2.1.0", "XGBoost Classification", "classification",
                                      "xgboost", True, "ml.m5.xlarge")
    assert row.training_instances == "ml.m5.large, ml.m5.xlarge, ml.c5.2xlarge, ml.p3.2xlarge"
    assert list(ip.run_line_magic("sm_jumpstart", "llama").model_id) == [
        "meta-textgeneration-llama-3-8b"]
    assert list(ip.run_line_magic("sm_jumpstart", "--task text-generation --framework "
                                  "huggingface").model_id) == ["huggingface-llm-falcon-7b"]
    with pytest.raises(UsageError, match=r"^%sm_jumpstart: '--size' needs one of"):
        ip.run_line_magic("sm_jumpstart", "--size 3")


def test_a_container_job_pulls_the_models_image_and_reads_its_objects_from_s3(
        ip, hub, local_registry):
    engine = docker.from_env()
    image = f"{local_registry}/smnb/jumpstart:1"
    engine.images.get("smnb-test/mpi:1").tag(image)  # Python alone: the script needs no more
    for line in engine.images.push(image, stream=True, decode=True):
        assert "error" not in line, line
    engine.images.remove(image)
    hub.add_model(MODEL, training_document(TrainingEcrUri=image, TrainingInstanceTypeVariants={
        "Variants": {"m5": {"Properties": {"ImageUri": image}}}}), "2.2.0")
    try:
        ip.run_line_magic("sm_train", f"job --mode container --jumpstart {MODEL} --wait")
        job = ip.user_ns["job"]
        assert job.status == "Completed", job.failure_reason
        said = list(job.logs().message)
        assert "model script args ['--num_boost_round', '5000'] hps ['early_stopping_rounds', " \
               "'gamma', 'learning_rate']" in said
        assert "model channel ['train-xgboost-classification-model.tar.gz']" in said
        assert "dataset ['data.csv']" in said
        with tarfile.open(job.model_artifacts) as tar:
            assert tar.getnames() == ["booster.json"]
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            engine.images.remove(image, force=True)


def test_the_forms_picker_lists_the_hubs_models_and_the_chosen_one_launches(ip, hub,
                                                                          monkeypatch):
    magics = ip.magics_manager.registry["SmTrainMagics"]
    monkeypatch.setattr(type(magics), "interactive", lambda self: True)
    ip.run_line_magic("sm_train", f"job --mode sagemaker --role {ROLE} --form")
    form = magics.form
    form.models_button.click()
    assert list(form.jumpstart.options) == ["huggingface-llm-falcon-7b",
                                            "meta-textgeneration-llama-3-8b", MODEL]
    assert "3 models" in form.marks["jumpstart"].value
    form.jumpstart.value = MODEL
    assert not form.launch_button.disabled  # the model gives the image
    assert f"--jumpstart {MODEL}" in form.line


def test_the_picker_says_why_it_cannot_list_without_credentials(ip, hub, monkeypatch):
    magics = ip.magics_manager.registry["SmTrainMagics"]
    monkeypatch.setattr(type(magics), "interactive", lambda self: True)
    ip.run_line_magic("sm_train", "job --mode sagemaker --form")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    magics.form.models_button.click()
    assert "no AWS region is configured" in magics.form.marks["jumpstart"].value
    assert list(magics.form.jumpstart.options) == []


def test_a_private_hubs_model_is_found_under_hub(ip, hub):
    hub.add_model("our-xgboost", training_document(), "1.0.0", hub="team-hub")
    with capture_output() as out:
        ip.run_line_magic("sm_train", f"job --mode sagemaker --role {ROLE} --jumpstart "
                          "our-xgboost --hub team-hub --dry-run")
    assert "# note: JumpStart our-xgboost@1.0.0 (team-hub): image" in out.stdout
    with pytest.raises(UsageError, match=r"^--jumpstart: no model our-xgboost in hub "
                       r"SageMakerPublicHub"):
        ip.run_line_magic("sm_train", f"job --mode sagemaker --role {ROLE} --jumpstart "
                          "our-xgboost --dry-run")
