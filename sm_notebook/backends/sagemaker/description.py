"""What SageMaker says of a job, in sm_notebook's terms: DescribeTrainingJob → the
fields ``state.json`` keeps and a spec; a ListTrainingJobs summary → a ``%sm_jobs`` row;
and the service's list of training instance types, checked before anything is uploaded.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from ...clock import utc_now_iso
from ...errors import SpecError
from ...events import TERMINAL
from ...spec import TrainingSpec


def spec_from_description(job: dict[str, Any]) -> TrainingSpec:
    """What sm_notebook can tell of a job from DescribeTrainingJob (for display and
    ``job.spec``; such a job is never launched again from this spec)."""
    hyperparameters: dict[str, Any] = {}
    for key, value in (job.get("HyperParameters") or {}).items():
        if key.startswith("sagemaker_"):
            continue
        try:
            hyperparameters[key] = json.loads(value)
        except ValueError:
            hyperparameters[key] = value
    entry = (job.get("HyperParameters") or {}).get("sagemaker_program", '"train.py"')
    resource = job.get("ResourceConfig") or {}
    algorithm = job.get("AlgorithmSpecification") or {}
    return TrainingSpec(
        cell="", mode="sagemaker", image=algorithm.get("TrainingImage"),
        entry_script=entry.strip('"') or "train.py",
        instance_type=resource.get("InstanceType"),
        instance_count=resource.get("InstanceCount", 1), hyperparameters=hyperparameters,
        job_name=job["TrainingJobName"], role=job.get("RoleArn"),
        region=job["TrainingJobArn"].split(":")[3])


def state_from(job: dict[str, Any]) -> dict[str, Any]:
    """DescribeTrainingJob → the fields ``state.json`` keeps."""
    transitions = [{key: (value.isoformat() if hasattr(value, "isoformat") else value)
                    for key, value in t.items()}
                   for t in job.get("SecondaryStatusTransitions", [])]
    state: dict[str, Any] = {
        "arn": job["TrainingJobArn"], "status": job["TrainingJobStatus"],
        "secondary_status": job.get("SecondaryStatus", ""),
        "message": transitions[-1].get("StatusMessage", "") if transitions else "",
        "transitions": transitions, "failure_reason": job.get("FailureReason"),
        "billable_seconds": job.get("BillableTimeInSeconds"),
        "training_seconds": job.get("TrainingTimeInSeconds"),
        "instance_type": (job.get("ResourceConfig") or {}).get("InstanceType"),
        "instance_count": (job.get("ResourceConfig") or {}).get("InstanceCount"),
        "final_metrics": [{"metric": m["MetricName"], "value": m["Value"]}
                          for m in job.get("FinalMetricDataList", [])]}
    if job.get("LastModifiedTime"):
        state["last_modified"] = job["LastModifiedTime"].isoformat()
    if job.get("TrainingStartTime"):  # billing starts here
        state["training_start"] = job["TrainingStartTime"].isoformat()
    if job["TrainingJobStatus"] in TERMINAL:
        end = job.get("TrainingEndTime") or job.get("LastModifiedTime")
        state["ended"] = end.isoformat() if end else utc_now_iso()
        artifacts = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
        if artifacts:
            state["model_artifacts"] = artifacts
    return state


def job_row(summary: dict[str, Any]) -> dict[str, Any]:
    """One ListTrainingJobs summary as a ``%sm_jobs`` row."""
    end = summary.get("TrainingEndTime")
    return {"name": summary["TrainingJobName"], "mode": "sagemaker",
            "status": summary["TrainingJobStatus"],
            "secondary_status": summary.get("SecondaryStatus"),
            "created": summary["CreationTime"].isoformat(),
            "ended": end.isoformat() if end else None}


def check_instance_type(instance_type: str) -> None:
    """Against botocore's list of training instance types, before anything is uploaded."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    valid = model.shape_for("TrainingInstanceType").enum
    if instance_type not in valid:
        close = difflib.get_close_matches(instance_type, valid, n=3)
        raise SpecError("--instance-type", f"{instance_type} is not a SageMaker training "
                        "instance type", " or ".join(close) if close else "ml.m5.xlarge, "
                        "ml.g5.xlarge, ... (aws sagemaker's TrainingInstanceType)")
