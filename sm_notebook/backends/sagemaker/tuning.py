"""A SageMaker sweep: one ``CreateHyperParameterTuningJob`` built from the very request a
training job of the same spec sends, so nothing is dropped (channels, code, image,
environment, spot, checkpoints, VPC, distribution: every field the definition takes is
carried; the ranged hyperparameters leave ``StaticHyperParameters``), checked against
botocore's model; then followed with ``DescribeHyperParameterTuningJob`` and
``ListTrainingJobsForHyperParameterTuningJob``, and stopped with
``StopHyperParameterTuningJob``."""

from __future__ import annotations

import json
from typing import Any

from ...errors import SmNotebookError, SpecError
from ...tuning.objective import TuningOptions
from ..aws import aws_errors
from .request import validate_request

NAME_MAX = 32  # characters of a tuning job's name
STRATEGIES = {"random": "Random", "grid": "Grid", "bayesian": "Bayesian",
              "hyperband": "Hyperband"}
#: CreateTrainingJob fields a training job definition does not take (said in a note)
NOT_IN_DEFINITION = ("Tags", "DebugHookConfig", "ProfilerConfig", "TensorBoardOutputConfig")


def definition_from(training: dict[str, Any], ranged: set[str]) -> tuple[dict[str, Any],
                                                                           list[str]]:
    """The training job definition of a CreateTrainingJob request, and the fields left
    (a definition's AlgorithmSpecification takes fewer fields than a training job's)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateHyperParameterTuningJob").input_shape
    takes = shape.members["TrainingJobDefinition"].members
    algorithm = training.get("AlgorithmSpecification", {})
    if "ContainerEntrypoint" in algorithm:
        raise SpecError("--hp-style", "a SageMaker tuning job's trials cannot run "
                        "sm_notebook's launcher (a training job definition has no "
                        "ContainerEntrypoint), so they run the image's own `train`",
                        "--hp-style v2 (AWS's training toolkit runs the script), or an image "
                        "with a `train` of its own")
    definition: dict[str, Any] = {}
    left = []
    for key, value in training.items():
        if key == "TrainingJobName":
            continue
        if key == "HyperParameters":
            definition["StaticHyperParameters"] = {k: v for k, v in value.items()
                                                   if k not in ranged}
        elif key == "AlgorithmSpecification":
            allowed = takes[key].members
            definition[key] = {k: v for k, v in value.items() if k in allowed}
            left += [f"{key}.{k}" for k in value if k not in allowed]
        elif key in takes:
            definition[key] = value
        else:
            left.append(key)
    return definition, left


def parameter_ranges(options: TuningOptions) -> dict[str, list[dict[str, Any]]]:
    ranges: dict[str, list[dict[str, Any]]] = {"IntegerParameterRanges": [],
                                               "ContinuousParameterRanges": [],
                                               "CategoricalParameterRanges": []}
    for r in options.ranges:
        if r.kind == "cat":
            ranges["CategoricalParameterRanges"].append({"Name": r.name,
                                                         "Values": list(r.values)})
            continue
        low, high = (str(int(v)) if r.kind == "int" else repr(v) for v in (r.low, r.high))
        ranges[f"{r.sagemaker_kind}ParameterRanges"].append(
            {"Name": r.name, "MinValue": low, "MaxValue": high, "ScalingType": r.scaling})
    return {k: v for k, v in ranges.items() if v}


def check_name(name: str) -> None:
    if len(name) > NAME_MAX:
        raise SpecError("--job-name", f"{name!r} is {len(name)} characters; a SageMaker "
                        f"tuning job's name takes {NAME_MAX}", f"at most {NAME_MAX} characters")


def tuning_request(name: str, training: dict[str, Any], options: TuningOptions
                   ) -> tuple[dict[str, Any], list[str]]:
    """The CreateHyperParameterTuningJob request, and notes of what it could not carry."""
    check_name(name)
    assert options.objective is not None
    definition, left = definition_from(training, {r.name for r in options.ranges})
    strategy = STRATEGIES[options.strategy]
    limits: dict[str, Any] = {"MaxParallelTrainingJobs": options.max_parallel}
    if strategy != "Grid":  # a grid's size is its own
        limits["MaxNumberOfTrainingJobs"] = options.max_jobs
    config: dict[str, Any] = {
        "Strategy": strategy,
        "HyperParameterTuningJobObjective": {"Type": options.objective.type,
                                             "MetricName": options.objective.metric},
        "ResourceLimits": limits,
        "ParameterRanges": parameter_ranges(options),
        "TrainingJobEarlyStoppingType": "Auto" if options.early_stopping == "auto" else "Off",
    }
    if strategy == "Hyperband":
        config["TrainingJobEarlyStoppingType"] = "Off"  # Hyperband stops trials itself
        config["StrategyConfig"] = {"HyperbandStrategyConfig": {"MinResource": 1,
                                                                "MaxResource": 9}}
    if options.seed is not None:
        config["RandomSeed"] = options.seed
    request: dict[str, Any] = {"HyperParameterTuningJobName": name,
                               "HyperParameterTuningJobConfig": config,
                               "TrainingJobDefinition": definition}
    if options.warm_start:
        request["WarmStartConfig"] = {
            "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": p}
                                               for p in options.warm_start],
            "WarmStartType": "IdenticalDataAndAlgorithm"}
    if "Tags" in training:
        request["Tags"] = training["Tags"]
        left.remove("Tags")
    validate_request(request, "CreateHyperParameterTuningJob")
    notes = [f"not carried into the tuning job (its definition has no such field): "
             f"{', '.join(left)}"] if left else []
    return request, notes


def plan_text(request: dict[str, Any]) -> str:
    return "CreateHyperParameterTuningJob " + json.dumps(request, indent=2)


class TuningJobs:
    """A region's tuning jobs, through the backend's clients."""

    def __init__(self, aws: Any, region: str):
        self.client = aws.client("sagemaker", region)

    def create(self, request: dict[str, Any], uploaded: list[str]) -> None:
        with aws_errors("CreateHyperParameterTuningJob failed", uploaded):
            self.client.create_hyper_parameter_tuning_job(**request)

    def describe(self, name: str) -> dict[str, Any]:
        with aws_errors(f"could not describe tuning job {name}"):
            return self.client.describe_hyper_parameter_tuning_job(
                HyperParameterTuningJobName=name)

    def trials(self, name: str) -> list[dict[str, Any]]:
        """Every trial's summary, oldest first."""
        summaries: list[dict[str, Any]] = []
        request: dict[str, Any] = {"HyperParameterTuningJobName": name, "MaxResults": 100}
        with aws_errors(f"could not list the trials of tuning job {name}"):
            while True:
                page = self.client.list_training_jobs_for_hyper_parameter_tuning_job(**request)
                summaries += page.get("TrainingJobSummaries", [])
                if not page.get("NextToken"):
                    break
                request["NextToken"] = page["NextToken"]
        return sorted(summaries, key=lambda s: s.get("CreationTime") or 0)

    def stop(self, name: str) -> None:
        try:
            with aws_errors(f"could not stop tuning job {name}"):
                self.client.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        except SmNotebookError as exc:
            if "not in progress" not in str(exc).lower():
                raise
