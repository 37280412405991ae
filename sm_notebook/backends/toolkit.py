"""How an image is handed the script, in container and sagemaker mode alike (pure).

An image either runs its ``train`` (AWS's training toolkit, or a program of its own) or
is run by sm_notebook's launcher; the toolkit finds the code and the hyperparameters in
``HyperParameters`` as the V2 SDK writes them.  Both modes decide this here, so a job
runs the same way on this machine's Docker and on SageMaker.
"""

from __future__ import annotations

import json

from .. import distribution
from .. import hyperparameters as hp
from ..spec import TrainingSpec


def runs_image_train(spec: TrainingSpec, kind: str | None) -> bool:
    """Whether ``docker run IMAGE train`` runs the job: an image with a ``train`` of its own
    (bring your own: no Python needed), or AWS's toolkit under ``--hp-style v2``, as the V2
    SDK has it run.  Everything else runs through sm_notebook's launcher, as V3's
    ``ModelTrainer`` bypasses the toolkit's ``train`` with its own driver: toolkit images
    under v3, plain images, a ``--command`` and a distributed driver."""
    if spec.command is not None or distribution.is_driver(spec.distribution):
        return False
    return kind == "own" or (kind == "toolkit" and spec.hp_style == "v2")


def sagemaker_hyperparameters(spec: TrainingSpec, name: str, code: str,
                              region: str | None) -> dict[str, str]:
    """The ``HyperParameters`` of the job: under v3 the user's alone, as V3 sends them;
    under v2 JSON-encoded, plus the keys through which the toolkit finds the code
    (``code``: the S3 URI of sourcedir.tar.gz, or ``/opt/ml/code`` in a local container)."""
    if spec.hp_style == "v2" and not spec.has_code:  # V2's generic Estimator: str(), no code
        return {key: str(value) for key, value in spec.hyperparameters.items()}
    stored = hp.encode(spec.hyperparameters, spec.hp_style)
    if spec.hp_style == "v3":
        return stored
    stored.update({
        "sagemaker_program": json.dumps(spec.entry_script),
        "sagemaker_submit_directory": json.dumps(code),
        "sagemaker_region": json.dumps(region or "us-east-1"),
        "sagemaker_job_name": json.dumps(name),
        "sagemaker_container_log_level": "20",
    })
    if spec.distribution == "torchrun":
        stored["sagemaker_torch_distributed_enabled"] = "true"
        if spec.processes_per_host:
            stored["sagemaker_mpi_num_of_processes_per_host"] = str(spec.processes_per_host)
    return stored
