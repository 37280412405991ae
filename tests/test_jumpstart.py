"""A JumpStart model's hub document → the job's spec, field by field, as V3's
``ModelTrainer.from_jumpstart_config`` resolves it, what the user gave always winning."""

from __future__ import annotations

import pytest

from sm_notebook.errors import SpecError
from sm_notebook.jumpstart import HubModel, resolve
from sm_notebook.spec import Channel, MetricDefinition, TrainingSpec
from tests.fakes.hub_service import CACHE, CPU_IMAGE, GPU_IMAGE, training_document

MODEL = "xgboost-classification-model"


def model(**overrides) -> HubModel:
    return HubModel(MODEL, "2.1.0", "SageMakerPublicHub", training_document(**overrides))


def resolved(**fields) -> tuple[TrainingSpec, list[str]]:
    spec = TrainingSpec(mode="sagemaker", jumpstart=MODEL, **fields)
    result = resolve(spec, model(), takes_network_isolation=True)
    return result.spec, result.taken


def test_every_field_comes_from_the_document_when_none_is_given():
    spec, taken = resolved()
    assert spec.instance_type == "ml.m5.xlarge"  # DefaultTrainingInstanceType
    assert spec.image == CPU_IMAGE  # the m5 variant's
    assert spec.source_dir == (f"{CACHE}/source-directory-tarballs/xgboost/transfer_learning/"
                               "classification/v1.1.0/sourcedir.tar.gz")
    assert spec.entry_script == "transfer_learning.py"
    assert spec.hyperparameters == {  # typed, and no sagemaker_* key
        "num_boost_round": 5000, "early_stopping_rounds": 30, "learning_rate": 0.3,
        "gamma": 0, "max_depth": 6, "subsample": 1, "tree_method": "auto",
        "use_dask_gpu_training": "False"}
    assert spec.metrics == [MetricDefinition("xgboost:validation-auc",
                                             "validation-auc:([0-9\\.]+)")]
    assert spec.channels == [
        Channel("model", f"{CACHE}/xgboost-training/train-xgboost-classification-model.tar.gz",
                "application/x-sagemaker-model"),
        Channel("training", f"{CACHE}/training-datasets/tabular_binary/")]
    assert (spec.max_run, spec.volume_gb, spec.base_job_name) == (
        360000, 30, f"{MODEL}-job")
    assert spec.tags == {"sagemaker-sdk:jumpstart-model-id": MODEL,
                         "sagemaker-sdk:jumpstart-model-version": "2.1.0"}
    assert spec.jumpstart == f"{MODEL}@2.1.0"
    assert taken[0] == "instance type ml.m5.xlarge (the model's default)"
    spec.validate()  # what a model gives is a valid spec


def test_the_instance_familys_variant_gives_its_image_and_hyperparameters():
    spec, _ = resolved(instance_type="ml.p3.2xlarge")
    assert spec.image == GPU_IMAGE
    assert spec.hyperparameters["tree_method"] == "gpu_hist"


def test_what_the_user_gives_wins_over_the_document():
    spec, _ = resolved(image="my-image:1", hyperparameters={"max_depth": 3, "extra": "x"},
                       channels=[Channel("train", "s3://mine/train/")], max_run=600,
                       metrics=[MetricDefinition("xgboost:validation-auc", "auc=([0-9.]+)")],
                       base_job_name="mine", cell="print('mine')\n")
    assert spec.image == "my-image:1"
    assert (spec.hyperparameters["max_depth"], spec.hyperparameters["extra"]) == (3, "x")
    assert [c.name for c in spec.channels] == ["train", "model"]  # no default dataset
    assert spec.metrics == [MetricDefinition("xgboost:validation-auc", "auc=([0-9.]+)")]
    assert (spec.max_run, spec.base_job_name) == (600, "mine")
    assert spec.entry_script == "transfer_learning.py"  # the cell replaces the model's


@pytest.mark.parametrize(("fields", "document", "option", "message"), [
    ({"instance_type": "ml.g5.48xlarge"}, {}, "--instance-type",
     f"{MODEL}@2.1.0 does not train on ml.g5.48xlarge (expected one of ml.m5.large, "
     "ml.m5.xlarge, ml.c5.2xlarge, ml.p3.2xlarge)"),
    ({}, {"TrainingSupported": False}, "--jumpstart",
     f"{MODEL}@2.1.0 does not support training (it can only be deployed)"),
    ({}, {"GatedBucket": True}, "--accept-eula",
     f"{MODEL}@2.1.0 is a gated model: its end-user license must be accepted to train it"),
], ids=["unsupported-instance", "no-training", "gated"])
def test_a_model_that_cannot_train_this_way_is_one_error(fields, document, option, message):
    spec = TrainingSpec(mode="sagemaker", jumpstart=MODEL, **fields)
    with pytest.raises(SpecError) as caught:
        resolve(spec, model(**document), takes_network_isolation=True)
    assert caught.value.option == option
    assert str(caught.value).startswith(f"{option}: {message}")


def test_a_gated_model_trains_once_its_license_is_accepted():
    spec = TrainingSpec(mode="sagemaker", jumpstart=MODEL, accept_eula=True)
    assert resolve(spec, model(GatedBucket=True), True).spec.accept_eula


def test_jumpstart_options_are_checked_before_any_hub_is_asked():
    for fields, option in [(dict(jumpstart="bad id!"), "--jumpstart"),
                           (dict(hub="private"), "--hub"),
                           (dict(accept_eula=True), "--accept-eula"),
                           (dict(mode="local", jumpstart=MODEL), "--jumpstart")]:
        with pytest.raises(SpecError) as caught:
            TrainingSpec(cell="print(1)\n", **fields).validate()
        assert caught.value.option == option
