"""A JumpStart model as the source of a training job (``--jumpstart MODEL_ID[@VERSION]``).

The model's hub document (``DescribeHubContent``'s ``HubContentDocument``) says how it
trains; :func:`resolve` turns it into the spec's image, code, hyperparameters, instance
type, metrics and channels as V3's ``ModelTrainer.from_jumpstart_config`` does: the
instance family's variant image (else ``TrainingEcrUri``), the training script tarball
with ``transfer_learning.py`` as its entry (the cell, when there is one, replaces it),
default hyperparameters then the variant's then the user's with every ``sagemaker_*``
key dropped, a ``model`` channel from the artifact and the default dataset as
``training``.  What the user gave always wins.

Pure: the hub is asked by ``backends/sagemaker/hub.py``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .errors import SpecError
from .spec import (
    DEFAULT_ENTRY_SCRIPT,
    JUMPSTART_EXPECTED,
    JUMPSTART_RE,
    Channel,
    MetricDefinition,
    TrainingSpec,
)

PUBLIC_HUB = "SageMakerPublicHub"
ENTRY_SCRIPT = "transfer_learning.py"  # V3's DEFAULT_TRAINING_ENTRY_POINT
MODEL_CHANNEL = "model"
DATASET_CHANNEL = "training"  # where V3 puts the default dataset (JumpStart's scripts read it)
TRAIN_CHANNELS = ("train", "training")  # either is the user's own training data
MODEL_CONTENT_TYPE = "application/x-sagemaker-model"
TAG_ID, TAG_VERSION = "sagemaker-sdk:jumpstart-model-id", "sagemaker-sdk:jumpstart-model-version"


def split_id(text: str) -> tuple[str, str | None]:
    """``MODEL_ID[@VERSION]`` → (id, version or None: the latest)."""
    if not JUMPSTART_RE.match(text):
        raise SpecError("--jumpstart", f"invalid model id {text!r}", JUMPSTART_EXPECTED)
    model_id, _, version = text.partition("@")
    return model_id, version or None


@dataclass(frozen=True)
class HubModel:
    """A model's hub content: what ``DescribeHubContent`` answered."""

    name: str
    version: str
    hub: str
    document: dict[str, Any]
    content_type: str = "Model"
    arn: str = ""
    display_name: str = ""
    keywords: tuple[str, ...] = ()


@dataclass
class Resolution:
    """The spec a model gives, and what was taken from the model, a line each."""

    spec: TrainingSpec
    taken: list[str] = field(default_factory=list)


def _value(kind: str | None, value: Any) -> Any:
    """A document default given as text, as its declared type (a number stays as it is)."""
    if not isinstance(value, str):
        return value
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
    except (TypeError, ValueError):
        return value
    if kind == "bool" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def variant_of(document: dict[str, Any], instance_type: str) -> dict[str, Any]:
    """The instance family's variant properties (``p3`` of ``ml.p3.2xlarge``), else the
    instance type's own, else none."""
    variants = (document.get("TrainingInstanceTypeVariants") or {}).get("Variants") or {}
    parts = instance_type.split(".")
    family = parts[1] if len(parts) > 2 else instance_type
    chosen = variants.get(family) or variants.get(instance_type) or {}
    return chosen.get("Properties") or {}


def default_hyperparameters(document: dict[str, Any], variant: dict[str, Any]
                            ) -> dict[str, Any]:
    """The document's defaults, then the variant's, without V2's ``sagemaker_*`` keys."""
    values = {h["Name"]: _value(h.get("Type"), h.get("Default"))
              for h in document.get("Hyperparameters") or [] if "Name" in h}
    values.update({h["name"]: _value(h.get("type"), h.get("default"))
                   for h in variant.get("Hyperparameters") or [] if "name" in h})
    return {k: v for k, v in values.items() if not k.startswith("sagemaker_")}


def check_trainable(model: HubModel, spec: TrainingSpec) -> str:
    """The instance type the job trains on; ``SpecError`` for a model that cannot train,
    a gated one without ``--accept-eula``, or an instance type it does not support."""
    doc, label = model.document, f"{model.name}@{model.version}"
    if not doc.get("TrainingSupported"):
        raise SpecError("--jumpstart", f"{label} does not support training (it can only be "
                        "deployed)", "a model with training support: %sm_jumpstart lists "
                        "each model's training instances")
    if doc.get("GatedBucket") and not spec.accept_eula:
        raise SpecError("--accept-eula", f"{label} is a gated model: its end-user license "
                        "must be accepted to train it", "--accept-eula, once you have read "
                        "and accepted the model's license")
    supported = list(doc.get("SupportedTrainingInstanceTypes") or [])
    instance = spec.instance_type or doc.get("DefaultTrainingInstanceType") or \
        spec.effective_instance_type
    if supported and instance.startswith("ml.") and instance not in supported:
        raise SpecError("--instance-type", f"{label} does not train on {instance}",
                        f"one of {', '.join(supported)}")
    return instance


