"""SageMaker sweeps on moto's server with the tuning simulator: one
CreateHyperParameterTuningJob carrying everything a training job of the same cell sends,
trials appearing as the service runs them, the best trial, stop, and the dry run."""

from __future__ import annotations

import json

import boto3
import pytest
from IPython.core.error import UsageError

from tests.fakes.sagemaker_service import Service
from tests.fakes.tuning_service import TuningService

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.8.0-cpu-py312"
CELL = "print('score=1')\n"
BASE = (f"--mode sagemaker --image {IMAGE} --role {ROLE} --hp-style v2 "
        "--metric score='score=([-0-9.]+)' --objective Maximize:score")


@pytest.fixture
def tuning(aws, monkeypatch):
    from sm_notebook.backends.sagemaker import follow

    monkeypatch.setattr(follow, "DRAIN_AFTER", 0.3)
    service = Service(aws)
    simulated = TuningService(service, score=lambda v: -(float(v["x"]) - 2) ** 2)
    yield simulated
    simulated.restore()
    assert service.errors == []


def test_one_tuning_job_carries_the_whole_training_request_and_finds_the_best(
        ip, run_dir, tuning):
    (run_dir / "data").mkdir()
    (run_dir / "data" / "train.csv").write_text("1,2\n")
    ip.run_cell_magic("sm_tune", f"sweep {BASE} --job-name tuned --input train=data "
                      "--hp epochs=2 --env LEVEL=debug --spot --max-wait 7200 "
                      "--subnets subnet-0abc1234 --security-groups sg-0abc1234 "
                      "--checkpoint-s3 s3://ckpt/tuned/ --hp-range x=int:0:4 "
                      "--hp-range opt=cat:adam,sgd --max-jobs 4 --max-parallel 2 "
                      "--strategy random --seed 5 --wait", CELL)
    sweep = ip.user_ns["sweep"]
    assert sweep.status == "Completed"
    sent = boto3.client("sagemaker").describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="tuned")
    definition, config = sent["TrainingJobDefinition"], sent["HyperParameterTuningJobConfig"]
    assert definition["InputDataConfig"][0]["ChannelName"] == "train"  # channels carried
    assert definition["Environment"] == {"LEVEL": "debug"}
    assert definition["EnableManagedSpotTraining"] is True
    assert definition["VpcConfig"] == {"Subnets": ["subnet-0abc1234"],
                                       "SecurityGroupIds": ["sg-0abc1234"]}
    assert definition["CheckpointConfig"]["S3Uri"] == "s3://ckpt/tuned/"
    assert definition["StoppingCondition"]["MaxWaitTimeInSeconds"] == 7200
    static = definition["StaticHyperParameters"]
    assert static["epochs"] == "2" and "sagemaker_program" in static
    assert "x" not in static and "opt" not in static  # the ranged ones are the service's
    assert definition["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "score", "Regex": "score=([-0-9.]+)"}]
    assert config["Strategy"] == "Random" and config["RandomSeed"] == 5
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 4,
                                        "MaxParallelTrainingJobs": 2}
    assert config["ParameterRanges"]["IntegerParameterRanges"] == [
        {"Name": "x", "MinValue": "0", "MaxValue": "4", "ScalingType": "Auto"}]
    trials = sweep.trials()
    assert len(trials) == 4 and set(trials.status) == {"Completed"}
    assert trials.x.between(0, 4).all() and set(trials.opt) <= {"adam", "sgd"}
    best = trials.loc[trials.objective.idxmax()]
    assert sweep.best.name == best.job and sweep.best.status == "Completed"
    code = boto3.client("s3").list_objects_v2(Bucket="sagemaker-us-east-1-123456789012",
                                              Prefix="tuned/")["Contents"]
    assert any(o["Key"].endswith("sourcedir.tar.gz") for o in code)  # the code uploaded


def test_stop_stops_the_tuning_job(ip, tuning):
    ip.run_cell_magic("sm_tune", f"sweep {BASE} --job-name halted --hp-range x=int:0:4 "
                      "--max-jobs 20 --max-parallel 1 --strategy random", CELL)
    sweep = ip.user_ns["sweep"]
    sweep.stop()
    assert sweep.wait(timeout=30) == "Stopped"
    assert len(sweep.trial_list()) < 20


def test_a_dry_run_prints_the_checked_request_and_creates_nothing(ip, tuning, capsys):
    ip.run_cell_magic("sm_tune", f"sweep {BASE} --job-name planned --hp-range "
                      "lr=log:1e-4:1e-1 --max-jobs 6 --max-parallel 2 --strategy hyperband "
                      "--dry-run", CELL)
    out = capsys.readouterr().out
    request = json.loads(out[out.index("{"):])
    config = request["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Hyperband" and config["StrategyConfig"]
    assert config["ParameterRanges"]["ContinuousParameterRanges"][0]["ScalingType"] == \
        "Logarithmic"
    sm = boto3.client("sagemaker")
    made = sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    assert "planned" not in [j["HyperParameterTuningJobName"] for j in made]


def test_sagemaker_s_limits_are_one_usage_error(ip, tuning):
    many = " ".join(f"--hp-range p{i}=int:1:5" for i in range(31))
    with pytest.raises(UsageError, match=r"^--hp-range: 31 integer ranges; a SageMaker tuning "
                                         r"job takes at most 30"):
        ip.run_cell_magic("sm_tune", f"sweep {BASE} {many}", CELL)
    with pytest.raises(UsageError, match=r"^--job-name: 'a-name-longer-than-thirty-two-chars' "
                                         r"is 35 characters; a SageMaker tuning job's name"):
        ip.run_cell_magic("sm_tune", f"sweep {BASE} --job-name a-name-longer-than-thirty-two-"
                          "chars --hp-range x=int:0:4", CELL)  # refused before any upload
    with pytest.raises(UsageError, match=r"^--queue: a sweep's trials run on this machine or "
                                         r"as a tuning job's own, never through a Batch queue"):
        ip.run_cell_magic("sm_tune", f"sweep {BASE} --queue q --hp-range x=int:0:4", CELL)
