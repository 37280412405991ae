"""Our checks refuse only what SageMaker refuses (issue 10, case 3).

Each limit is read from botocore's model of the service, the one the SDKs and the AWS CLI
use, so a rule here cannot drift from the service.  Where our rule is stricter, its error
says why.
"""

from __future__ import annotations

import botocore.session
import pytest

from sm_notebook import hyperparameters as hp
from sm_notebook import spec as spec_module
from sm_notebook.backends.sagemaker.request import create_training_job_request, validate_request
from sm_notebook.errors import SpecError
from sm_notebook.spec import Channel, MetricDefinition, TrainingSpec

MODEL = botocore.session.get_session().get_service_model("sagemaker")


def limit(shape: str, key: str = "max") -> int:
    return MODEL.shape_for(shape).metadata[key]


def member_limit(shape: str, member: str, key: str = "max") -> int:
    return MODEL.shape_for(shape).members[member].metadata[key]


def test_our_limits_are_the_services():
    assert limit("ContentType") == spec_module.CONTENT_TYPE_MAX
    assert MODEL.shape_for("ContentType").metadata["pattern"] == ".*"
    assert limit("MetricName") == spec_module.METRIC_NAME_MAX
    assert MODEL.shape_for("MetricName").metadata["pattern"] == ".+"
    assert limit("HyperParameterKey") == hp.MAX_KEY_LENGTH
    assert limit("HyperParameterValue") == hp.MAX_VALUE_LENGTH
    assert member_limit("CreateTrainingJobRequest", "HyperParameters") == hp.MAX_KEYS
    assert MODEL.shape_for("HyperParameterKey").metadata["pattern"] == ".*"
    assert spec_module.ROLE_RE.pattern == "^" + MODEL.shape_for("RoleArn").metadata[
        "pattern"] + "$"
    assert (limit("RoleArn", "min"), limit("RoleArn")) == (20, 2048)
    assert spec_module.JOB_NAME_RE.pattern == "^" + MODEL.shape_for("TrainingJobName").metadata[
        "pattern"] + "$"
    assert spec_module.CHANNEL_RE.pattern == r"^[A-Za-z0-9\.\-_]{1,64}$"
    assert MODEL.shape_for("ChannelName").metadata == {"min": 1, "max": 64,
                                                       "pattern": r"[A-Za-z0-9\.\-_]+"}
    assert limit("TagKey") == 128 and limit("TagValue") == 256
    assert limit("KeepAlivePeriodInSeconds") == 21600
    assert member_limit("AlgorithmSpecification", "MetricDefinitions") == 40
    assert member_limit("CreateTrainingJobRequest", "InputDataConfig") == 20


ACCEPTED = [  # values the service takes that an earlier, stricter rule refused
    dict(channels=[Channel("train", "s3://bucket/x", "libsvm")]),  # AWS's XGBoost examples
    dict(channels=[Channel("train", "s3://bucket/x", "application/x-recordio-protobuf")]),
    dict(channels=[Channel("train", "s3://bucket/x", "text/csv;label_size=1")]),
    dict(channels=[Channel("train", "s3://bucket/x", "x" * 256)]),
    dict(metrics=[MetricDefinition("average test loss", r"Average loss: ([0-9\.]+)")]),
    dict(metrics=[MetricDefinition("validation:accuracy", "acc=([0-9.]+)")]),
    dict(metrics=[MetricDefinition("loss (train) %", "loss=([0-9.]+)")]),
    dict(metrics=[MetricDefinition("x" * 255, "(1)")]),
    dict(tags={"équipe": "données", "cost center": "a\u00a0b", "k": ""}),  # any script
    dict(hyperparameters={"learning rate": 0.1, "-x": 1, "ünï": "ok"}),
    dict(role="arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-1"),
    dict(role="arn:aws-cn:iam::123456789012:role/a"),
]


@pytest.mark.parametrize("fields", ACCEPTED)
def test_values_sagemaker_accepts_are_accepted_and_reach_the_request(fields):
    spec = TrainingSpec(cell="print(1)", mode="sagemaker", image="img:1", **fields)
    spec.validate()
    request = create_training_job_request(spec, "job-1", bucket="bucket", region="us-east-1",
                                          role=spec.role or "arn:aws:iam::123456789012:role/R")
    validate_request(request)


@pytest.mark.parametrize(("fields", "option", "why"), [
    (dict(subnets=["subnet-1"], security_groups=["sg-0abc1234"]), "--subnets",
     "EC2 names them subnet- and 8 or 17 hex digits"),
    (dict(channels=[Channel("t", "s3://Bucket/x")]), "--input", "S3's bucket rules"),
    (dict(max_run=28 * 86400 + 1), "--max-run", "at most 28 days"),
    (dict(volume_gb=16385), "--volume-gb", "largest training volume"),
    (dict(hyperparameters={"a=b": 1}), "--hp", "cannot hold '='"),
    (dict(hyperparameters={"": 1}), "--hp", "ends a script's options"),
    (dict(tags={"k": "a\tb"}), "--tag", "AWS's tag pattern"),
    (dict(metrics=[MetricDefinition("loss", "loss=[0-9.]+")]), "--metric", "capture group"),
])
def test_where_our_rule_is_stricter_the_error_says_why(fields, option, why):
    spec = TrainingSpec(cell="print(1)", mode="sagemaker", image="img:1", **fields)
    with pytest.raises(SpecError) as raised:
        spec.validate()
    assert raised.value.option == option
    assert why in str(raised.value)
