"""SageMaker tuning jobs as the tests need them, on moto's AWS API server.

moto creates a tuning job already ``Completed`` with a made-up best job, and has neither
``ListTrainingJobsForHyperParameterTuningJob`` nor ``StopHyperParameterTuningJob``.  Here a
tuning job is ``InProgress`` and runs its trials as the service does: each trial is a real
(moto) training job created from the job's ``TrainingJobDefinition`` with values drawn
from its ``ParameterRanges`` (seeded by ``RandomSeed``), ``MaxParallelTrainingJobs`` at a
time, completed with its objective's final value as ``score(values)`` gives it; the
counters, ``BestTrainingJob`` and the trial summaries follow, and a stop stops them.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import boto3
from moto.core.responses import ActionResult
from moto.sagemaker import models as smm
from moto.sagemaker.responses import SageMakerResponse

from tests.fakes.sagemaker_service import REGION, Service, _advance, training_jobs

TRIAL_SECONDS = 0.3


def draw(ranges: dict[str, list[dict[str, Any]]], rng: random.Random) -> dict[str, str]:
    values = {}
    for r in ranges.get("IntegerParameterRanges", []):
        values[r["Name"]] = str(rng.randint(int(r["MinValue"]), int(r["MaxValue"])))
    for r in ranges.get("ContinuousParameterRanges", []):
        values[r["Name"]] = repr(rng.uniform(float(r["MinValue"]), float(r["MaxValue"])))
    for r in ranges.get("CategoricalParameterRanges", []):
        values[r["Name"]] = rng.choice(r["Values"])
    return values


class TuningService:
    def __init__(self, service: Service, score: Callable[[dict[str, str]], float]):
        self.service, self.score = service, score
        self.summaries: dict[str, list[dict[str, Any]]] = {}
        self.threads: list[threading.Thread] = []
        self.requests: list[dict[str, Any]] = []
        self._init = smm.HyperParameterTuningJob.__init__
        tuning = self

        def init(job: Any, *args: Any, **kwargs: Any) -> None:
            tuning._init(job, *args, **kwargs)
            job.hyper_parameter_tuning_job_status = "InProgress"
            job.training_job_status_counters = {k: 0 for k in job.training_job_status_counters}
            job.best_training_job = None
            job.OverallBestTrainingJob = None
            job.stop_requested = False
            tuning.summaries[job.hyper_parameter_tuning_job_name] = []
            thread = threading.Thread(target=tuning._run, args=(job,), daemon=True)
            thread.start()
            tuning.threads.append(thread)

        def list_trials(response: Any) -> ActionResult:
            name = response._get_param("HyperParameterTuningJobName")
            return ActionResult({"TrainingJobSummaries": list(tuning.summaries.get(name, []))})

        def stop(response: Any) -> ActionResult:
            name = response._get_param("HyperParameterTuningJobName")
            job = response.sagemaker_backend.hyper_parameter_tuning_jobs[name]
            job.stop_requested = True
            job.hyper_parameter_tuning_job_status = "Stopping"
            return ActionResult({})

        smm.HyperParameterTuningJob.__init__ = init
        SageMakerResponse.list_training_jobs_for_hyper_parameter_tuning_job = list_trials
        SageMakerResponse.stop_hyper_parameter_tuning_job = stop

    def _run(self, job: Any) -> None:
        try:
            self._trials(job)
        except BaseException as exc:  # surfaced by the fixture
            self.service.errors.append(exc)

    def _trials(self, job: Any) -> None:
        config, definition = job.hyper_parameter_tuning_job_config, job.training_job_definition
        self.requests.append({"config": config, "definition": definition})
        rng = random.Random(config.get("RandomSeed"))
        limits = config["ResourceLimits"]
        total = limits.get("MaxNumberOfTrainingJobs", 4)
        parallel = limits["MaxParallelTrainingJobs"]
        objective = config["HyperParameterTuningJobObjective"]
        client = boto3.client("sagemaker", region_name=REGION)
        summaries = self.summaries[job.hyper_parameter_tuning_job_name]
        started = 0
        while started < total and not job.stop_requested:
            batch = []
            for _ in range(min(parallel, total - started)):
                started += 1
                name = (f"{job.hyper_parameter_tuning_job_name}-{started:03d}-"
                        f"{uuid.uuid4().hex[:8]}")
                values = draw(config["ParameterRanges"], rng)
                request = {k: definition[k] for k in (
                    "AlgorithmSpecification", "RoleArn", "InputDataConfig",
                    "OutputDataConfig", "ResourceConfig", "StoppingCondition",
                    "Environment") if k in definition}
                client.create_training_job(TrainingJobName=name, HyperParameters={
                    **definition.get("StaticHyperParameters", {}), **values}, **request)
                summary = {"TrainingJobName": name, "TrainingJobArn": f"arn:{name}",
                           "CreationTime": datetime.now(UTC), "TrainingJobStatus": "InProgress",
                           "TunedHyperParameters": values,
                           "TrainingStartTime": datetime.now(UTC)}
                summaries.append(summary)
                batch.append((summary, values))
                job.training_job_status_counters["InProgress"] += 1
            time.sleep(TRIAL_SECONDS)
            for summary, values in batch:
                trial = training_jobs()[summary["TrainingJobName"]]
                counters = job.training_job_status_counters
                counters["InProgress"] -= 1
                if job.stop_requested:
                    _advance(trial, "Stopped", "Stopped", "Stopped by the tuning job")
                    summary["TrainingJobStatus"] = "Stopped"
                    counters["Stopped"] += 1
                    continue
                value = self.score(values)
                trial.final_metric_data_list = [{"MetricName": objective["MetricName"],
                                                 "Value": value,
                                                 "Timestamp": datetime.now(UTC)}]
                _advance(trial, "Completed", "Completed", "Training job completed")
                summary.update(TrainingJobStatus="Completed",
                               TrainingEndTime=datetime.now(UTC),
                               FinalHyperParameterTuningJobObjectiveMetric={
                                   "MetricName": objective["MetricName"], "Value": value},
                               ObjectiveStatus="Succeeded")
                counters["Completed"] += 1
        done = [s for s in summaries if s["TrainingJobStatus"] == "Completed"]
        if done:
            pick = max if objective["Type"] == "Maximize" else min
            job.best_training_job = pick(done, key=lambda s: s[
                "FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
        job.hyper_parameter_tuning_job_status = "Stopped" if job.stop_requested else "Completed"
        job.hyper_parameter_tuning_end_time = datetime.now(UTC)

    def restore(self) -> None:
        for thread in self.threads:
            thread.join(timeout=60)
        smm.HyperParameterTuningJob.__init__ = self._init
        del SageMakerResponse.list_training_jobs_for_hyper_parameter_tuning_job
        del SageMakerResponse.stop_hyper_parameter_tuning_job