def resolve(spec: TrainingSpec, model: HubModel, takes_network_isolation: bool
            ) -> Resolution:
    """The spec ``model`` gives under what the user set (see the module docstring)."""
    doc = model.document
    instance = check_trainable(model, spec)
    variant = variant_of(doc, instance)
    taken: list[str] = []
    changes: dict[str, Any] = {"instance_type": instance if instance.startswith("ml.")
                               else spec.instance_type}
    if spec.instance_type is None and instance.startswith("ml."):
        taken.append(f"instance type {instance} (the model's default)")
    changes.update(_image_and_code(spec, model, variant, taken))
    changes["hyperparameters"] = {**default_hyperparameters(doc, variant),
                                  **spec.hyperparameters}
    given = {m.name for m in spec.metrics}
    changes["metrics"] = [*spec.metrics, *(MetricDefinition(m["Name"], m["Regex"])
                                           for m in doc.get("TrainingMetrics") or []
                                           if m.get("Name") not in given)]
    changes["channels"] = _channels(spec, doc, variant, taken)
    changes["environment"] = {**(variant.get("EnvironmentVariables") or {}),
                              **spec.environment}
    if spec.max_run is None and doc.get("MaxRuntimeInSeconds"):
        changes["max_run"] = int(doc["MaxRuntimeInSeconds"])
    if spec.volume_gb is None and doc.get("TrainingVolumeSize"):
        changes["volume_gb"] = int(doc["TrainingVolumeSize"])
    if takes_network_isolation and doc.get("TrainingEnableNetworkIsolation"):
        changes["network_isolation"] = True
    if spec.job_name is None and spec.base_job_name is None:
        changes["base_job_name"] = f"{model.name}-job"
    changes["tags"] = {**spec.tags, TAG_ID: model.name, TAG_VERSION: model.version}
    changes["jumpstart"] = f"{model.name}@{model.version}"  # the version it resolved to
    return Resolution(dataclasses.replace(spec, **changes), taken)


def _image_and_code(spec: TrainingSpec, model: HubModel, variant: dict[str, Any],
                    taken: list[str]) -> dict[str, Any]:
    """The variant's image (else ``TrainingEcrUri``) and the training script tarball with
    its entry script, where the user gave neither."""
    doc, changes = model.document, {}
    if spec.image is None:
        changes["image"] = variant.get("ImageUri") or doc.get("TrainingEcrUri")
        if not changes["image"]:
            raise SpecError("--image", f"{model.name} names no training image", "--image URI")
        taken.append(f"image {changes['image']}")
    if spec.source_dir is None:
        script = doc.get("TrainingScriptUri")
        if not script:
            raise SpecError("--jumpstart", f"{model.name} has no training script",
                            "--source-dir DIR with --entry-script NAME")
        changes["source_dir"] = script
        if spec.entry_script == DEFAULT_ENTRY_SCRIPT:
            changes["entry_script"] = ENTRY_SCRIPT
        taken.append(f"code {script} ({changes.get('entry_script', spec.entry_script)}"
                     + (", replaced by the cell)" if spec.has_script else ")"))
    return changes


def _channels(spec: TrainingSpec, doc: dict[str, Any], variant: dict[str, Any],
              taken: list[str]) -> list[Channel]:
    """The user's channels, then the model's artifact as ``model`` and the default
    dataset as ``training`` where the user gave none of their own."""
    channels, names = list(spec.channels), {c.name for c in spec.channels}
    artifact = variant.get("GatedModelEnvVarUri") or variant.get("TrainingArtifactUri") or \
        doc.get("TrainingArtifactUri")
    if artifact and MODEL_CHANNEL not in names:
        channels.append(Channel(MODEL_CHANNEL, artifact, MODEL_CONTENT_TYPE))
        taken.append(f"channel {MODEL_CHANNEL} ← {artifact}")
    dataset = doc.get("DefaultTrainingDatasetUri")
    if dataset and not names & set(TRAIN_CHANNELS):
        channels.append(Channel(DATASET_CHANNEL, dataset))
        taken.append(f"channel {DATASET_CHANNEL} ← {dataset} (the default dataset; "
                     "--input train=... for yours)")
    return channels
